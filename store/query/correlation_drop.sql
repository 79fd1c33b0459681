-- Deletes the correlation counts of the objects $1 (they are written
-- again), returning them.
DELETE FROM fullstop_data.correlation_count
WHERE object_key = ANY($1)
RETURNING violation_type, account_id, region, group_key, window_start, events
