-- Creates the applications the group's violations name.
INSERT INTO fullstop_data.application (name, created, created_by, last_modified, last_modified_by, version)
SELECT DISTINCT application, now(), $1, now(), $1, 0
FROM violation_in
WHERE application IS NOT NULL
ORDER BY application
ON CONFLICT (name) DO NOTHING
