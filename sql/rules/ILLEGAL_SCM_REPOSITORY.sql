-- type: ILLEGAL_SCM_REPOSITORY
-- title: Illegal SCM repository in use
-- severity: 2
-- priority: 2
-- sources: ec2.amazonaws.com
-- events: RunInstances, StartInstances
-- lookups: instances?, images, user_data, scm_sources
-- help: The Docker image an EC2 instance was launched or started with was built
--   from a repository that is not on an allowed host or whose owner is not
--   allowed for that host (FULLSTOP_SCM_HOSTS), or whose URL does not look
--   like a git repository. Build from an allowed repository.
--
-- One violation per launched or started Taupage instance whose image's
-- scm-source.json url does not parse as a repository of an allowed host,
-- or names an owner the host's pattern does not fully match (§4.8 steps 2
-- and 3).
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       CASE WHEN json_extract_string(s.answer, '$.repository_error') IS NOT NULL
            THEN json_object('application_id', coalesce(l.application_id, ''), 'deployment_artifact', coalesce(l.source, ''),
                             'error_message', json_extract_string(s.answer, '$.repository_error'))
            ELSE json_object('application_id', coalesce(l.application_id, ''), 'deployment_artifact', coalesce(l.source, ''),
                             'normalized_scm_source_url', json_extract_string(s.answer, '$.repository'),
                             'allowed_owners', json_extract_string(s.answer, '$.allowed_owners'),
                             'actual_owner', json_extract_string(s.answer, '$.repository_owner'))
       END::VARCHAR AS meta_info,
       l.event_time,
       l.object_key,
       l.application_id,
       l.application_version
FROM taupage_launches AS l
JOIN scm_sources AS s ON s.source = l.source
WHERE s.found
  AND coalesce(trim(json_extract_string(s.answer, '$.url')), '') <> ''
  AND (json_extract_string(s.answer, '$.repository_error') IS NOT NULL
       OR NOT coalesce(json_extract(s.answer, '$.owner_allowed')::BOOLEAN, false))
