-- Records a failed attempt on one object ($4 = the maximum number of
-- attempts) and drops the lease holder $9 had on it. attempts counts every
-- attempt on the same object version (etag and size); a new version starts
-- again at 1 and is recorded as a rewrite. Returns the new status, or no
-- row when the object is done already with this version: a concurrent batch
-- finished it, and a failed later attempt must not make it be processed
-- again.
WITH released AS (
    DELETE FROM fullstop_data.ledger_claim WHERE object_key = $1 AND holder = $9
)
INSERT INTO fullstop_data.ledger AS l
    (object_key, etag, size, status, error, attempts,
     first_attempt_at, last_attempt_at, finished_at, duration_ms)
VALUES ($1, $2, $3, CASE WHEN 1 >= $4::integer THEN 'quarantined' ELSE 'failed' END, $5, 1,
        coalesce($6, now()), coalesce($6, now()), coalesce($7, now()), $8)
ON CONFLICT (object_key) DO UPDATE SET
    etag             = excluded.etag,
    size             = excluded.size,
    status           = CASE WHEN (CASE WHEN (l.etag, l.size) IS NOT DISTINCT FROM (excluded.etag, excluded.size)
                                       THEN l.attempts + 1 ELSE 1 END) >= $4::integer
                            THEN 'quarantined' ELSE 'failed' END,
    events           = NULL,
    skipped_records  = NULL,
    skip_reasons     = NULL,
    violations       = NULL,
    error            = excluded.error,
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
WHERE l.status <> 'done' OR (l.etag, l.size) IS DISTINCT FROM (excluded.etag, excluded.size)
RETURNING status
