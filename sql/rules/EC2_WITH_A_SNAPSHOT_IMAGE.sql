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
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       json_object('deployment_artifact', l.source)::VARCHAR AS meta_info,
       l.event_time,
       l.object_key,
       l.application_id,
       l.application_version
FROM taupage_launches AS l
WHERE ends_with(l.source, '-SNAPSHOT')
