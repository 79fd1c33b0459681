package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LedgerEntry is a row of the ledger as stored. NULL text reads as "";
// NULL numbers and times as nil.
type LedgerEntry struct {
	Key            string
	ETag           string
	Size           int64
	Status         string // etl.StatusDone, etl.StatusFailed or etl.StatusQuarantined
	Events         *int   // records read; nil unless done
	SkippedRecords *int   // records skipped as malformed; nil unless done
	SkipReasons    string // the first reasons for skipped records, one a line
	Violations     *int   // violations found; nil unless done
	Error          string // why the last attempt failed
	Attempts       int    // attempts on this version (ETag and size); 0 after a release
	FirstAttemptAt *time.Time
	LastAttemptAt  *time.Time
	FinishedAt     *time.Time
	DurationMS     *int
	// The version of the object before its last rewrite (a new ETag or
	// size after the ledger held it), when that was seen, and how many
	// rewrites were seen in all.
	PreviousETag string
	PreviousSize *int64
	RewrittenAt  *time.Time
	Rewrites     int
}

// LedgerFilter selects ledger rows for LedgerList. The zero value selects
// every row.
type LedgerFilter struct {
	Statuses  []string // only rows with one of these statuses; nil for any
	Rewritten bool     // only rows whose object was rewritten at least once
	Limit     int      // at most this many rows; 0 for no limit
}

// LedgerList returns the ledger rows f selects, ordered by object key.
func (s *Store) LedgerList(ctx context.Context, f LedgerFilter) ([]LedgerEntry, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("list ledger: negative limit %d", f.Limit)
	}
	var limit any
	if f.Limit > 0 {
		limit = f.Limit
	}
	var statuses any
	if f.Statuses != nil {
		statuses = f.Statuses
	}
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, ledgerEntriesSQL, nil, statuses, f.Rewritten, limit)
	if err != nil {
		return nil, fmt.Errorf("list ledger: %w", s.dbErr(ctx, err))
	}
	out, err := pgx.CollectRows(rows, scanLedgerEntry)
	if err != nil {
		return nil, fmt.Errorf("list ledger: %w", s.dbErr(ctx, err))
	}
	return out, nil
}

// LedgerGet returns the ledger row of one object, or an error wrapping
// ErrNotFound.
func (s *Store) LedgerGet(ctx context.Context, key string) (LedgerEntry, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, ledgerEntriesSQL, key, nil, false, nil)
	if err != nil {
		return LedgerEntry{}, fmt.Errorf("read ledger row %q: %w", key, s.dbErr(ctx, err))
	}
	e, err := pgx.CollectExactlyOneRow(rows, scanLedgerEntry)
	if errors.Is(err, pgx.ErrNoRows) {
		return LedgerEntry{}, fmt.Errorf("ledger row %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return LedgerEntry{}, fmt.Errorf("read ledger row %q: %w", key, s.dbErr(ctx, err))
	}
	return e, nil
}

// LedgerRetry releases ledger rows so that the next batch reads their
// objects again, whatever their status: the rows of keys when keys is not
// nil, else every row whose status is one of statuses. A released row is
// failed with no attempt counted. It returns the keys released; a key the
// ledger does not hold is not among them.
func (s *Store) LedgerRetry(ctx context.Context, keys, statuses []string) ([]string, error) {
	var k, st any
	switch {
	case keys != nil:
		k = keys
	case len(statuses) > 0:
		st = statuses
	default:
		return nil, errors.New("retry ledger rows: no keys and no statuses given")
	}
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, ledgerRetrySQL, k, st)
	if err != nil {
		return nil, fmt.Errorf("retry ledger rows: %w", s.dbErr(ctx, err))
	}
	released, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("retry ledger rows: %w", s.dbErr(ctx, err))
	}
	return released, nil
}

func scanLedgerEntry(r pgx.CollectableRow) (LedgerEntry, error) {
	var e LedgerEntry
	err := r.Scan(&e.Key, &e.ETag, &e.Size, &e.Status, &e.Events, &e.SkippedRecords, &e.SkipReasons,
		&e.Violations, &e.Error, &e.Attempts, &e.FirstAttemptAt, &e.LastAttemptAt, &e.FinishedAt, &e.DurationMS,
		&e.PreviousETag, &e.PreviousSize, &e.RewrittenAt, &e.Rewrites)
	return e, err
}
