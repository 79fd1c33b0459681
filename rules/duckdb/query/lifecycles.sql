-- The application lifecycle rows (reference §4.12): one per instance of
-- the EC2 instance events (ec2_instance_items) whose Taupage user data
-- (the enrichment table user_data, found) names both application_id and
-- application_version. event_date is the item's launchTime (epoch
-- milliseconds, or a timestamp string) for RunInstances, else the event's
-- time; the time of day is kept (the reference's DATE column lost it).
-- image_id is the item's, else the instance's from DescribeInstances;
-- image_name is the AMI's from DescribeImages, when known.
SELECT DISTINCT
       i.event_id,
       i.event_name AS event_type,
       CASE
           WHEN i.event_name = 'RunInstances' THEN coalesce(launch_time(i.item), i.event_time::TIMESTAMP)
           ELSE i.event_time::TIMESTAMP
       END AS event_date,
       i.account_id,
       i.region,
       i.instance_id,
       coalesce(i.item_image_id, json_extract_string(n.answer, '$.image_id')) AS image_id,
       json_extract_string(m.answer, '$.name') AS image_name,
       trim(json_extract_string(u.answer, '$.application_id')) AS application,
       trim(json_extract_string(u.answer, '$.application_version')) AS version,
       i.object_key
FROM ec2_instance_items AS i
JOIN user_data AS u
  ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id AND u.found
LEFT JOIN instances AS n
       ON n.account_id = i.account_id AND n.region = i.region AND n.instance_id = i.instance_id
LEFT JOIN images AS m
       ON m.account_id = i.account_id AND m.region = i.region
      AND m.image_id = coalesce(i.item_image_id, json_extract_string(n.answer, '$.image_id'))
      AND m.found
WHERE coalesce(trim(json_extract_string(u.answer, '$.application_id')), '') <> ''
  AND coalesce(trim(json_extract_string(u.answer, '$.application_version')), '') <> ''
  AND i.event_id IS NOT NULL
  AND i.account_id IS NOT NULL
  AND i.instance_id IS NOT NULL
