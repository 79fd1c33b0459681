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
SELECT i.event_id,
       i.account_id,
       i.region,
       i.instance_id,
       i.username,
       '{}' AS meta_info,
       i.event_time,
       i.object_key,
       json_extract_string(u.answer, '$.application_id') AS application_id,
       json_extract_string(u.answer, '$.application_version') AS application_version
FROM ec2_instance_items AS i
JOIN user_data AS u
  ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id
WHERE i.event_name = 'RunInstances'
  AND u.found
  AND coalesce(trim(json_extract_string(u.answer, '$.source')), '') = ''
