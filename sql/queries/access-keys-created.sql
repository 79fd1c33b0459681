-- name: access-keys-created
-- description: Access keys created (successful CreateAccessKey), with the
--   user the key is for and the new key's id, oldest first.
--   for_another_user is true when the caller is not that user.
SELECT event_time,
       account,
       coalesce(user_identity_arn, session_issuer_arn, user_identity_principal_id) AS principal,
       coalesce(json_extract_string(response_elements, '$.accessKey.userName'),
                json_extract_string(request_parameters, '$.userName'),
                user_identity_user_name) AS user_name,
       json_extract_string(response_elements, '$.accessKey.accessKeyId') AS access_key_id,
       json_extract_string(response_elements, '$.accessKey.status') AS status,
       coalesce(json_extract_string(response_elements, '$.accessKey.userName'),
                json_extract_string(request_parameters, '$.userName'),
                user_identity_user_name) IS DISTINCT FROM user_identity_user_name AS for_another_user,
       source_ip_address,
       event_id
FROM events
WHERE event_source = 'iam.amazonaws.com'
  AND event_name = 'CreateAccessKey'
  AND error_code IS NULL
ORDER BY event_time, event_id
