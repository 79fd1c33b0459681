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
SELECT i.event_id,
       i.account_id,
       i.region,
       i.instance_id,
       i.username,
       '{}' AS meta_info,
       i.event_time,
       i.object_key,
       NULL::VARCHAR AS application_id,
       json_extract_string(u.answer, '$.application_version') AS application_version
FROM ec2_instance_items AS i
JOIN user_data AS u
  ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id
WHERE i.event_name = 'RunInstances'
  AND u.found
  AND coalesce(trim(json_extract_string(u.answer, '$.application_id')), '') = ''
