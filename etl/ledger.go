package etl

import (
	"context"
	"time"

	"github.com/fullstop-audit/fullstop/rules"
)

// Ledger is where the pipeline records which objects it has processed,
// together with their violations. The store implements it.
type Ledger interface {
	// LedgerStates returns the ledger's rows for the given object keys;
	// keys the ledger does not hold are absent from the map.
	LedgerStates(ctx context.Context, keys []string) (map[string]ObjectState, error)
	// ViolationCommitGroup stores the violations of a group of objects
	// and marks the objects done, in one transaction. An object another
	// batch marked done meanwhile is dropped with its violations, unless
	// it is to be reprocessed.
	ViolationCommitGroup(ctx context.Context, objs []ObjectDone, vs []rules.Violation) (GroupResult, error)
	// LedgerMarkFailed records a failed attempt on an object and reports
	// whether the object is now quarantined: its attempts on the same
	// version (ETag) reached maxAttempts. An object that is done already
	// is left alone.
	LedgerMarkFailed(ctx context.Context, f ObjectFailed, maxAttempts int) (quarantined bool, err error)
}

// The states of an object in the ledger.
const (
	StatusDone        = "done"        // all events evaluated, violations stored
	StatusFailed      = "failed"      // the last attempt failed; it will be retried
	StatusQuarantined = "quarantined" // failed too often; not retried until reset
)

// ObjectState is what the ledger knows about one log object.
type ObjectState struct {
	Key      string
	ETag     string
	Size     int64
	Status   string // StatusDone, StatusFailed or StatusQuarantined
	Attempts int    // attempts on this version (ETag) of the object
}

// ObjectDone is a log object whose events were all evaluated.
type ObjectDone struct {
	Key         string
	ETag        string
	Size        int64
	Events      int      // records read
	Skipped     int      // records skipped as malformed
	SkipReasons []string // why records were skipped; the ledger keeps the first few
	Violations  int      // violations found in the object
	StartedAt   time.Time
	FinishedAt  time.Time
	// Reprocess writes the object's violations even when the ledger holds
	// it as done. Otherwise an object a concurrent batch committed first is
	// skipped with its violations, so no detection is counted twice.
	Reprocess bool
}

// ObjectFailed is a log object whose processing failed.
type ObjectFailed struct {
	Key        string
	ETag       string
	Size       int64
	Reason     string // why it failed
	StartedAt  time.Time
	FinishedAt time.Time
}

// GroupResult counts what ViolationCommitGroup did to the stored
// violations.
type GroupResult struct {
	New       int // violations inserted
	SeenAgain int // violations that existed already and were marked seen again
}
