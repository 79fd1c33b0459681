-- type: SCM_URL_NOT_MATCH_WITH_KIO
-- title: Built from illegal repository
-- severity: 0
-- priority: 2
-- sources: ec2.amazonaws.com
-- events: RunInstances, StartInstances
-- lookups: instances?, images, user_data, scm_sources, kio_applications
-- help: The Docker image an EC2 instance was launched or started with was built
--   from another repository than the one its application has in Kio (or
--   Kio's scm_url does not look like a git repository). Build from the
--   application's repository, or correct the SCM URL in Kio.
--
-- One violation per launched or started Taupage instance whose image's
-- scm-source.json repository (host, owner, name) differs from its Kio
-- application's scm_url, or whose Kio scm_url does not parse (§4.8 step 5).
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       CASE WHEN json_extract_string(k.answer, '$.repository_error') IS NOT NULL
            THEN json_object('application_id', coalesce(l.application_id, ''), 'deployment_artifact', coalesce(l.source, ''),
                             'normalized_scm_source_url', json_extract_string(s.answer, '$.repository'),
                             'kio_scm_url', json_extract_string(k.answer, '$.scm_url'),
                             'error_message', json_extract_string(k.answer, '$.repository_error'))
            ELSE json_object('application_id', coalesce(l.application_id, ''), 'deployment_artifact', coalesce(l.source, ''),
                             'normalized_scm_source_url', json_extract_string(s.answer, '$.repository'),
                             'normalized_kio_scm_url', json_extract_string(k.answer, '$.repository'))
       END::VARCHAR AS meta_info,
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
  AND coalesce(trim(json_extract_string(k.answer, '$.scm_url')), '') <> ''
  AND (json_extract_string(k.answer, '$.repository_error') IS NOT NULL
       OR json_extract_string(k.answer, '$.repository') <> json_extract_string(s.answer, '$.repository'))
