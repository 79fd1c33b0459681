-- table: subnets
-- lookup: ec2.subnet
-- reads: instances
-- help: The subnet of each instance of RunInstances events (the item's
--   subnetId and vpcId, else DescribeInstances'; the VPC "" when unknown),
--   with how it routes to the internet:
--   its route table (the explicit association, else the VPC's main table,
--   from DescribeRouteTables) and whether that sends 0.0.0.0/0 or ::/0 to
--   an internet gateway: {"subnet_id", "vpc_id", "route_table_id",
--   "main_route_table", "public", "gateway_id"}; not found when the subnet
--   is gone.
SELECT DISTINCT i.object_key, i.account_id, i.region,
       coalesce(nullif(trim(json_extract_string(i.item, '$.subnetId')), ''), json_extract_string(n.answer, '$.subnet_id')) AS subnet_id,
       coalesce(nullif(trim(json_extract_string(i.item, '$.vpcId')), ''), json_extract_string(n.answer, '$.vpc_id'), '') AS vpc_id
FROM ec2_instance_items AS i
LEFT JOIN instances AS n
       ON n.account_id = i.account_id AND n.region = i.region AND n.instance_id = i.instance_id
WHERE i.event_name = 'RunInstances'
