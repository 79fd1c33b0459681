-- type: MISSING_APPLICATION_ID_IN_USER_DATA
-- title: Missing application id
-- severity: 1
-- priority: 2
-- sources: ec2.amazonaws.com
-- events: RunInstances
-- lookups: instances?, images, user_data
-- help: An EC2 instance was launched from a Taupage AMI with user data that
--   names no application_id, so it cannot be tied to an application in
--   Kio. Set application_id in the user data.
--
-- One violation per launched instance on a Taupage AMI whose user data has
-- no (or a blank) application_id (§4.10).
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       '{}' AS meta_info,
       l.event_time,
       l.object_key,
       NULL::VARCHAR AS application_id,
       l.application_version
FROM taupage_launches AS l
WHERE l.event_name = 'RunInstances'
  AND coalesce(trim(l.application_id), '') = ''
