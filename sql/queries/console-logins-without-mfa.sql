-- name: console-logins-without-mfa
-- description: Successful console sign-ins without MFA
--   (additionalEventData.MFAUsed = No), oldest first. Sign-ins of federated
--   and SSO users (user_identity_type AssumedRole) do their MFA at the
--   identity provider and show MFAUsed = No too.
SELECT event_time,
       account,
       aws_region,
       coalesce(user_identity_arn, user_identity_principal_id, user_identity_user_name) AS principal,
       user_identity_type,
       source_ip_address,
       user_agent,
       json_extract_string(additional_event_data, '$.LoginTo') AS login_to,
       event_id
FROM events
WHERE event_source = 'signin.amazonaws.com'
  AND event_name = 'ConsoleLogin'
  AND json_extract_string(additional_event_data, '$.MFAUsed') = 'No'
  AND json_extract_string(response_elements, '$.ConsoleLogin') = 'Success'
  AND error_code IS NULL
ORDER BY event_time, event_id
