-- type: MISSING_USER_DATA
-- title: EC2 without user data
-- severity: 0
-- priority: 3
-- sources: ec2.amazonaws.com
-- events: RunInstances
-- lookups: instances?, images, user_data
-- help: An EC2 instance was launched from a Taupage AMI without Taupage user
--   data (or with user data that is not a YAML mapping), so nothing says
--   which application it runs. Launch it with Taupage user data, e.g.
--   through Senza.
--
-- One violation per launched instance on a Taupage AMI whose user data
-- lookup answered "not found" (§4.10).
SELECT i.event_id,
       i.account_id,
       i.region,
       i.instance_id,
       i.username,
       '{}' AS meta_info,
       i.event_time,
       i.object_key
FROM ec2_instance_items AS i
JOIN user_data AS u
  ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id
WHERE i.event_name = 'RunInstances'
  AND NOT u.found
