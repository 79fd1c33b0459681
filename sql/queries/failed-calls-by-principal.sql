-- name: failed-calls-by-principal
-- description: Calls refused for lack of permission (AccessDenied,
--   AccessDeniedException, UnauthorizedOperation, Client.UnauthorizedOperation,
--   Forbidden, NotAuthorized …), counted by principal, call and error code,
--   most refusals first. Many refusals by one principal suggest stolen
--   credentials being tried out.
SELECT account,
       coalesce(user_identity_arn, session_issuer_arn, user_identity_invoked_by, user_identity_principal_id) AS principal,
       event_source,
       event_name,
       error_code,
       count(*) AS failures,
       min(event_time) AS first_seen,
       max(event_time) AS last_seen,
       string_agg(DISTINCT source_ip_address, ' ' ORDER BY source_ip_address) AS source_ip_addresses
FROM events
WHERE regexp_matches(error_code, '^(Client\.)?(AccessDenied|Unauthorized|Forbidden|NotAuthorized|AuthorizationError)')
GROUP BY ALL
ORDER BY failures DESC, account, principal, event_source, event_name, error_code
