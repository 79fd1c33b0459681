-- Creates the types of the group that do not exist yet, with the
-- reference's defaults for an unknown type.
INSERT INTO fullstop_data.violation_type
    (id, help_text, violation_severity, is_audit_relevant, title, priority,
     created, created_by, last_modified, last_modified_by, version)
SELECT DISTINCT violation_type_entity_id, 'This is only a default message', 0, false, NULL::varchar, NULL::integer,
       now(), $1, now(), $1, 0
FROM violation_in
ORDER BY violation_type_entity_id
ON CONFLICT (id) DO NOTHING
RETURNING id
