-- The view taupage_launches: the instances of RunInstances and
-- StartInstances events (ec2_instance_items) with their Taupage user data
-- (the enrichment table user_data, found), the fields the Taupage rules
-- share. The engine creates it on each connection after the enrichers,
-- when the rules need the table user_data.
SELECT i.event_id, i.event_name, i.account_id, i.region, i.instance_id, i.username, i.event_time, i.object_key,
       json_extract_string(u.answer, '$.application_id') AS application_id,
       json_extract_string(u.answer, '$.application_version') AS application_version,
       json_extract_string(u.answer, '$.runtime') AS runtime,
       json_extract_string(u.answer, '$.source') AS source
FROM ec2_instance_items AS i
JOIN user_data AS u
  ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id
WHERE i.event_name IN ('RunInstances', 'StartInstances')
  AND u.found
