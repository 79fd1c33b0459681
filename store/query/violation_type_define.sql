-- Defines the violation types of the rules in force ($2..$6: ids, titles,
-- severities, priorities, help texts): creates the missing ones and brings
-- up to date those a rule defined before or that a violation created with
-- the unknown type's defaults. Types the migrations seeded (the
-- reference's) are left as they are. Returns the ids written.
INSERT INTO fullstop_data.violation_type AS t
    (id, title, violation_severity, priority, is_audit_relevant, help_text,
     created, created_by, last_modified, last_modified_by, version)
SELECT d.id, d.title, d.severity, d.priority, false, d.help_text, now(), $1, now(), $1, 0
FROM unnest($2::varchar[], $3::varchar[], $4::int[], $5::int[], $6::text[]) AS d(id, title, severity, priority, help_text)
ORDER BY d.id
ON CONFLICT (id) DO UPDATE
SET title = EXCLUDED.title, violation_severity = EXCLUDED.violation_severity, priority = EXCLUDED.priority,
    help_text = EXCLUDED.help_text, last_modified = now(), last_modified_by = EXCLUDED.last_modified_by,
    version = t.version + 1
WHERE t.created_by <> 'migration'
  AND (t.title, t.violation_severity, t.priority, t.help_text)
      IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.violation_severity, EXCLUDED.priority, EXCLUDED.help_text)
RETURNING t.id
