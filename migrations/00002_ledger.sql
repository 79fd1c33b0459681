-- The ledger of processed CloudTrail log objects. A row is written in the
-- same transaction as the violations found in the object.

-- +goose Up
CREATE TABLE fullstop_data.ledger (
    object_key       text PRIMARY KEY,
    etag             text,
    size             bigint CHECK (size >= 0),
    status           text    NOT NULL CHECK (status IN ('done', 'failed', 'quarantined')),
    events           integer CHECK (events >= 0),
    skipped_records  integer CHECK (skipped_records >= 0),
    skip_reasons     text, -- the first reasons for skipped records, one a line
    violations       integer CHECK (violations >= 0),
    error            text,   -- why the last attempt failed
    attempts         integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    first_attempt_at timestamptz,
    last_attempt_at  timestamptz,
    finished_at      timestamptz,
    duration_ms      integer CHECK (duration_ms >= 0)
);

CREATE INDEX ledger_not_done_idx ON fullstop_data.ledger (status) WHERE status <> 'done';

-- +goose Down
DROP TABLE fullstop_data.ledger;
