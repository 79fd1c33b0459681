-- name: actions-by-principal
-- description: Every call made by one principal, oldest first: an IAM user,
--   a role (every session of it) or one role session.
-- param: principal: an ARN (user, role or assumed-role session), a user or role name, or a principal id (AIDA… or AROA…)
--
-- The principal matches userIdentity.arn, userIdentity.userName, the session
-- issuer's userName or arn (the role of an assumed-role session), or
-- userIdentity.principalId, whole or its part before ':' (AROA… of
-- "AROA…:session-name").
SELECT event_time,
       account,
       aws_region,
       coalesce(user_identity_arn, session_issuer_arn, user_identity_invoked_by, user_identity_principal_id) AS principal,
       user_identity_type,
       user_identity_access_key_id AS access_key_id,
       event_source,
       event_name,
       source_ip_address,
       user_agent,
       error_code,
       event_id
FROM events
WHERE user_identity_arn = $principal
   OR user_identity_user_name = $principal
   OR session_issuer_user_name = $principal
   OR session_issuer_arn = $principal
   OR user_identity_principal_id = $principal
   OR split_part(user_identity_principal_id, ':', 1) = $principal
ORDER BY event_time, event_id
