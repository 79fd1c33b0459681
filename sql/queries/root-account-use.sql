-- name: root-account-use
-- description: Every call made with the root user's credentials, oldest first
--   (console sign-ins and failed calls included; calls AWS services make on
--   the root user's behalf left out). AWS advises against any use of root.
--
-- CIS AWS Foundations 1.7 / 4.3: userIdentity.type = Root, no invokedBy,
-- not an AwsServiceEvent.
SELECT event_time,
       account,
       aws_region,
       user_identity_arn AS principal,
       event_source,
       event_name,
       source_ip_address,
       user_agent,
       mfa_authenticated,
       error_code,
       event_id
FROM events
WHERE user_identity_type = 'Root'
  AND user_identity_invoked_by IS NULL
  AND event_type IS DISTINCT FROM 'AwsServiceEvent'
ORDER BY event_time, event_id
