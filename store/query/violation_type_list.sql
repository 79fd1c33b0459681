-- Every violation type, ordered by id; NULL text reads as ''.
SELECT id, coalesce(title, ''), coalesce(violation_severity, 0), priority,
       coalesce(help_text, ''), is_audit_relevant,
       version, created, coalesce(created_by, ''), coalesce(last_modified, created), coalesce(last_modified_by, '')
FROM fullstop_data.violation_type
ORDER BY id
