-- Releases ledger rows for the next batch: the rows of the keys $1 (text[])
-- when $1 is not NULL, else every row whose status is in $2 (text[]). A
-- released row is 'failed' with no attempts counted, so the next batch that
-- lists the object reads it again; its violations merge with those stored.
UPDATE fullstop_data.ledger
SET status = 'failed', attempts = 0,
    error = 'released for retry (fullstop ledger retry) at ' || now()::text
        || CASE WHEN error IS NULL THEN '' ELSE '; last error: ' || error END
WHERE CASE WHEN $1::text[] IS NOT NULL THEN object_key = ANY ($1) ELSE status = ANY ($2::text[]) END
RETURNING object_key
