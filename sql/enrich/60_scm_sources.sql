-- table: scm_sources
-- lookup: pierone.scm_source
-- reads: instances, images, user_data
-- help: The scm-source.json of the Docker image that the user data of a
--   launched or started Taupage instance names as its source, from Pier One
--   (GET …/tags/{tag}/scm-source): {"scm_source": {the flat map}, "url",
--   "status", "yaml" (the map as YAML), "prefixed" (each entry as
--   scm_source_<key>), and, when url is set, "repository" (normalised),
--   "repository_owner", "owner_allowed", "allowed_owners" or
--   "repository_error"}; not found when Pier One has none.
SELECT DISTINCT i.object_key, json_extract_string(u.answer, '$.source') AS source
FROM ec2_instance_items AS i
JOIN user_data AS u
  ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id
WHERE i.event_name IN ('RunInstances', 'StartInstances')
  AND u.found
  AND coalesce(json_extract_string(u.answer, '$.source'), '') <> ''
