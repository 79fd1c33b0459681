-- Every stored violation, ordered by id; NULL text reads as ''.
SELECT id, violation_type_entity_id, coalesce(event_id, ''), coalesce(account_id, ''),
       coalesce(region, ''), coalesce(instance_id, ''), coalesce(username, ''),
       coalesce(meta_info, ''), coalesce(plugin_fully_qualified_class_name, ''),
       coalesce(comment, ''), seen_count, event_time, created, last_seen
FROM fullstop_data.violation
ORDER BY id
