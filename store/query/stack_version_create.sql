-- Creates the versions $3 of the applications $2 (the arrays are pairs;
-- run after stack_application_create), and links them to it. A version is
-- unique within its application (a version seen without an application
-- has none). The statement's own scan of app_version does not see the
-- versions its CTE inserts, so those come from RETURNING.
WITH pairs AS (
    SELECT DISTINCT a.id AS application_id, p.version AS name
    FROM unnest($2::text[], $3::text[]) AS p(application, version)
    LEFT JOIN fullstop_data.application a ON a.name = p.application
    WHERE p.version IS NOT NULL
), created AS (
    INSERT INTO fullstop_data.app_version (application_id, name, created, created_by, last_modified, last_modified_by, version)
    SELECT application_id, name, now(), $1, now(), $1, 0
    FROM pairs
    ORDER BY application_id, name
    ON CONFLICT ON CONSTRAINT unique_version_name DO NOTHING
    RETURNING application_id, id
)
INSERT INTO fullstop_data.application_version_entities (application_entities_id, version_entities_id)
SELECT application_id, id FROM created WHERE application_id IS NOT NULL
UNION
SELECT p.application_id, v.id
FROM pairs p
JOIN fullstop_data.app_version v ON v.application_id = p.application_id AND v.name = p.name
WHERE p.application_id IS NOT NULL
ORDER BY 1, 2
ON CONFLICT DO NOTHING
