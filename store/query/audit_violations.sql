-- The violations as the auditor's view `violations` of fullstop query: one
-- row per violation, with its type's title and whether it is resolved.
SELECT v.id,
       v.violation_type_entity_id AS type,
       t.title,
       t.violation_severity AS severity,
       v.account_id,
       v.region,
       v.event_id,
       v.instance_id,
       v.username,
       v.meta_info,
       v.comment,
       v.rule_entity_id AS whitelisting_rule_id,
       CASE WHEN v.rule_entity_id IS NOT NULL THEN 'whitelisted'
            WHEN v.comment IS NOT NULL THEN 'resolved'
            ELSE 'open' END AS state,
       a.name AS application,
       av.name AS application_version,
       v.event_time,
       v.created,
       v.last_seen,
       v.seen_count,
       v.last_modified,
       v.last_modified_by
FROM fullstop_data.violation AS v
LEFT JOIN fullstop_data.violation_type AS t ON t.id = v.violation_type_entity_id
LEFT JOIN fullstop_data.application AS a ON a.id = v.application_id
LEFT JOIN fullstop_data.app_version AS av ON av.id = v.application_version_id
ORDER BY v.id
