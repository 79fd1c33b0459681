-- table: instances
-- lookup: ec2.instance
-- help: The instances of the EC2 instance events (Run, Start, Stop and
--   TerminateInstances) whose item names no imageId, as EC2's
--   DescribeInstances in the event's account and region answers them:
--   {"image_id": "ami-…", "subnet_id": …, "vpc_id": …}.
SELECT DISTINCT object_key, account_id, region, instance_id
FROM ec2_instance_items
WHERE item_image_id IS NULL
