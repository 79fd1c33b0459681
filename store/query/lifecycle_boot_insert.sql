-- Inserts the lifecycle row of one instance boot reported by the instance
-- itself (POST /api/instance-logs): no event, the boot time and where its
-- user data is stored, with its application and version (created before
-- by stack_*_create). A row of the same boot exists already: left as it
-- is. Returns a row when one was inserted.
INSERT INTO fullstop_data.lifecycle
    (account_id, region, instance_id, instance_boot_time, userdata_path, application, application_version,
     created, created_by, last_modified, last_modified_by, version)
SELECT $2, $3, $4, $5, $6, a.id, av.id, now(), $1, now(), $1, 0
FROM fullstop_data.application a
JOIN fullstop_data.app_version av ON av.application_id = a.id AND av.name = $8
WHERE a.name = $7
ON CONFLICT (account_id, region, instance_id, instance_boot_time) WHERE event_id IS NULL DO NOTHING
RETURNING id
