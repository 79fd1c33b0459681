-- table: kio_applications
-- lookup: kio.application
-- reads: instances, images, user_data
-- help: The Kio application of each application_id that the user data of a
--   launched or started Taupage instance names (GET {kio}/apps/{id}):
--   {"id", "scm_url", "publicly_accessible", and, when scm_url is set,
--   "repository" (normalised, https://host/owner/name) or
--   "repository_error"}; not found when Kio does not know the application.
SELECT DISTINCT i.object_key, json_extract_string(u.answer, '$.application_id') AS application_id
FROM ec2_instance_items AS i
JOIN user_data AS u
  ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id
WHERE i.event_name IN ('RunInstances', 'StartInstances')
  AND u.found
  AND coalesce(json_extract_string(u.answer, '$.application_id'), '') <> ''
