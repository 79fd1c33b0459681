-- type: EC2_RUN_IN_PUBLIC_SUBNET
-- title: Public EC2 instance
-- severity: 0
-- priority: 4
-- sources: ec2.amazonaws.com
-- events: RunInstances
-- lookups: instances?, subnets
-- help: An EC2 instance was launched into a public subnet: its route table
--   sends the internet (0.0.0.0/0 or ::/0) to an internet gateway, so the
--   instance can be reached directly. Launch instances into private subnets
--   and put a load balancer in front of them.
--
-- One violation per launched instance whose subnet's route table (the
-- explicit association, else the VPC's main table) routes 0.0.0.0/0 or
-- ::/0 to an internet gateway. The reference's plugin for this was
-- disabled and never reported (§4.14).
SELECT i.event_id,
       i.account_id,
       i.region,
       i.instance_id,
       i.username,
       json_object('subnet_id', json_extract_string(s.answer, '$.subnet_id'),
                   'vpc_id', json_extract_string(s.answer, '$.vpc_id'),
                   'route_table_id', json_extract_string(s.answer, '$.route_table_id'),
                   'main_route_table', json_extract(s.answer, '$.main_route_table'),
                   'gateway_id', json_extract_string(s.answer, '$.gateway_id'))::VARCHAR AS meta_info,
       i.event_time,
       i.object_key
FROM ec2_instance_items AS i
LEFT JOIN instances AS n
       ON n.account_id = i.account_id AND n.region = i.region AND n.instance_id = i.instance_id
JOIN subnets AS s
  ON s.account_id = i.account_id AND s.region = i.region
 AND s.subnet_id = coalesce(nullif(trim(json_extract_string(i.item, '$.subnetId')), ''), json_extract_string(n.answer, '$.subnet_id'))
WHERE i.event_name = 'RunInstances'
  AND s.found
  AND coalesce(json_extract(s.answer, '$.public')::BOOLEAN, false)
