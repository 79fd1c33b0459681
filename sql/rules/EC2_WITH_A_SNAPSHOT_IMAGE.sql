-- type: EC2_WITH_A_SNAPSHOT_IMAGE
-- title: Snapshot deployment artifact
-- severity: 2
-- priority: 1
-- sources: ec2.amazonaws.com
-- events: RunInstances, StartInstances
-- lookups: instances?, images, user_data
-- help: An EC2 instance was launched or started with a Docker image whose tag
--   ends in -SNAPSHOT: a mutable tag, so what runs cannot be told from what
--   was reviewed. Deploy an immutable release tag.
--
-- One violation per launched or started instance on a Taupage AMI whose
-- user data's source ends with -SNAPSHOT (case-sensitive, §4.9).
SELECT i.event_id,
       i.account_id,
       i.region,
       i.instance_id,
       i.username,
       json_object('deployment_artifact', json_extract_string(u.answer, '$.source'))::VARCHAR AS meta_info,
       i.event_time,
       i.object_key,
       json_extract_string(u.answer, '$.application_id') AS application_id,
       json_extract_string(u.answer, '$.application_version') AS application_version
FROM ec2_instance_items AS i
JOIN user_data AS u
  ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id
WHERE i.event_name IN ('RunInstances', 'StartInstances')
  AND u.found
  AND ends_with(json_extract_string(u.answer, '$.source'), '-SNAPSHOT')
