-- type: SCM_URL_IS_MISSING_IN_KIO
-- title: SCM URL missing in KIO
-- severity: 0
-- priority: 2
-- sources: ec2.amazonaws.com
-- events: RunInstances, StartInstances
-- lookups: instances?, images, user_data, scm_sources, kio_applications
-- help: The Kio application of an EC2 instance that was launched or started has
--   no scm_url, so its repository cannot be checked against the one the
--   image was built from. Set the application's SCM URL in Kio.
--
-- One violation per launched or started Taupage instance whose image's
-- scm-source.json url parses as a repository, and whose Kio application
-- has a blank scm_url (§4.8 step 4).
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       json_object('application_id', json_extract_string(k.answer, '$.id'))::VARCHAR AS meta_info,
       l.event_time,
       l.object_key,
       l.application_id,
       l.application_version
FROM taupage_launches AS l
JOIN scm_sources AS s ON s.source = l.source
JOIN kio_applications AS k ON k.application_id = l.application_id
WHERE s.found
  AND json_extract_string(s.answer, '$.repository') IS NOT NULL
  AND k.found
  AND coalesce(trim(json_extract_string(k.answer, '$.scm_url')), '') = ''
