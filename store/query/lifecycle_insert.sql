-- Inserts the group's lifecycle rows, given as parallel arrays, with their
-- applications and versions (created before by stack_*_create). A row of
-- the same event, instance and event type exists already: left as it is,
-- so reprocessing stores each row once. Returns how many were inserted.
WITH ins AS (
    INSERT INTO fullstop_data.lifecycle AS l
        (event_id, event_type, event_date, account_id, region, instance_id, image_id, image_name,
         application, application_version, created, created_by, last_modified, last_modified_by, version)
    SELECT r.event_id, r.event_type, r.event_date, r.account_id, r.region, r.instance_id,
           nullif(r.image_id, ''), nullif(r.image_name, ''), a.id, av.id, now(), $1, now(), $1, 0
    FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
                $8::text[], $9::text[], $10::text[], $11::text[])
         AS r(event_id, event_type, event_date, account_id, region, instance_id, image_id, image_name,
              application, version)
    JOIN fullstop_data.application a ON a.name = r.application
    JOIN fullstop_data.app_version av ON av.application_id = a.id AND av.name = r.version
    ORDER BY r.event_id, r.instance_id, r.event_type
    ON CONFLICT (event_id, instance_id, event_type) WHERE event_id IS NOT NULL DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins
