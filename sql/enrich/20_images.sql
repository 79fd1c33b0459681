-- table: images
-- lookup: ec2.image
-- reads: instances
-- help: The AMI of each instance of the EC2 instance events (Run, Start,
--   Stop and TerminateInstances): the item's imageId, else the instance's
--   from DescribeInstances, as
--   EC2's DescribeImages in the event's account and region answers it:
--   {"image_id": …, "name": …, "owner_id": …}; not found when the AMI is gone.
SELECT DISTINCT i.object_key, i.account_id, i.region,
       coalesce(i.item_image_id, json_extract_string(n.answer, '$.image_id')) AS image_id
FROM ec2_instance_items AS i
LEFT JOIN instances AS n
       ON n.account_id = i.account_id AND n.region = i.region AND n.instance_id = i.instance_id
