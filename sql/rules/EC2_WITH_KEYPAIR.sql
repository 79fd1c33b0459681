-- type: EC2_WITH_KEYPAIR
-- title: EC2 SSH Keypair used
-- severity: 0
-- priority: 4
-- sources: ec2.amazonaws.com
-- events: RunInstances
-- lookups: instances?, images?, user_data?
-- help: An EC2 instance was launched with an SSH key pair. Log in through the
--   bastion host with short-lived credentials instead, and launch instances
--   without a key pair.
--
-- One violation per launched instance (responseElements.instancesSet) whose
-- keyName is not blank; account = userIdentity.accountId else the session
-- issuer's account. The AMI's owner and name come from the images lookup
-- when it is configured, else they are "" (§4.2).
SELECT i.event_id,
       i.account_id,
       i.region,
       i.instance_id,
       i.username,
       json_object('key_name', i.key_name,
                   'ami_owner_id', coalesce(json_extract_string(m.answer, '$.owner_id'), ''),
                   'ami_id', coalesce(i.item_image_id, json_extract_string(n.answer, '$.image_id'), ''),
                   'ami_name', coalesce(json_extract_string(m.answer, '$.name'), ''))::VARCHAR AS meta_info,
       i.event_time,
       i.object_key,
       json_extract_string(u.answer, '$.application_id') AS application_id,
       json_extract_string(u.answer, '$.application_version') AS application_version
FROM ec2_instance_items AS i
LEFT JOIN instances AS n
       ON n.account_id = i.account_id AND n.region = i.region AND n.instance_id = i.instance_id
LEFT JOIN images AS m
       ON m.account_id = i.account_id AND m.region = i.region
      AND m.image_id = coalesce(i.item_image_id, json_extract_string(n.answer, '$.image_id'))
LEFT JOIN user_data AS u
       ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id
WHERE i.event_name = 'RunInstances'
  AND trim(i.key_name) <> ''
