-- name: kms-key-deletions
-- description: KMS keys scheduled for deletion or disabled, and imported key
--   material deleted, failed attempts included (see error_code), oldest
--   first. Data encrypted under a deleted key is lost for good.
--
-- pending_window_days is the waiting period asked for (30 when not given);
-- deletion_date is when AWS will delete the key.
SELECT event_time,
       account,
       aws_region,
       coalesce(user_identity_arn, session_issuer_arn, user_identity_invoked_by, user_identity_principal_id) AS principal,
       event_name,
       coalesce(json_extract_string(response_elements, '$.keyId'),
                json_extract_string(request_parameters, '$.keyId')) AS key_id,
       CASE WHEN event_name = 'ScheduleKeyDeletion'
            THEN coalesce(TRY_CAST(json_extract_string(request_parameters, '$.pendingWindowInDays') AS INTEGER), 30)
       END AS pending_window_days,
       json_extract_string(response_elements, '$.deletionDate') AS deletion_date,
       source_ip_address,
       error_code,
       event_id
FROM events
WHERE event_source = 'kms.amazonaws.com'
  AND event_name IN ('ScheduleKeyDeletion', 'DisableKey', 'DeleteImportedKeyMaterial')
ORDER BY event_time, event_id
