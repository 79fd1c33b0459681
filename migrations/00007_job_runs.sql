-- The runs of the scheduled AWS scans (jobs/): one row per run of a job,
-- written when it starts and completed when it ends; errors maps each
-- account (or account/region) that failed to why.

-- +goose Up
CREATE TABLE fullstop_data.job_run (
    id          bigserial PRIMARY KEY,
    job         text        NOT NULL,
    started     timestamptz NOT NULL,
    finished    timestamptz,
    accounts    text[]      NOT NULL DEFAULT '{}',
    regions     text[]      NOT NULL DEFAULT '{}',
    new         integer     NOT NULL DEFAULT 0,
    seen_again  integer     NOT NULL DEFAULT 0,
    errors      jsonb       NOT NULL DEFAULT '{}',
    started_by  text
);

CREATE INDEX job_run_job_started_idx ON fullstop_data.job_run (job, started DESC);

-- +goose Down
DROP TABLE fullstop_data.job_run;
