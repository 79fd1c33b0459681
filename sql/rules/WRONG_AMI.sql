-- type: WRONG_AMI
-- title: EC2 instance using illegal AMI
-- severity: 3
-- priority: 1
-- sources: ec2.amazonaws.com
-- events: RunInstances
-- lookups: instances?, images
-- help: An EC2 instance was launched from an AMI that is not an approved
--   Taupage image: the AMI is unknown, its name does not start with the
--   Taupage prefix, or its owner is not one of the Taupage owners. Launch
--   instances from a current Taupage AMI.
--
-- One violation per launched instance whose AMI (the item's imageId, else
-- DescribeInstances) is not a Taupage AMI (taupage_image); meta names the
-- AMI, with "" for what is unknown (§4.1).
SELECT i.event_id,
       i.account_id,
       i.region,
       i.instance_id,
       i.username,
       json_object('ami_owner_id', coalesce(json_extract_string(m.answer, '$.owner_id'), ''),
                   'ami_id', coalesce(i.item_image_id, json_extract_string(n.answer, '$.image_id'), ''),
                   'ami_name', coalesce(json_extract_string(m.answer, '$.name'), ''))::VARCHAR AS meta_info,
       i.event_time,
       i.object_key
FROM ec2_instance_items AS i
LEFT JOIN instances AS n
       ON n.account_id = i.account_id AND n.region = i.region AND n.instance_id = i.instance_id
LEFT JOIN images AS m
       ON m.account_id = i.account_id AND m.region = i.region
      AND m.image_id = coalesce(i.item_image_id, json_extract_string(n.answer, '$.image_id'))
WHERE i.event_name = 'RunInstances'
  AND NOT taupage_image(m.answer)
