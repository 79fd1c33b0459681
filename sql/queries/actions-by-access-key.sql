-- name: actions-by-access-key
-- description: Every call made with one access key, oldest first: a
--   long-term key (AKIA…) or the temporary credentials of a session (ASIA…).
-- param: access_key_id: the access key id (AKIA… or ASIA…)
SELECT event_time,
       account,
       aws_region,
       coalesce(user_identity_arn, session_issuer_arn, user_identity_principal_id) AS principal,
       user_identity_type,
       event_source,
       event_name,
       source_ip_address,
       user_agent,
       error_code,
       event_id
FROM events
WHERE user_identity_access_key_id = $access_key_id
ORDER BY event_time, event_id
