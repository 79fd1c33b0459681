-- Marks one object done. attempts counts every attempt on the same object
-- version (etag and size); a new version starts again at 1 and is recorded
-- as a rewrite (previous_etag, previous_size, rewritten_at, rewrites). A
-- row that is done already with this very version is left alone unless $11
-- (reprocess): then no row is returned and the caller drops the object's
-- violations, because a concurrent batch has committed them.
INSERT INTO fullstop_data.ledger AS l
    (object_key, etag, size, status, events, skipped_records, skip_reasons, violations, error,
     attempts, first_attempt_at, last_attempt_at, finished_at, duration_ms)
VALUES ($1, $2, $3, 'done', $4, $5, $6, $7, NULL,
        1, coalesce($8, now()), coalesce($8, now()), coalesce($9, now()), $10)
ON CONFLICT (object_key) DO UPDATE SET
    etag             = excluded.etag,
    size             = excluded.size,
    status           = 'done',
    events           = excluded.events,
    skipped_records  = excluded.skipped_records,
    skip_reasons     = excluded.skip_reasons,
    violations       = excluded.violations,
    error            = NULL,
    attempts         = CASE WHEN (l.etag, l.size) IS NOT DISTINCT FROM (excluded.etag, excluded.size)
                            THEN l.attempts + 1 ELSE 1 END,
    first_attempt_at = CASE WHEN (l.etag, l.size) IS NOT DISTINCT FROM (excluded.etag, excluded.size)
                            THEN l.first_attempt_at ELSE excluded.first_attempt_at END,
    last_attempt_at  = excluded.last_attempt_at,
    finished_at      = excluded.finished_at,
    duration_ms      = excluded.duration_ms,
    previous_etag    = CASE WHEN (l.etag, l.size) IS DISTINCT FROM (excluded.etag, excluded.size)
                            THEN l.etag ELSE l.previous_etag END,
    previous_size    = CASE WHEN (l.etag, l.size) IS DISTINCT FROM (excluded.etag, excluded.size)
                            THEN l.size ELSE l.previous_size END,
    rewritten_at     = CASE WHEN (l.etag, l.size) IS DISTINCT FROM (excluded.etag, excluded.size)
                            THEN now() ELSE l.rewritten_at END,
    rewrites         = l.rewrites + CASE WHEN (l.etag, l.size) IS DISTINCT FROM (excluded.etag, excluded.size)
                                         THEN 1 ELSE 0 END
WHERE l.status <> 'done' OR (l.etag, l.size) IS DISTINCT FROM (excluded.etag, excluded.size) OR $11::boolean
RETURNING object_key
