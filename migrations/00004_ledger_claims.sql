-- Leases on log objects, so that several processes on one database split a
-- batch instead of each doing all of it; and the ledger's record of objects
-- whose content changed after they were read.

-- +goose Up
-- A row is a lease: holder works on the object until expires_at, renewing
-- the lease while it works. A lease that expired (its holder died or
-- stalled) may be taken over. The row is deleted in the transaction that
-- records the object done or failed, or when the holder gives it up.
CREATE TABLE fullstop_data.ledger_claim (
    object_key text PRIMARY KEY,
    holder     text        NOT NULL, -- host:pid:random of the claiming batch
    claimed_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX ledger_claim_holder_idx ON fullstop_data.ledger_claim (holder);

-- When a listed object's ETag or size differs from its ledger row, it is
-- read again and the change is kept here: the version before, when, and
-- how many times it changed.
ALTER TABLE fullstop_data.ledger
    ADD COLUMN previous_etag text,
    ADD COLUMN previous_size bigint CHECK (previous_size >= 0),
    ADD COLUMN rewritten_at  timestamptz,
    ADD COLUMN rewrites      integer NOT NULL DEFAULT 0 CHECK (rewrites >= 0);

-- `fullstop ledger retry` releases an object by setting its attempts to 0.
ALTER TABLE fullstop_data.ledger DROP CONSTRAINT ledger_attempts_check;
ALTER TABLE fullstop_data.ledger ADD CONSTRAINT ledger_attempts_check CHECK (attempts >= 0);

-- +goose Down
UPDATE fullstop_data.ledger SET attempts = 1 WHERE attempts = 0;
ALTER TABLE fullstop_data.ledger DROP CONSTRAINT ledger_attempts_check;
ALTER TABLE fullstop_data.ledger ADD CONSTRAINT ledger_attempts_check CHECK (attempts >= 1);
ALTER TABLE fullstop_data.ledger
    DROP COLUMN previous_etag,
    DROP COLUMN previous_size,
    DROP COLUMN rewritten_at,
    DROP COLUMN rewrites;
DROP TABLE fullstop_data.ledger_claim;
