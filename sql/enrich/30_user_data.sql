-- table: user_data
-- lookup: ec2.user_data
-- reads: instances, images
-- help: The Taupage user data of each instance of the EC2 instance events
--   (Run, Start, Stop and TerminateInstances) that runs a Taupage AMI,
--   from EC2's DescribeInstanceAttribute(userData), base64-decoded and read as YAML:
--   {"application_id": …, "application_version": …, "runtime": …,
--   "source": …} (blank values absent); not found when the instance has no
--   user data or it is not a YAML mapping.
SELECT DISTINCT i.object_key, i.account_id, i.region, i.instance_id
FROM ec2_instance_items AS i
LEFT JOIN instances AS n
       ON n.account_id = i.account_id AND n.region = i.region AND n.instance_id = i.instance_id
JOIN images AS m
  ON m.account_id = i.account_id AND m.region = i.region
 AND m.image_id = coalesce(i.item_image_id, json_extract_string(n.answer, '$.image_id'))
WHERE taupage_image(m.answer)
