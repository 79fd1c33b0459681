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
	Attempts       int    // attempts on this version (ETag)
	FirstAttemptAt *time.Time
	LastAttemptAt  *time.Time
	FinishedAt     *time.Time
	DurationMS     *int
}

// LedgerList returns every ledger row, ordered by object key. It is meant
// for tests, operators and small ledgers.
func (s *Store) LedgerList(ctx context.Context) ([]LedgerEntry, error) {
	rows, err := s.pool.Query(ctx, ledgerEntriesSQL, nil)
	if err != nil {
		return nil, fmt.Errorf("list ledger: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanLedgerEntry)
	if err != nil {
		return nil, fmt.Errorf("list ledger: %w", err)
	}
	return out, nil
}

// LedgerGet returns the ledger row of one object, or an error wrapping
// ErrNotFound.
func (s *Store) LedgerGet(ctx context.Context, key string) (LedgerEntry, error) {
	rows, err := s.pool.Query(ctx, ledgerEntriesSQL, key)
	if err != nil {
		return LedgerEntry{}, fmt.Errorf("read ledger row %q: %w", key, err)
	}
	e, err := pgx.CollectExactlyOneRow(rows, scanLedgerEntry)
	if errors.Is(err, pgx.ErrNoRows) {
		return LedgerEntry{}, fmt.Errorf("ledger row %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return LedgerEntry{}, fmt.Errorf("read ledger row %q: %w", key, err)
	}
	return e, nil
}

func scanLedgerEntry(r pgx.CollectableRow) (LedgerEntry, error) {
	var e LedgerEntry
	err := r.Scan(&e.Key, &e.ETag, &e.Size, &e.Status, &e.Events, &e.SkippedRecords, &e.SkipReasons,
		&e.Violations, &e.Error, &e.Attempts, &e.FirstAttemptAt, &e.LastAttemptAt, &e.FinishedAt, &e.DurationMS)
	return e, err
}
