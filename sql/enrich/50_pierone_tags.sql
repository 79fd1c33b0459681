-- table: pierone_tags
-- lookup: pierone.tag
-- reads: instances, images, user_data
-- help: Whether the Docker image that the user data of a launched or started
--   Taupage instance names as its source (registry/team/artifact:tag) is a
--   tag in the Pier One registry of that host: {"registry", "team",
--   "artifact", "tag"}; not found when the tag, the artifact or the registry
--   is unknown, or the source is not of that form.
SELECT DISTINCT i.object_key, json_extract_string(u.answer, '$.source') AS source
FROM ec2_instance_items AS i
JOIN user_data AS u
  ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id
WHERE i.event_name IN ('RunInstances', 'StartInstances')
  AND u.found
  AND coalesce(json_extract_string(u.answer, '$.source'), '') <> ''
