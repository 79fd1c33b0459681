-- type: ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY
-- title: Dirty artifact build
-- severity: 3
-- priority: 1
-- sources: ec2.amazonaws.com
-- events: RunInstances, StartInstances
-- lookups: instances?, images, user_data, pierone_tags, scm_sources
-- help: The Docker image an EC2 instance was launched or started with was built
--   from a working copy with uncommitted or untracked changes (its
--   scm-source.json status is not empty), so no commit describes what runs.
--   Build release images from a clean checkout.
--
-- One violation per launched or started Taupage Docker instance whose
-- image's scm-source.json status (git status --porcelain) is neither blank
-- nor "false" (case-insensitive, §4.7 step 4); meta: every scm-source entry
-- as scm_source_<key>, and source.
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       json_merge_patch(json_extract(s.answer, '$.prefixed'), json_object('source', l.source))::VARCHAR AS meta_info,
       l.event_time,
       l.object_key,
       l.application_id,
       l.application_version
FROM taupage_launches AS l
JOIN pierone_tags AS p ON p.source = l.source
JOIN scm_sources AS s ON s.source = l.source
WHERE l.runtime = 'Docker'
  AND p.found
  AND s.found
  AND coalesce(trim(json_extract_string(s.answer, '$.status')), '') <> ''
  AND lower(trim(json_extract_string(s.answer, '$.status'))) <> 'false'
