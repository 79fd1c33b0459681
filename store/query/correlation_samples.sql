-- The meta_info of the earliest match that objects put in windows ($1 …
-- $6: type, account, region, group, start, object; one element a window).
SELECT c.violation_type, c.account_id, c.region, c.group_key, c.window_start, c.sample_meta
FROM fullstop_data.correlation_count c
JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[]) AS w (t, a, r, g, s, o)
  ON c.violation_type = w.t AND c.account_id = w.a AND c.region = w.r AND c.group_key = w.g AND c.window_start = w.s
 AND c.object_key = w.o
