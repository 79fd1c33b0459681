-- Ledger rows ordered by object key, at most $4 (NULL: all): the row of
-- object $1 when $1 is not NULL; else the rows whose status is in $2
-- (text[]; NULL: any), only those rewritten at least once when $3. NULL
-- text reads as ''.
SELECT object_key, coalesce(etag, ''), coalesce(size, 0), status, events, skipped_records,
       coalesce(skip_reasons, ''), violations, coalesce(error, ''), attempts,
       first_attempt_at, last_attempt_at, finished_at, duration_ms,
       coalesce(previous_etag, ''), previous_size, rewritten_at, rewrites
FROM fullstop_data.ledger
WHERE ($1::text IS NULL OR object_key = $1)
  AND ($2::text[] IS NULL OR status = ANY ($2))
  AND (NOT $3::boolean OR rewrites > 0)
ORDER BY object_key
LIMIT $4
