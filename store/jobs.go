package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fullstop-audit/fullstop/rules"
)

// ViolationUpsert stores violations found outside the pipeline (the
// scheduled scans) in one transaction, as the pipeline stores its own:
// merged by identity, the stored ones marked seen again, the new ones
// whitelisted by the rules in force. It returns how many were new and how
// many were stored already.
func (s *Store) ViolationUpsert(ctx context.Context, vs []rules.Violation, user string) (inserted, seenAgain int, err error) {
	if len(vs) == 0 {
		return 0, 0, nil
	}
	ctx, cancel := s.transactionCtx(ctx)
	defer cancel()
	var created []string
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		inserted, seenAgain, created, err = s.writeViolations(ctx, tx, vs, user)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store %d violations: %w", len(vs), s.dbErr(ctx, err))
	}
	for _, id := range created {
		s.log.Warn("unknown violation type created", logType, id)
	}
	return inserted, seenAgain, nil
}

// JobLock takes the PostgreSQL advisory lock of job name for this
// process, on a connection it keeps until release is called. ok is false
// when another session holds it: the job is running elsewhere.
func (s *Store) JobLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	sctx, cancel := s.statementCtx(ctx)
	defer cancel()
	conn, err := s.pool.Acquire(sctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock job %s: %w", name, s.dbErr(sctx, err))
	}
	const key = `hashtextextended('fullstop.job.' || $1, 0)`
	if err := conn.QueryRow(sctx, `SELECT pg_try_advisory_lock(`+key+`)`, name).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("lock job %s: %w", name, s.dbErr(sctx, err))
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.Background(), s.cfg.StatementTimeout)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock(`+key+`)`, name); err != nil {
			// The lock dies with the session: drop the connection.
			s.log.Warn("unlock job failed; closing its connection", logErr, err)
			conn.Conn().Close(uctx)
		}
		conn.Release()
	}, true, nil
}

// JobRunStart records that a run of job started and returns its id.
func (s *Store) JobRunStart(ctx context.Context, job string, started time.Time, user string) (int64, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO fullstop_data.job_run (job, started, started_by) VALUES ($1, $2, $3) RETURNING id`,
		job, started, nullText(user)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record the start of job %s: %w", job, s.dbErr(ctx, err))
	}
	return id, nil
}

// JobRunFinish records how run id ended: the accounts and regions it
// scanned, the violations it stored new and again, and why each failed
// target (account, or account/region) failed.
func (s *Store) JobRunFinish(ctx context.Context, id int64, finished time.Time, accounts, regions []string,
	inserted, seenAgain int, errs map[string]string) error {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	if errs == nil {
		errs = map[string]string{}
	}
	js, err := json.Marshal(errs)
	if err != nil {
		return err
	}
	if accounts == nil {
		accounts = []string{}
	}
	if regions == nil {
		regions = []string{}
	}
	_, err = s.pool.Exec(ctx, `UPDATE fullstop_data.job_run SET finished = $2, accounts = $3, regions = $4, new = $5, seen_again = $6, errors = $7
WHERE id = $1`, id, finished, accounts, regions, inserted, seenAgain, js)
	if err != nil {
		return fmt.Errorf("record the end of job run %d: %w", id, s.dbErr(ctx, err))
	}
	return nil
}

// JobRun is a recorded run of a job; Finished is nil while it runs (or
// when its process died).
type JobRun struct {
	ID        int64
	Job       string
	Started   time.Time
	Finished  *time.Time
	Accounts  []string
	Regions   []string
	New       int
	SeenAgain int
	Errors    map[string]string
	StartedBy *string
}

// JobRuns returns the latest runs, newest first, of job ("" for every
// job), at most limit.
func (s *Store) JobRuns(ctx context.Context, job string, limit int) ([]JobRun, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT id, job, started, finished, accounts, regions, new, seen_again, errors, started_by
FROM fullstop_data.job_run WHERE $1 = '' OR job = $1 ORDER BY started DESC, id DESC LIMIT $2`, job, limit)
	if err != nil {
		return nil, fmt.Errorf("list job runs: %w", s.dbErr(ctx, err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (JobRun, error) {
		var j JobRun
		err := r.Scan(&j.ID, &j.Job, &j.Started, &j.Finished, &j.Accounts, &j.Regions, &j.New, &j.SeenAgain, &j.Errors, &j.StartedBy)
		return j, err
	})
	if err != nil {
		return nil, fmt.Errorf("list job runs: %w", s.dbErr(ctx, err))
	}
	return out, nil
}
