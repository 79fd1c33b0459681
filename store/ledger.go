package store

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fullstop-audit/fullstop/etl"
)

const (
	// maxSkipReasons is how many reasons for skipped records a ledger row keeps.
	maxSkipReasons = 20
	// maxReasonBytes bounds each kept reason and the error of a failed object.
	maxReasonBytes = 1000
)

var (
	//go:embed query/ledger_done.sql
	ledgerDoneSQL string
	//go:embed query/ledger_failed.sql
	ledgerFailedSQL string
	//go:embed query/ledger_states.sql
	ledgerStatesSQL string
	//go:embed query/ledger_entries.sql
	ledgerEntriesSQL string
	//go:embed query/ledger_claim.sql
	ledgerClaimSQL string
	//go:embed query/ledger_retry.sql
	ledgerRetrySQL string
)

// One-line statements of the leases.
const (
	ledgerRenewSQL      = `UPDATE fullstop_data.ledger_claim SET expires_at = now() + $2::bigint * interval '1 millisecond' WHERE holder = $1`
	ledgerReleaseSQL    = `DELETE FROM fullstop_data.ledger_claim WHERE holder = $1 AND ($2::text[] IS NULL OR object_key = ANY ($2))`
	ledgerReleaseAllSQL = `DELETE FROM fullstop_data.ledger_claim WHERE holder = $1`
)

// LedgerStates returns the ledger rows of the given object keys; keys not in
// the ledger are absent from the map.
func (s *Store) LedgerStates(ctx context.Context, keys []string) (map[string]etl.ObjectState, error) {
	states := make(map[string]etl.ObjectState)
	if len(keys) == 0 {
		return states, nil
	}
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, ledgerStatesSQL, keys)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", s.dbErr(ctx, err))
	}
	var st etl.ObjectState
	_, err = pgx.ForEachRow(rows, []any{&st.Key, &st.ETag, &st.Size, &st.Status, &st.Attempts}, func() error {
		states[st.Key] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", s.dbErr(ctx, err))
	}
	return states, nil
}

// LedgerClaim leases those of keys no other live holder leases to holder
// until ttl from now and returns them (see query/ledger_claim.sql).
func (s *Store) LedgerClaim(ctx context.Context, holder string, keys []string, ttl time.Duration) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if holder == "" || ttl <= 0 {
		return nil, fmt.Errorf("claim objects: holder %q and ttl %s: want a holder and a positive ttl", holder, ttl)
	}
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	for try := 1; ; try++ {
		claimed, err := s.claim(ctx, holder, keys, ttl)
		if err == nil {
			return claimed, nil
		}
		if !retryable(err) || try == claimTries {
			return nil, fmt.Errorf("claim %d objects: %w", len(keys), s.dbErr(ctx, err))
		}
		// Two claims that met in a deadlock: PostgreSQL aborted this one,
		// which changed nothing; the other went through.
		s.log.Debug("claim met a concurrent claim, retrying", logTry, try, logErr, err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("claim %d objects: %w", len(keys), s.dbErr(ctx, err))
		case <-time.After(time.Duration(rand.Int64N(int64(50 * time.Millisecond)))):
		}
	}
}

// claimTries is how often a claim that met a concurrent one in a deadlock
// is tried.
const claimTries = 5

func (s *Store) claim(ctx context.Context, holder string, keys []string, ttl time.Duration) ([]string, error) {
	rows, err := s.pool.Query(ctx, ledgerClaimSQL, holder, keys, ttl.Milliseconds())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// LedgerRenew extends every lease of holder to ttl from now and returns
// how many it holds.
func (s *Store) LedgerRenew(ctx context.Context, holder string, ttl time.Duration) (int, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, ledgerRenewSQL, holder, ttl.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("renew leases of %s: %w", holder, s.dbErr(ctx, err))
	}
	return int(tag.RowsAffected()), nil
}

// LedgerRelease drops holder's leases on keys, or all of them when keys is
// nil.
func (s *Store) LedgerRelease(ctx context.Context, holder string, keys []string) error {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	var err error
	if keys == nil {
		_, err = s.pool.Exec(ctx, ledgerReleaseAllSQL, holder)
	} else {
		_, err = s.pool.Exec(ctx, ledgerReleaseSQL, holder, keys)
	}
	if err != nil {
		return fmt.Errorf("release leases of %s: %w", holder, s.dbErr(ctx, err))
	}
	return nil
}

// ledgerDone marks the objects done inside tx and returns the keys it
// marked: an object another batch marked done meanwhile is left out, unless
// it is to be reprocessed.
func ledgerDone(ctx context.Context, tx pgx.Tx, objs []etl.ObjectDone) (map[string]bool, error) {
	owned := make(map[string]bool, len(objs))
	if len(objs) == 0 {
		return owned, nil
	}
	var b pgx.Batch
	for _, o := range objs {
		b.Queue(ledgerDoneSQL, cleanText(o.Key), nullText(cleanText(o.ETag)), o.Size, o.Events, o.Skipped,
			nullText(skipReasons(o.SkipReasons)), o.Violations,
			nullTime(o.StartedAt), nullTime(o.FinishedAt), durationMS(o.StartedAt, o.FinishedAt), o.Reprocess)
	}
	br := tx.SendBatch(ctx, &b)
	for _, o := range objs {
		var key string
		switch err := br.QueryRow().Scan(&key); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			br.Close()
			return nil, fmt.Errorf("mark object %q done: %w", o.Key, err)
		default:
			owned[o.Key] = true
		}
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("mark objects done: %w", err)
	}
	return owned, nil
}

// LedgerMarkFailed records a failed attempt on an object and drops holder's
// lease on it. When its attempts on the same version (ETag and size) reach
// maxAttempts, the object is quarantined and quarantined is true. A new
// version starts the count again.
func (s *Store) LedgerMarkFailed(ctx context.Context, holder string, f etl.ObjectFailed, maxAttempts int) (quarantined bool, err error) {
	if maxAttempts < 1 {
		return false, fmt.Errorf("mark object %q failed: max attempts %d, want at least 1", f.Key, maxAttempts)
	}
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	var status string
	err = s.pool.QueryRow(ctx, ledgerFailedSQL, cleanText(f.Key), nullText(cleanText(f.ETag)), f.Size,
		min(maxAttempts, math.MaxInt32), truncate(cleanText(f.Reason), maxReasonBytes),
		nullTime(f.StartedAt), nullTime(f.FinishedAt), durationMS(f.StartedAt, f.FinishedAt), holder).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) { // done by a concurrent batch
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark object %q failed: %w", f.Key, s.dbErr(ctx, err))
	}
	return status == etl.StatusQuarantined, nil
}

// skipReasons joins the first reasons, one a line.
func skipReasons(reasons []string) string {
	var b strings.Builder
	for i, r := range reasons {
		if i == maxSkipReasons {
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		r = strings.ReplaceAll(cleanText(r), "\n", " ")
		b.WriteString(truncate(r, maxReasonBytes))
	}
	return b.String()
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// durationMS is finished-started in milliseconds, NULL when either is unset
// or the difference is negative.
func durationMS(started, finished time.Time) any {
	if started.IsZero() || finished.IsZero() || finished.Before(started) {
		return nil
	}
	return min(finished.Sub(started).Milliseconds(), math.MaxInt32)
}
