-- Inserts the group's violations; a violation that exists already is only
-- marked as seen again (last_seen, seen_count), its resolution (comment,
-- rule_entity_id) is left alone. Rows go in identity order so concurrent
-- writers lock them in the same order. Returns how many rows were inserted
-- and how many existed.
WITH up AS (
    INSERT INTO fullstop_data.violation AS v
        (violation_type_entity_id, event_id, account_id, region, instance_id, username, meta_info,
         plugin_fully_qualified_class_name, event_time, last_seen, seen_count,
         application_id, application_version_id, rule_entity_id, comment,
         created, created_by, last_modified, last_modified_by, version)
    SELECT vi.violation_type_entity_id, vi.event_id, vi.account_id, vi.region, vi.instance_id, vi.username,
           vi.meta_info, vi.plugin_fully_qualified_class_name, vi.event_time, now(), vi.seen,
           a.id, av.id, vi.rule_entity_id, vi.comment,
           now(), $1, now(), $1, 0
    FROM violation_in vi
    LEFT JOIN fullstop_data.application a ON a.name = vi.application
    LEFT JOIN fullstop_data.app_version av
           ON av.name = vi.app_version AND av.application_id IS NOT DISTINCT FROM a.id
    ORDER BY vi.account_id, vi.region, vi.event_id, vi.violation_type_entity_id, vi.instance_id
    ON CONFLICT (account_id, region, event_id, violation_type_entity_id, instance_id)
    DO UPDATE SET last_seen  = excluded.last_seen,
                  seen_count = v.seen_count + excluded.seen_count
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
FROM up
