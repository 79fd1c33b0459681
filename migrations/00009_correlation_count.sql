-- The counts of the correlation rules (Sigma event_count): how many
-- matching events each log object put in each window of each group. A
-- window's count is the sum over its objects; the store writes an
-- object's counts in the transaction that marks it done, replacing what
-- an earlier processing of the object wrote, so a count never holds an
-- object twice. region is '' unless the rule groups by region. sample_*
-- are the object's earliest match in the window (time, then event id):
-- the window's violation describes the earliest of its objects'.

-- +goose Up
CREATE TABLE fullstop_data.correlation_count (
    violation_type  text        NOT NULL,
    account_id      text        NOT NULL,
    region          text        NOT NULL,
    group_key       text        NOT NULL,
    window_start    timestamptz NOT NULL,
    object_key      text        NOT NULL,
    events          integer     NOT NULL CHECK (events > 0),
    sample_time     timestamptz NOT NULL,
    sample_event_id text        NOT NULL,
    sample_meta     text        NOT NULL,
    PRIMARY KEY (violation_type, account_id, region, group_key, window_start, object_key)
);

CREATE INDEX correlation_count_object_idx ON fullstop_data.correlation_count (object_key);

-- +goose Down
DROP TABLE fullstop_data.correlation_count;
