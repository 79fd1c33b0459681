-- Creates the applications named in $2 (NULLs ignored) that do not exist.
INSERT INTO fullstop_data.application (name, created, created_by, last_modified, last_modified_by, version)
SELECT DISTINCT n.name, now(), $1, now(), $1, 0
FROM unnest($2::text[]) AS n(name)
WHERE n.name IS NOT NULL
ORDER BY n.name
ON CONFLICT (name) DO NOTHING
