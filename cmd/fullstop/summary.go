package main

import (
	"fmt"
	"io"
	"time"

	"github.com/fullstop-audit/fullstop/etl"
)

// printSummary prints what a batch did.
func printSummary(w io.Writer, cmd, source string, from, to time.Time, r *etl.Result) {
	if r == nil {
		return
	}
	state := "done"
	if r.Interrupted {
		state = "interrupted (stopped after the current object group)"
	}
	fmt.Fprintf(w, "fullstop %s: %s, keys from %s to %s: %s\n", cmd, source,
		from.Format(time.RFC3339), to.Format(time.RFC3339), state)
	fmt.Fprintf(w, "  objects     %d processed, %d failed, %d already done, %d quarantined (%d listed with %d LIST calls)\n",
		r.Objects, len(r.Failed), r.AlreadyDone, r.Quarantined, r.Listed, r.ListCalls)
	fmt.Fprintf(w, "  events      %d (%d records skipped)\n", r.Events, r.SkippedRecords)
	fmt.Fprintf(w, "  violations  %d new, %d seen again\n", r.New, r.SeenAgain)
	mbs := 0.0
	if r.Duration > 0 {
		mbs = float64(r.Bytes) / 1e6 / r.Duration.Seconds()
	}
	fmt.Fprintf(w, "  duration    %s (%.0f events/s, %.1f MB/s of JSON)\n", r.Duration.Round(time.Millisecond), r.EventsPerSecond(), mbs)
	if len(r.Failed) > 0 {
		fmt.Fprintf(w, "  failed objects:\n")
		for _, f := range r.Failed {
			q := ""
			if f.Quarantined {
				q = " [quarantined]"
			}
			fmt.Fprintf(w, "    %s: %s%s\n", f.Key, f.Reason, q)
		}
	}
}
