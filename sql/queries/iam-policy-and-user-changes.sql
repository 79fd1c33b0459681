-- name: iam-policy-and-user-changes
-- description: Every IAM call that changes users, groups, roles, policies,
--   login profiles, access keys, MFA devices, instance profiles or identity
--   providers, failed attempts included (see error_code), oldest first.
--
-- The write calls of iam.amazonaws.com by the verb their name starts with
-- (Get, List, Simulate and Generate calls only read). target names what the
-- call changed, from requestParameters: user:, group:, role:, policy:
-- (its ARN, else its name), instance-profile:, provider: (a SAML or OIDC
-- identity provider's ARN; its name or URL when it is created).
SELECT event_time,
       account,
       coalesce(user_identity_arn, session_issuer_arn, user_identity_invoked_by, user_identity_principal_id) AS principal,
       event_name,
       concat_ws(' ',
           'user:' || json_extract_string(request_parameters, '$.userName'),
           'group:' || json_extract_string(request_parameters, '$.groupName'),
           'role:' || json_extract_string(request_parameters, '$.roleName'),
           'policy:' || coalesce(json_extract_string(request_parameters, '$.policyArn'),
                                 json_extract_string(request_parameters, '$.policyName')),
           'instance-profile:' || json_extract_string(request_parameters, '$.instanceProfileName'),
           'provider:' || coalesce(json_extract_string(request_parameters, '$.sAMLProviderArn'),
                                   json_extract_string(request_parameters, '$.openIDConnectProviderArn'),
                                   CASE event_name
                                       WHEN 'CreateSAMLProvider' THEN json_extract_string(request_parameters, '$.name')
                                       WHEN 'CreateOpenIDConnectProvider' THEN json_extract_string(request_parameters, '$.url')
                                   END)) AS target,
       source_ip_address,
       error_code,
       event_id
FROM events
WHERE event_source = 'iam.amazonaws.com'
  AND regexp_matches(event_name, '^(Add|Attach|Change|Create|Deactivate|Delete|Detach|Enable|Put|Remove|Reset|Resync|Set|Tag|Untag|Update|Upload)')
ORDER BY event_time, event_id
