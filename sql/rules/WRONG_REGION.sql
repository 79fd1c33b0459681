-- type: WRONG_REGION
-- title: EC2 instance in illegal region
-- severity: 1
-- priority: 2
-- sources: ec2.amazonaws.com, lambda.amazonaws.com
-- events: RunInstances, CreateFunction*
-- help: An EC2 instance was launched, or a Lambda function was created, in an
--   AWS region that is not on the list of allowed regions. Move the workload
--   to an allowed region and remove the resource, or ask for the region to
--   be allowed.
--
-- EC2: one violation per launched instance (responseElements.instancesSet),
-- account = userIdentity.accountId else the session issuer's account.
-- Lambda: one violation per CreateFunction call, instance = the function
-- ARN, account = userIdentity.accountId else recipientAccountId.
WITH run_instances AS (
    SELECT event_id, user_identity_account_id, session_issuer_account_id, aws_region,
           user_identity_arn, response_elements, event_time, object_key
    FROM events
    WHERE event_source = 'ec2.amazonaws.com'
      AND event_name = 'RunInstances'
      AND aws_region IS NOT NULL
      AND aws_region NOT IN (SELECT a.region FROM allowed_regions AS a)
),
create_function AS (
    SELECT event_id, user_identity_account_id, recipient_account_id, aws_region,
           user_identity_arn, response_elements, event_time, object_key
    FROM events
    WHERE event_source = 'lambda.amazonaws.com'
      AND regexp_full_match(event_name, 'CreateFunction([0-9].*)?')
      AND aws_region IS NOT NULL
      AND aws_region NOT IN (SELECT a.region FROM allowed_regions AS a)
),
allowed AS (
    SELECT to_json(coalesce(list(region ORDER BY region), [])) AS regions
    FROM allowed_regions
)
SELECT r.event_id,
       coalesce(nullif(r.user_identity_account_id, ''), r.session_issuer_account_id) AS account_id,
       r.aws_region AS region,
       json_extract_string(i.item, '$.instanceId') AS instance_id,
       r.user_identity_arn AS username,
       json_object('allowed_regions', a.regions)::VARCHAR AS meta_info,
       r.event_time,
       r.object_key
FROM run_instances AS r
CROSS JOIN allowed AS a
CROSS JOIN unnest(json_extract(r.response_elements, '$.instancesSet.items[*]')) AS i(item)
UNION ALL
SELECT f.event_id,
       coalesce(nullif(f.user_identity_account_id, ''), f.recipient_account_id) AS account_id,
       f.aws_region AS region,
       json_extract_string(f.response_elements, '$.functionArn') AS instance_id,
       f.user_identity_arn AS username,
       json_object('function_name',
                   coalesce(json_extract_string(f.response_elements, '$.functionName'), ''))::VARCHAR AS meta_info,
       f.event_time,
       f.object_key
FROM create_function AS f
