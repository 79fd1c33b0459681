-- The windows the objects $1 have correlation counts in.
SELECT DISTINCT violation_type, account_id, region, group_key, window_start
FROM fullstop_data.correlation_count
WHERE object_key = ANY($1)
