-- Claims the objects $2 (text[]) for the holder $1 until $3 milliseconds
-- from now, and returns the keys claimed. A key is claimed when no lease is
-- on it, when its lease expired (its holder died or stalled: the lease is
-- taken over), or when $1 holds it already (renewed). A key another live
-- holder leases is left out. Expired leases are locked with SKIP LOCKED, so
-- two processes taking over the same leases never wait for each other and
-- never both get one; a new lease that a concurrent claim inserts first
-- makes ours do nothing.
WITH want AS (
    SELECT DISTINCT k AS object_key FROM unnest($2::text[]) AS k
), free AS (
    SELECT c.object_key
    FROM fullstop_data.ledger_claim c JOIN want USING (object_key)
    WHERE c.expires_at < now() OR c.holder = $1
    FOR UPDATE OF c SKIP LOCKED
), taken AS (
    UPDATE fullstop_data.ledger_claim c
    SET holder = $1, claimed_at = now(), expires_at = now() + $3::bigint * interval '1 millisecond'
    FROM free WHERE c.object_key = free.object_key
    RETURNING c.object_key
), inserted AS (
    INSERT INTO fullstop_data.ledger_claim (object_key, holder, claimed_at, expires_at)
    SELECT object_key, $1, now(), now() + $3::bigint * interval '1 millisecond' FROM want
    ORDER BY object_key
    ON CONFLICT (object_key) DO NOTHING
    RETURNING object_key
)
SELECT object_key FROM taken
UNION ALL
SELECT object_key FROM inserted
