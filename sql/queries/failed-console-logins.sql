-- name: failed-console-logins
-- description: Failed console sign-ins (responseElements.ConsoleLogin =
--   Failure, or an error code), oldest first. For an unknown user name
--   CloudTrail hides the name (HIDDEN_DUE_TO_SECURITY_REASONS).
SELECT event_time,
       account,
       aws_region,
       coalesce(user_identity_arn, user_identity_user_name, user_identity_principal_id) AS principal,
       user_identity_type,
       source_ip_address,
       user_agent,
       json_extract_string(additional_event_data, '$.MFAUsed') AS mfa_used,
       coalesce(error_message, error_code) AS error,
       event_id
FROM events
WHERE event_source = 'signin.amazonaws.com'
  AND event_name = 'ConsoleLogin'
  AND (json_extract_string(response_elements, '$.ConsoleLogin') = 'Failure'
       OR error_code IS NOT NULL)
ORDER BY event_time, event_id
