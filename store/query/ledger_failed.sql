-- Records a failed attempt on one object ($4 = the maximum number of
-- attempts). attempts counts every attempt on the same object version
-- (etag); a new version starts again at 1. Returns the new status, or no
-- row when the object is done already: a concurrent batch finished it, and
-- a failed later attempt must not make it be processed again.
INSERT INTO fullstop_data.ledger AS l
    (object_key, etag, size, status, error, attempts,
     first_attempt_at, last_attempt_at, finished_at, duration_ms)
VALUES ($1, $2, $3, CASE WHEN 1 >= $4::integer THEN 'quarantined' ELSE 'failed' END, $5, 1,
        coalesce($6, now()), coalesce($6, now()), coalesce($7, now()), $8)
ON CONFLICT (object_key) DO UPDATE SET
    etag             = excluded.etag,
    size             = excluded.size,
    status           = CASE WHEN (CASE WHEN l.etag IS NOT DISTINCT FROM excluded.etag THEN l.attempts + 1 ELSE 1 END)
                                 >= $4::integer
                            THEN 'quarantined' ELSE 'failed' END,
    events           = NULL,
    skipped_records  = NULL,
    skip_reasons     = NULL,
    violations       = NULL,
    error            = excluded.error,
    attempts         = CASE WHEN l.etag IS NOT DISTINCT FROM excluded.etag THEN l.attempts + 1 ELSE 1 END,
    first_attempt_at = CASE WHEN l.etag IS NOT DISTINCT FROM excluded.etag THEN l.first_attempt_at
                            ELSE excluded.first_attempt_at END,
    last_attempt_at  = excluded.last_attempt_at,
    finished_at      = excluded.finished_at,
    duration_ms      = excluded.duration_ms
WHERE l.status <> 'done'
RETURNING status
