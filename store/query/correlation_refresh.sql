-- Brings the stored violations of windows that had reached their
-- threshold before up to date ($1 … $5: type, account, region, event id,
-- instance id or ''; $6: meta_info): the count and the earliest match
-- change as objects come in. seen_count and the resolution stay. Returns
-- the identities found.
UPDATE fullstop_data.violation AS v
SET meta_info = u.meta, last_seen = now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u (t, a, r, e, i, meta)
WHERE v.violation_type_entity_id = u.t AND v.account_id = u.a AND v.region = u.r AND v.event_id = u.e
  AND v.instance_id IS NOT DISTINCT FROM nullif(u.i, '')
RETURNING v.violation_type_entity_id, v.account_id, v.region, v.event_id, coalesce(v.instance_id, '')
