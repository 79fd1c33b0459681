-- table: protected_roles
-- lookup: iam.protected_role
-- help: The check of each IAM role event that may change a protected role
--   (CreateRole, DeleteRole, AttachRolePolicy, UpdateAssumeRolePolicy,
--   PutRolePolicy): whether the event is about a role with a template in
--   S3 and its caller is not an admin role, and then how the role's
--   policies in IAM now differ from the template. Keys: account, role name,
--   event name, the session issuer's user name (blank when there is none).
--   The answer is the violation's meta; not found when there is nothing to
--   report.
SELECT DISTINCT object_key,
       coalesce(nullif(user_identity_account_id, ''), recipient_account_id) AS account_id,
       json_extract_string(request_parameters, '$.roleName') AS role_name,
       event_name,
       coalesce(session_issuer_user_name, '') AS issuer
FROM events
WHERE event_source = 'iam.amazonaws.com'
  AND event_name IN ('CreateRole', 'DeleteRole', 'AttachRolePolicy', 'UpdateAssumeRolePolicy', 'PutRolePolicy')
