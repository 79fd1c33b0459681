-- type: MODIFIED_ROLE_OR_SERVICE
-- title: Possible privilege escalation
-- severity: 1
-- priority: 2
-- sources: iam.amazonaws.com
-- events: CreateRole, DeleteRole, AttachRolePolicy, UpdateAssumeRolePolicy, PutRolePolicy
-- lookups: protected_roles
-- help: A protected IAM role (one with a policy template) was changed away
--   from its template by someone other than an admin role: a policy was
--   attached, its inline policies changed, or its main policy document
--   differs. Restore the role to its template; the diffs in the violation
--   show what changed.
--
-- One violation per such event (no instance id), account =
-- userIdentity.accountId else recipientAccountId; meta: role_name,
-- error_messages, the policy names, and the RFC 6902 diffs both ways (§4.11).
SELECT e.event_id,
       coalesce(nullif(e.user_identity_account_id, ''), e.recipient_account_id) AS account_id,
       e.aws_region AS region,
       NULL::VARCHAR AS instance_id,
       e.user_identity_arn AS username,
       p.answer::VARCHAR AS meta_info,
       e.event_time,
       e.object_key
FROM events AS e
JOIN protected_roles AS p
  ON p.account_id = coalesce(nullif(e.user_identity_account_id, ''), e.recipient_account_id)
 AND p.role_name = json_extract_string(e.request_parameters, '$.roleName')
 AND p.event_name = e.event_name
 AND p.issuer = coalesce(e.session_issuer_user_name, '')
WHERE e.event_source = 'iam.amazonaws.com'
  AND p.found
