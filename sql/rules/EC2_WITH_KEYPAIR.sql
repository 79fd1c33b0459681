-- type: EC2_WITH_KEYPAIR
-- title: EC2 SSH Keypair used
-- severity: 0
-- priority: 4
-- sources: ec2.amazonaws.com
-- events: RunInstances
-- help: An EC2 instance was launched with an SSH key pair. Log in through the
--   bastion host with short-lived credentials instead, and launch instances
--   without a key pair.
--
-- One violation per launched instance (responseElements.instancesSet) whose
-- keyName is not blank; account = userIdentity.accountId else the session
-- issuer's account. The AMI owner and name need an AMI lookup and stay empty.
WITH run_instances AS (
    SELECT event_id, user_identity_account_id, session_issuer_account_id, aws_region,
           user_identity_arn, response_elements, event_time, object_key
    FROM events
    WHERE event_source = 'ec2.amazonaws.com'
      AND event_name = 'RunInstances'
),
instances AS (
    SELECT r.event_id, r.user_identity_account_id, r.session_issuer_account_id, r.aws_region,
           r.user_identity_arn, r.event_time, r.object_key,
           json_extract_string(i.item, '$.instanceId') AS instance_id,
           json_extract_string(i.item, '$.keyName') AS key_name,
           json_extract_string(i.item, '$.imageId') AS image_id
    FROM run_instances AS r
    CROSS JOIN unnest(json_extract(r.response_elements, '$.instancesSet.items[*]')) AS i(item)
)
SELECT event_id,
       coalesce(nullif(user_identity_account_id, ''), session_issuer_account_id) AS account_id,
       aws_region AS region,
       instance_id,
       user_identity_arn AS username,
       json_object('key_name', key_name,
                   'ami_owner_id', '',
                   'ami_id', coalesce(image_id, ''),
                   'ami_name', '')::VARCHAR AS meta_info,
       event_time,
       object_key
FROM instances
WHERE trim(key_name) <> ''
