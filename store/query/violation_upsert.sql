-- Inserts the group's violations; a violation that exists already is only
-- marked as seen again (last_seen, seen_count), its resolution (comment,
-- rule_entity_id) is left alone. Rows go in identity order so concurrent
-- writers lock them in the same order. Returns how many rows were inserted
-- and how many existed.
WITH up AS (
    INSERT INTO fullstop_data.violation AS v
        (violation_type_entity_id, event_id, account_id, region, instance_id, username, meta_info,
         plugin_fully_qualified_class_name, event_time, last_seen, seen_count,
         created, created_by, last_modified, last_modified_by, version)
    SELECT violation_type_entity_id, event_id, account_id, region, instance_id, username, meta_info,
           plugin_fully_qualified_class_name, event_time, now(), seen,
           now(), $1, now(), $1, 0
    FROM violation_in
    ORDER BY account_id, region, event_id, violation_type_entity_id, instance_id
    ON CONFLICT (account_id, region, event_id, violation_type_entity_id, instance_id)
    DO UPDATE SET last_seen  = excluded.last_seen,
                  seen_count = v.seen_count + excluded.seen_count
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
FROM up
