-- type: SCM_URL_IS_MISSING_IN_SCM_SOURCE_JSON
-- title: Incomplete scm-source.json
-- severity: 1
-- priority: 2
-- sources: ec2.amazonaws.com
-- events: RunInstances, StartInstances
-- lookups: instances?, images, user_data, scm_sources
-- help: The scm-source.json of the Docker image an EC2 instance was launched or
--   started with has no url, so the image cannot be traced to its
--   repository. Build the image with the repository's URL in
--   scm-source.json.
--
-- One violation per launched or started Taupage instance whose image's
-- scm-source.json has a blank url. The reference reported this from two
-- plugins with different meta and kept whichever it stored first (§4.7
-- step 3, §4.8 step 1); we report it once, with the richer meta of §4.8.
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       json_object('application_id', coalesce(l.application_id, ''), 'deployment_artifact', coalesce(l.source, ''), 'scm_source', json_extract_string(s.answer, '$.yaml'))::VARCHAR AS meta_info,
       l.event_time,
       l.object_key,
       l.application_id,
       l.application_version
FROM taupage_launches AS l
JOIN scm_sources AS s ON s.source = l.source
WHERE s.found
  AND coalesce(trim(json_extract_string(s.answer, '$.url')), '') = ''
