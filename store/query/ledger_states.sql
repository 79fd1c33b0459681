-- The ledger's state of the objects $1 (text[]): what the pipeline needs to
-- decide which listed objects to process.
SELECT object_key, coalesce(etag, ''), coalesce(size, 0), status, attempts
FROM fullstop_data.ledger
WHERE object_key = ANY ($1)
