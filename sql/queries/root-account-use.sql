-- name: root-account-use
-- description: Every call made with the root user's credentials, newest first
--   (console sign-ins included). AWS advises against any use of root.
SELECT event_time, account, aws_region, event_source, event_name, source_ip_address,
       user_agent, error_code, event_id
FROM events
WHERE user_identity_type = 'Root'
ORDER BY event_time DESC, event_id
