package etl

import (
	"context"
	"time"

	"github.com/fullstop-audit/fullstop/rules"
)

// Ledger is where the pipeline records which objects it has processed,
// together with their violations, and where batches claim the objects they
// work on, so that several processes on one ledger split the work. The
// store implements it.
type Ledger interface {
	// LedgerStates returns the ledger's rows for the given object keys;
	// keys the ledger does not hold are absent from the map.
	LedgerStates(ctx context.Context, keys []string) (map[string]ObjectState, error)
	// LedgerClaim leases those of keys that no other live holder leases
	// to holder until ttl from now, and returns them. A lease that expired
	// is taken over; one holder already has is renewed.
	LedgerClaim(ctx context.Context, holder string, keys []string, ttl time.Duration) ([]string, error)
	// LedgerRenew extends every lease of holder to ttl from now and
	// returns how many it holds.
	LedgerRenew(ctx context.Context, holder string, ttl time.Duration) (int, error)
	// LedgerRelease drops holder's leases on keys, or all of its leases
	// when keys is nil.
	LedgerRelease(ctx context.Context, holder string, keys []string) error
	// ViolationCommitGroup stores the findings of a group of objects (the
	// violations, and the lifecycle rows, each stored once), marks the
	// objects done and drops holder's leases on them, in one transaction.
	// An object another batch marked done meanwhile, with the same version
	// (ETag and size), is dropped with its findings, unless it is to be
	// reprocessed.
	ViolationCommitGroup(ctx context.Context, holder string, objs []ObjectDone, found rules.Findings) (GroupResult, error)
	// LedgerMarkFailed records a failed attempt on an object, drops
	// holder's lease on it, and reports whether the object is now
	// quarantined: its attempts on the same version (ETag and size) reached
	// maxAttempts. An object that is done already with that version is
	// left alone. Only a failure of the object's content is recorded: a
	// source that cannot be read leaves the ledger as it is.
	LedgerMarkFailed(ctx context.Context, holder string, f ObjectFailed, maxAttempts int) (quarantined bool, err error)
}

// The states of an object in the ledger.
const (
	StatusDone        = "done"        // all events evaluated, violations stored
	StatusFailed      = "failed"      // the last attempt failed; it will be retried
	StatusQuarantined = "quarantined" // failed too often; not retried until its ETag or size changes or it is released
)

// ObjectState is what the ledger knows about one log object.
type ObjectState struct {
	Key      string
	ETag     string
	Size     int64
	Status   string // StatusDone, StatusFailed or StatusQuarantined
	Attempts int    // attempts on this version (ETag and size) of the object
}

// SameVersion reports whether the ledger's row is about the object as
// listed: the same ETag and size.
func (st ObjectState) SameVersion(o Object) bool {
	return st.ETag == o.ETag && st.Size == o.Size
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
	// this version as done. Otherwise an object a concurrent batch
	// committed first is skipped with its violations, so no detection is
	// counted twice.
	Reprocess bool
}

// ObjectFailed is a log object whose content could not be read as a
// CloudTrail document.
type ObjectFailed struct {
	Key        string
	ETag       string
	Size       int64
	Reason     string // why it failed
	StartedAt  time.Time
	FinishedAt time.Time
}

// GroupResult counts what ViolationCommitGroup did.
type GroupResult struct {
	Objects   int // objects marked done; the others a concurrent batch had done first
	New       int // violations inserted
	SeenAgain int // violations that existed already and were marked seen again
	// Lifecycles counts the lifecycle rows inserted; a row stored before
	// (the same event, instance and event type) is not counted.
	Lifecycles int
}
