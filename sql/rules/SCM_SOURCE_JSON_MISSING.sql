-- type: SCM_SOURCE_JSON_MISSING
-- title: Missing scm-source.json
-- severity: 1
-- priority: 2
-- sources: ec2.amazonaws.com
-- events: RunInstances, StartInstances
-- lookups: instances?, images, user_data, pierone_tags, scm_sources
-- help: An EC2 instance was launched or started with a Docker image that has no
--   scm-source.json in Pier One, so the image cannot be traced to the
--   source it was built from. Build the image with an scm-source.json.
--
-- One violation per launched or started Taupage Docker instance whose image
-- is in Pier One without an scm-source.json (§4.7 step 2).
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       json_object('source', l.source)::VARCHAR AS meta_info,
       l.event_time,
       l.object_key,
       l.application_id,
       l.application_version
FROM taupage_launches AS l
JOIN pierone_tags AS p ON p.source = l.source
JOIN scm_sources AS s ON s.source = l.source
WHERE l.runtime = 'Docker'
  AND p.found
  AND NOT s.found
