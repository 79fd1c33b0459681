-- The stored count of each window ($1 … $5: type, account, region, group,
-- start, one element a window), summed over its objects, with the
-- earliest match of its objects (time, then event id byte by byte): its
-- event id and object (correlation_samples.sql reads its meta_info, for
-- the windows that need it); windows without counts are left out.
SELECT c.violation_type, c.account_id, c.region, c.group_key, c.window_start, sum(c.events)::integer,
       (array_agg(c.sample_event_id ORDER BY c.sample_time, c.sample_event_id COLLATE "C"))[1],
       (array_agg(c.object_key ORDER BY c.sample_time, c.sample_event_id COLLATE "C"))[1]
FROM fullstop_data.correlation_count c
JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS w (t, a, r, g, s)
  ON c.violation_type = w.t AND c.account_id = w.a AND c.region = w.r AND c.group_key = w.g AND c.window_start = w.s
GROUP BY 1, 2, 3, 4, 5
