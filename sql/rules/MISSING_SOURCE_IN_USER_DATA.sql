-- type: MISSING_SOURCE_IN_USER_DATA
-- title: Incomplete EC2 user data
-- severity: 0
-- priority: 4
-- sources: ec2.amazonaws.com
-- events: RunInstances
-- lookups: instances?, images, user_data
-- help: An EC2 instance was launched from a Taupage AMI with user data that
--   names no source (the Docker image it runs). Set source in the user data
--   to the image in Pier One.
--
-- One violation per launched instance on a Taupage AMI whose user data has
-- no (or a blank) source (§4.10).
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       '{}' AS meta_info,
       l.event_time,
       l.object_key,
       l.application_id,
       l.application_version
FROM taupage_launches AS l
WHERE l.event_name = 'RunInstances'
  AND coalesce(trim(l.source), '') = ''
