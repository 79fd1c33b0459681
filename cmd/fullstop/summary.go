package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/store"
)

// maxListed is how many failed or unread objects the summary names; the
// rest are counted.
const maxListed = 20

// printSummary prints what a batch did. Every count is of what committed.
// The state is "failed" when the batch stopped on an error (printed apart,
// on stderr), "interrupted" when a signal stopped it, "done with objects
// not read" when some objects failed, else "done".
func printSummary(w io.Writer, cmd, source string, from, to time.Time, r *etl.Result, err error) {
	if r == nil {
		return
	}
	state := "done"
	switch {
	case err != nil:
		state = "failed (the error follows on stderr)"
	case r.Interrupted:
		state = "interrupted (the objects in work were finished and committed)"
	case len(r.Failed) > 0 || len(r.Unread) > 0:
		state = "done, with objects not read"
	}
	fmt.Fprintf(w, "fullstop %s: %s, keys from %s to %s: %s\n", cmd, source,
		from.Format(time.RFC3339), to.Format(time.RFC3339), state)
	var extra []string
	add := func(n int, what string) {
		if n > 0 {
			extra = append(extra, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(len(r.Unread), "not read (source, rule, lake or lookup errors; left for the next batch)")
	add(r.Others, "processed by other batches")
	add(r.Rewritten, "rewritten since they were read (read again)")
	add(r.Gone, "deleted since they were listed")
	add(r.Abandoned, "not finished (the batch stopped; left for the next batch)")
	more := ""
	if len(extra) > 0 {
		more = ", " + strings.Join(extra, ", ")
	}
	fmt.Fprintf(w, "  objects     %d processed, %d failed, %d already done, %d quarantined%s (%d listed with %d LIST calls)\n",
		r.Objects, len(r.Failed), r.AlreadyDone, r.Quarantined, more, r.Listed, r.ListCalls)
	fmt.Fprintf(w, "  events      %d (%d records skipped)\n", r.Events, r.SkippedRecords)
	fmt.Fprintf(w, "  violations  %d new, %d seen again\n", r.New, r.SeenAgain)
	if r.Lifecycles > 0 {
		fmt.Fprintf(w, "  lifecycle   %d rows added\n", r.Lifecycles)
	}
	if r.Snapshots > 0 {
		fmt.Fprintf(w, "  snapshots   %d security-group snapshots written\n", r.Snapshots)
	}
	mbs := 0.0
	if r.Duration > 0 {
		mbs = float64(r.Bytes) / 1e6 / r.Duration.Seconds()
	}
	fmt.Fprintf(w, "  duration    %s (%.0f events/s, %.1f MB/s of JSON)\n", r.Duration.Round(time.Millisecond), r.EventsPerSecond(), mbs)
	listObjects(w, "failed objects (their content is not a readable CloudTrail log; each failure counts as an attempt):", r.Failed)
	listObjects(w, "objects not read (the source, the rules, the lake or a lookup failed; nothing recorded, the next batch reads them):", r.Unread)
}

func listObjects(w io.Writer, title string, objs []etl.FailedObject) {
	if len(objs) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s\n", title)
	for i, f := range objs {
		if i == maxListed {
			fmt.Fprintf(w, "    ... and %d more\n", len(objs)-maxListed)
			break
		}
		q := ""
		if f.Quarantined {
			q = " [quarantined]"
		}
		fmt.Fprintf(w, "    %s: %s%s\n", f.Key, oneLine(f.Reason), q)
	}
}

// batchError turns a batch's outcome into the command's error: the
// batch's own error (naming the database when it is unavailable),
// errInterrupted, errFailedObjects, or nil.
func batchError(dbURL string, r *etl.Result, err error) error {
	switch {
	case err != nil && errors.Is(err, store.ErrUnavailable):
		return dbError(dbURL, err)
	case err != nil:
		return err
	case r.Interrupted:
		return errInterrupted
	case len(r.Failed) > 0 || len(r.Unread) > 0:
		return errFailedObjects
	}
	return nil
}
