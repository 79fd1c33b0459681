package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

const (
	corrType    = "SIGMA_DISCOVERY_CALLS_DENIED_IN_BULK"
	corrAccount = "123456789012"
	alice       = "arn:aws:iam::123456789012:user/alice"
	bob         = "arn:aws:iam::123456789012:user/bob"
)

// win0 is the start of a five-minute window.
var win0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// bulk is a correlation of 10 events in 5 minutes by principal.
func bulk() *rules.Correlation {
	return &rules.Correlation{Threshold: 10, Window: 5 * time.Minute, GroupBy: []string{"user_identity_arn"},
		Level: "medium", ID: "5e3c0000-0000-4000-8000-000000000001"}
}

var matchSeq atomic.Int64

// match returns a match of correlation c with a unique event id.
func match(typ, account, group, object string, at time.Time, c *rules.Correlation) rules.Violation {
	return rules.Violation{
		Type: typ, EventID: fmt.Sprintf("m%06d-%s", matchSeq.Add(1), object), AccountID: account,
		Region: "eu-west-1", InstanceID: group, Username: group, MetaInfo: `{}`, Rule: "sql/sigma/x.yml",
		EventTime: at, ObjectKey: object, Correlation: c,
	}
}

// matches returns n matches of bulk() in object of group, one a second from at.
func matches(n int, group, object string, at time.Time) []rules.Violation {
	c := bulk()
	out := make([]rules.Violation, n)
	for i := range out {
		out[i] = match(corrType, corrAccount, group, object, at.Add(time.Duration(i)*time.Second), c)
	}
	return out
}

// countRows are the rows of correlation_count, one
// "type|account|region|group|window start|object=events" each, sorted.
func countRows(t *testing.T, st *Store) []string {
	t.Helper()
	rows, err := st.pool.Query(context.Background(), `SELECT violation_type || '|' || account_id || '|' || region || '|' ||
		group_key || '|' || to_char(window_start AT TIME ZONE 'UTC', 'HH24:MI') || '|' || object_key || '=' || events
		FROM fullstop_data.correlation_count ORDER BY 1`)
	if err != nil {
		t.Fatalf("read correlation counts: %v", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("read correlation counts: %v", err)
	}
	return out
}

// objectEvents is what object counts in all windows.
func objectEvents(t *testing.T, st *Store, object string) int {
	t.Helper()
	var n int
	if err := st.pool.QueryRow(context.Background(), `SELECT coalesce(sum(events), 0)::int
		FROM fullstop_data.correlation_count WHERE object_key = $1`, object).Scan(&n); err != nil {
		t.Fatalf("read correlation counts: %v", err)
	}
	return n
}

// correlated are the stored violations of type corrType.
func correlated(t *testing.T, st *Store) []StoredViolation {
	t.Helper()
	return slices.DeleteFunc(list(t, st), func(s StoredViolation) bool { return s.Type != corrType })
}

// corrMeta is the part of a correlation violation's meta_info the tests read.
type corrMeta struct {
	SigmaID     string            `json:"sigma_id"`
	Level       string            `json:"level"`
	Correlation string            `json:"correlation"`
	Events      int               `json:"events"`
	Threshold   int               `json:"threshold"`
	Timespan    string            `json:"timespan"`
	WindowStart string            `json:"window_start"`
	WindowEnd   string            `json:"window_end"`
	GroupBy     map[string]string `json:"group_by"`
	FirstEvent  string            `json:"sample_event_id"`
}

func meta(t *testing.T, s StoredViolation) corrMeta {
	t.Helper()
	var m corrMeta
	if err := json.Unmarshal([]byte(s.MetaInfo), &m); err != nil {
		t.Fatalf("meta_info %q: %v", s.MetaInfo, err)
	}
	return m
}

// holdCounts locks the table correlation_count until the returned release
// is called, which first waits until waiters transactions wait for it: so
// concurrent committers, which read the table right after the ledger, all
// reach the counting at once.
func holdCounts(t *testing.T, st *Store) (release func(waiters int)) {
	t.Helper()
	ctx := context.Background()
	tx, err := st.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE fullstop_data.correlation_count IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return func(waiters int) {
		t.Helper()
		defer tx.Rollback(ctx)
		deadline := time.Now().Add(30 * time.Second)
		for {
			var n int
			if err := st.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
				WHERE NOT granted AND relation = 'fullstop_data.correlation_count'::regclass`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n >= waiters {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d committers wait for the counts", n, waiters)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCorrelation_windowReachedAcrossCommits(t *testing.T) {
	t.Parallel()
	st := setup(t)
	a := matches(6, alice, "a", win0.Add(time.Minute))
	b := matches(4, alice, "b", win0.Add(2*time.Minute))
	c := matches(3, alice, "c", win0.Add(3*time.Minute))

	if res := commit(t, st, []etl.ObjectDone{object("a")}, a...); res != (etl.GroupResult{Objects: 1}) {
		t.Errorf("commit of a = %+v, want 1 object and no violation", res)
	}
	if got := correlated(t, st); len(got) != 0 {
		t.Fatalf("after 6 of 10 events: %+v, want no violation", got)
	}
	if res := commit(t, st, []etl.ObjectDone{object("b")}, b...); res != (etl.GroupResult{Objects: 1, New: 1}) {
		t.Errorf("commit of b = %+v, want 1 object and 1 new violation", res)
	}
	got := correlated(t, st)
	if len(got) != 1 {
		t.Fatalf("after 10 of 10 events: %d violations (%+v), want 1", len(got), got)
	}
	v := got[0]
	if v.EventID != "2024-05-01T10:00:00Z" || v.InstanceID != alice || v.AccountID != corrAccount || v.Region != "" ||
		v.Username != alice || v.Rule != "sql/sigma/x.yml" || !v.EventTime.Equal(win0) || v.SeenCount != 1 {
		t.Errorf("violation = %+v, want event id = window start, instance = group, account %s, region \"\", seen once", v, corrAccount)
	}
	m := meta(t, v)
	want := corrMeta{SigmaID: bulk().ID, Level: "medium", Correlation: "event_count", Events: 10, Threshold: 10,
		Timespan: "5m", WindowStart: "2024-05-01T10:00:00Z", WindowEnd: "2024-05-01T10:05:00Z",
		GroupBy: map[string]string{"user_identity_arn": alice},
		// The window's earliest match, whichever object holds it.
		FirstEvent: a[0].EventID}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("meta_info = %+v, want %+v", m, want)
	}

	// More events in the window: no second violation, not seen again;
	// the count in its meta_info grows.
	if res := commit(t, st, []etl.ObjectDone{object("c")}, c...); res != (etl.GroupResult{Objects: 1}) {
		t.Errorf("commit of c = %+v, want 1 object, nothing new or seen again", res)
	}
	got = correlated(t, st)
	want.Events = 13
	if len(got) != 1 || got[0].SeenCount != 1 || got[0].ID != v.ID || fmt.Sprint(meta(t, got[0])) != fmt.Sprint(want) {
		t.Errorf("after 13 events: %+v, want the one violation, seen once, with 13 events", got)
	}
	wantRows := []string{
		corrType + "|" + corrAccount + "||" + alice + "|10:00|a=6",
		corrType + "|" + corrAccount + "||" + alice + "|10:00|b=4",
		corrType + "|" + corrAccount + "||" + alice + "|10:00|c=3",
	}
	if rows := countRows(t, st); !slices.Equal(rows, wantRows) {
		t.Errorf("counts = %q, want %q", rows, wantRows)
	}
	// The matches themselves are not stored.
	if n := len(list(t, st)); n != 1 {
		t.Errorf("%d violations stored, want only the correlation's", n)
	}
}

func TestCorrelation_oneCommitReachesThreshold(t *testing.T) {
	t.Parallel()
	st := setup(t)
	vs := append(matches(6, alice, "a", win0.Add(time.Minute)), matches(4, alice, "b", win0)...)
	if res := commit(t, st, []etl.ObjectDone{object("a"), object("b")}, vs...); res != (etl.GroupResult{Objects: 2, New: 1}) {
		t.Errorf("commit = %+v, want 2 objects, 1 new", res)
	}
	got := correlated(t, st)
	if len(got) != 1 {
		t.Fatalf("%d violations, want 1", len(got))
	}
	// In one commit, the violation is what Correlate gives.
	want := rules.Correlate(vs)
	if len(want) != 1 || got[0].MetaInfo != want[0].MetaInfo || got[0].EventID != want[0].EventID || got[0].InstanceID != want[0].InstanceID {
		t.Errorf("stored %+v, want %+v", got[0], want)
	}
	if m := meta(t, got[0]); m.Events != 10 || m.FirstEvent != vs[6].EventID {
		t.Errorf("meta = %+v, want 10 events, the first b's first", m)
	}
}

// A tallied match (the engine's: one per window and object, Matches the
// events it stands for) counts as those events, and stores what the
// matches themselves store.
func TestCorrelation_talliedMatchesCountTheirEvents(t *testing.T) {
	t.Parallel()
	raw := setup(t)
	tallied := setup(t)
	a := matches(6, alice, "a", win0.Add(time.Minute))
	b := matches(4, alice, "b", win0)
	vs := append(slices.Clone(a), b...)
	if res := commit(t, raw, []etl.ObjectDone{object("a"), object("b")}, vs...); res != (etl.GroupResult{Objects: 2, New: 1}) {
		t.Fatalf("commit of the matches = %+v, want 2 objects, 1 new", res)
	}
	ts := rules.Tally(vs)
	if len(ts) != 2 || ts[0].Matches != 6 || ts[0].EventID != a[0].EventID || ts[1].Matches != 4 || ts[1].EventID != b[0].EventID {
		t.Fatalf("Tally = %+v, want a's first with 6 and b's first with 4", ts)
	}
	if res := commit(t, tallied, []etl.ObjectDone{object("a"), object("b")}, ts...); res != (etl.GroupResult{Objects: 2, New: 1}) {
		t.Fatalf("commit of the tallied matches = %+v, want 2 objects, 1 new", res)
	}
	want, got := correlated(t, raw), correlated(t, tallied)
	if len(got) != 1 || len(want) != 1 || got[0].MetaInfo != want[0].MetaInfo || got[0].EventID != want[0].EventID {
		t.Fatalf("tallied stored %+v, want %+v", got, want)
	}
	if m := meta(t, got[0]); m.Events != 10 || m.FirstEvent != b[0].EventID {
		t.Errorf("meta = %+v, want 10 events, b's first", m)
	}
	if r, w := countRows(t, tallied), countRows(t, raw); !slices.Equal(r, w) {
		t.Errorf("counts of the tallied matches = %q, want %q", r, w)
	}
}

func TestCorrelation_separateWindowsDoNotAddUp(t *testing.T) {
	t.Parallel()
	byRegion := &rules.Correlation{Threshold: 10, Window: 5 * time.Minute, GroupBy: []string{"aws_region"}}
	inRegion := func(n int, object, region string, c *rules.Correlation) []rules.Violation {
		var out []rules.Violation
		for i := range n {
			m := match(corrType, corrAccount, region, object, win0.Add(time.Duration(i)*time.Second), c)
			m.Region = region
			out = append(out, m)
		}
		return out
	}
	other := func(vs []rules.Violation, f func(*rules.Violation)) []rules.Violation {
		for i := range vs {
			f(&vs[i])
		}
		return vs
	}
	tests := []struct {
		name       string
		a, b       []rules.Violation
		violations int
		rows       int
	}{
		{"different groups", matches(6, alice, "a", win0), matches(4, bob, "b", win0), 0, 2},
		{"adjacent windows", matches(6, alice, "a", win0.Add(4*time.Minute)), matches(4, alice, "b", win0.Add(5*time.Minute)), 0, 2},
		{"different accounts", matches(6, alice, "a", win0),
			other(matches(4, alice, "b", win0), func(v *rules.Violation) { v.AccountID = "210987654321" }), 0, 2},
		{"different types", matches(6, alice, "a", win0),
			other(matches(4, alice, "b", win0), func(v *rules.Violation) { v.Type = "SIGMA_OTHER" }), 0, 2},
		{"different regions, grouped by region", inRegion(6, "a", "eu-west-1", byRegion), inRegion(4, "b", "us-east-1", byRegion), 0, 2},
		// Controls: what does add up.
		{"different regions, not grouped by region", matches(6, alice, "a", win0),
			other(matches(4, alice, "b", win0.Add(4*time.Minute+50*time.Second)), func(v *rules.Violation) { v.Region = "us-east-1" }), 1, 2},
		{"same region, grouped by region", inRegion(6, "a", "eu-west-1", byRegion), inRegion(4, "b", "eu-west-1", byRegion), 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := setup(t)
			commit(t, st, []etl.ObjectDone{object("a")}, tt.a...)
			commit(t, st, []etl.ObjectDone{object("b")}, tt.b...)
			if got := list(t, st); len(got) != tt.violations {
				t.Errorf("%d violations (%+v), want %d", len(got), got, tt.violations)
			}
			if rows := countRows(t, st); len(rows) != tt.rows {
				t.Errorf("counts = %q, want %d rows", rows, tt.rows)
			}
			if a, b := objectEvents(t, st, "a"), objectEvents(t, st, "b"); a != 6 || b != 4 {
				t.Errorf("a counts %d, b %d; want 6 and 4", a, b)
			}
		})
	}
}

func TestCorrelation_groupedByRegionKeepsRegion(t *testing.T) {
	t.Parallel()
	st := setup(t)
	c := &rules.Correlation{Threshold: 3, Window: time.Hour, GroupBy: []string{"user_identity_arn", "aws_region"}}
	group := alice + rules.GroupSeparator + "us-east-1"
	var vs []rules.Violation
	for i := range 3 {
		m := match(corrType, corrAccount, group, "a", win0.Add(time.Duration(i)*time.Minute), c)
		m.Region = "us-east-1"
		vs = append(vs, m)
	}
	commit(t, st, []etl.ObjectDone{object("a")}, vs...)
	got := correlated(t, st)
	if len(got) != 1 || got[0].Region != "us-east-1" || got[0].InstanceID != group || got[0].EventID != "2024-05-01T10:00:00Z" {
		t.Fatalf("violations = %+v, want one in us-east-1 of group %q", got, group)
	}
	if m := meta(t, got[0]); fmt.Sprint(m.GroupBy) != fmt.Sprint(map[string]string{"user_identity_arn": alice, "aws_region": "us-east-1"}) {
		t.Errorf("group_by = %v", m.GroupBy)
	}
	if rows := countRows(t, st); len(rows) != 1 || !strings.Contains(rows[0], "|us-east-1|") {
		t.Errorf("counts = %q, want one row in us-east-1", rows)
	}
}

// TestCorrelation_reprocessReplacesCounts commits an object again in each
// way the ledger takes a done object again: its counts are replaced.
func TestCorrelation_reprocessReplacesCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		again func(t *testing.T, st *Store, obj etl.ObjectDone) etl.ObjectDone
	}{
		{"reprocess", func(t *testing.T, st *Store, obj etl.ObjectDone) etl.ObjectDone {
			obj.Reprocess = true
			return obj
		}},
		{"rewritten object", func(t *testing.T, st *Store, obj etl.ObjectDone) etl.ObjectDone {
			obj.ETag, obj.Size = "etag-a2", 120
			return obj
		}},
		{"released for retry", func(t *testing.T, st *Store, obj etl.ObjectDone) etl.ObjectDone {
			if released, err := st.LedgerRetry(context.Background(), []string{obj.Key}, nil); err != nil || len(released) != 1 {
				t.Fatalf("retry %s = %v, %v", obj.Key, released, err)
			}
			return obj
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := setup(t)
			a := matches(6, alice, "a", win0.Add(time.Minute))
			commit(t, st, []etl.ObjectDone{object("a")}, a...)
			again := tt.again(t, st, object("a"))
			if res := commit(t, st, []etl.ObjectDone{again}, a...); res != (etl.GroupResult{Objects: 1}) {
				t.Errorf("second commit of a = %+v, want 1 object, no violation", res)
			}
			if n := objectEvents(t, st, "a"); n != 6 {
				t.Errorf("a counts %d events after two commits of the same 6, want 6", n)
			}
			if rows := countRows(t, st); len(rows) != 1 {
				t.Errorf("counts = %q, want one row", rows)
			}
			if got := list(t, st); len(got) != 0 {
				t.Fatalf("violations after a reprocessed 6 of 10: %+v, want none", got)
			}
			if res := commit(t, st, []etl.ObjectDone{object("b")}, matches(4, alice, "b", win0.Add(2*time.Minute))...); res.New != 1 {
				t.Errorf("commit of b = %+v, want 1 new", res)
			}
			got := correlated(t, st)
			if len(got) != 1 || meta(t, got[0]).Events != 10 {
				t.Fatalf("violations after 6+4 = %+v, want one of 10 events", got)
			}
		})
	}
}

// TestCorrelation_reprocessChangesCounts reprocesses an object whose
// matches changed: fewer, none, and back, in a window that had reached its
// threshold.
func TestCorrelation_reprocessChangesCounts(t *testing.T) {
	t.Parallel()
	st := setup(t)
	at := win0.Add(time.Minute)
	reprocess := object("a")
	reprocess.Reprocess = true

	commit(t, st, []etl.ObjectDone{object("a")}, matches(6, alice, "a", at)...)
	commit(t, st, []etl.ObjectDone{reprocess}, matches(2, alice, "a", at)...)
	if n := objectEvents(t, st, "a"); n != 2 {
		t.Errorf("a counts %d after reprocessing with 2 matches, want 2", n)
	}
	commit(t, st, []etl.ObjectDone{object("b")}, matches(4, alice, "b", at)...)
	if got := list(t, st); len(got) != 0 {
		t.Fatalf("violations after 2+4: %+v, want none", got)
	}
	// Back to 6: 6+4 reaches the threshold.
	if res := commit(t, st, []etl.ObjectDone{reprocess}, matches(6, alice, "a", at)...); res.New != 1 {
		t.Errorf("reprocess of a with 6 = %+v, want 1 new", res)
	}
	// Reprocessed again with the same count: already reached, nothing new.
	if res := commit(t, st, []etl.ObjectDone{reprocess}, matches(6, alice, "a", at)...); res != (etl.GroupResult{Objects: 1}) {
		t.Errorf("reprocess of a reached window = %+v, want nothing new or seen again", res)
	}
	// No matches any more: a's counts are gone, the violation stays.
	if res := commit(t, st, []etl.ObjectDone{reprocess}); res != (etl.GroupResult{Objects: 1}) {
		t.Errorf("reprocess of a without matches = %+v", res)
	}
	wantRows := []string{corrType + "|" + corrAccount + "||" + alice + "|10:00|b=4"}
	if rows := countRows(t, st); !slices.Equal(rows, wantRows) {
		t.Errorf("counts = %q, want %q", rows, wantRows)
	}
	if got := correlated(t, st); len(got) != 1 || got[0].SeenCount != 1 {
		t.Errorf("violations = %+v, want the one, seen once", got)
	}
	// Reaching the threshold again (4 -> 10) detects the window again.
	if res := commit(t, st, []etl.ObjectDone{reprocess}, matches(6, alice, "a", at)...); res != (etl.GroupResult{Objects: 1, SeenAgain: 1}) {
		t.Errorf("reaching the threshold again = %+v, want 1 seen again", res)
	}
	if got := correlated(t, st); len(got) != 1 || got[0].SeenCount != 2 {
		t.Errorf("violations = %+v, want the one, seen twice", got)
	}
}

// TestCorrelation_lostObjectsDoNotCount commits objects a concurrent batch
// committed first: their matches are not counted again.
func TestCorrelation_lostObjectsDoNotCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lostA []rules.Violation // what the losing batch found in a
	}{
		{"same matches", nil},
		{"other matches", matches(8, alice, "a", win0.Add(3*time.Minute))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := setup(t)
			a := matches(6, alice, "a", win0.Add(time.Minute))
			if tt.lostA == nil {
				tt.lostA = a
			}
			commit(t, st, []etl.ObjectDone{object("a")}, a...)
			// A batch that read a before the first committed it, and b.
			vs := append(slices.Clone(tt.lostA), matches(3, alice, "b", win0.Add(2*time.Minute))...)
			if res := commit(t, st, []etl.ObjectDone{object("a"), object("b")}, vs...); res != (etl.GroupResult{Objects: 1}) {
				t.Errorf("commit with a lost = %+v, want 1 object (b), no violation", res)
			}
			if a, b := objectEvents(t, st, "a"), objectEvents(t, st, "b"); a != 6 || b != 3 {
				t.Errorf("a counts %d, b %d; want 6 and 3", a, b)
			}
			if got := list(t, st); len(got) != 0 {
				t.Errorf("violations after 6+3 (a lost once) = %+v, want none", got)
			}
			// One more event reaches 10 only if a counted once.
			if res := commit(t, st, []etl.ObjectDone{object("c")}, matches(1, alice, "c", win0.Add(4*time.Minute))...); res.New != 1 {
				t.Errorf("commit of the tenth event = %+v, want 1 new", res)
			}
			if got := correlated(t, st); len(got) != 1 || meta(t, got[0]).Events != 10 {
				t.Errorf("violations = %+v, want one of 10 events", got)
			}
		})
	}
}

// TestCorrelation_concurrentCommitsOfOneObject has two batches commit the
// same object at once: it counts once.
func TestCorrelation_concurrentCommitsOfOneObject(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	stores := []*Store{open(t, url), open(t, url)}
	if err := stores[0].Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		start := win0.Add(time.Duration(i) * 5 * time.Minute)
		key := fmt.Sprint("a", i)
		a := matches(6, alice, key, start)
		results := make([]etl.GroupResult, 2)
		ready := make(chan struct{})
		var g errgroup.Group
		for w, st := range stores {
			g.Go(func() error {
				<-ready
				var err error
				results[w], err = st.ViolationCommitGroup(context.Background(), fmt.Sprint("h", w), []etl.ObjectDone{object(key)}, rules.Findings{Violations: a})
				return err
			})
		}
		close(ready)
		if err := g.Wait(); err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
		if results[0].Objects+results[1].Objects != 1 {
			t.Errorf("iteration %d: results %+v, want the object committed once", i, results)
		}
		if n := objectEvents(t, stores[0], key); n != 6 {
			t.Errorf("iteration %d: %s counts %d, want 6", i, key, n)
		}
	}
	if got := list(t, stores[0]); len(got) != 0 {
		t.Errorf("violations = %+v, want none", got)
	}
}

// TestCorrelation_concurrentCommitsOfOneWindow has two writers commit an
// object each at once, with 5 matches each in one window of threshold 10:
// each window is detected exactly once.
func TestCorrelation_concurrentCommitsOfOneWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.New(t)
	stores := []*Store{open(t, url), open(t, url)}
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const iterations = 10
	for i := range iterations {
		start := win0.Add(time.Duration(i) * 5 * time.Minute)
		results := make([]etl.GroupResult, 2)
		release := holdCounts(t, stores[0])
		var g errgroup.Group
		for w, st := range stores {
			holder, key := fmt.Sprint("h", w), fmt.Sprintf("w%d-%d", i, w)
			vs := matches(5, alice, key, start.Add(time.Duration(w)*time.Second))
			if got := claim(t, st, holder, time.Minute, key); len(got) != 1 {
				t.Fatalf("claim of %s = %v", key, got)
			}
			g.Go(func() error {
				var err error
				results[w], err = st.ViolationCommitGroup(ctx, holder, []etl.ObjectDone{object(key)}, rules.Findings{Violations: vs})
				return err
			})
		}
		release(len(stores))
		if err := g.Wait(); err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
		if n := results[0].New + results[1].New; n != 1 || results[0].Objects != 1 || results[1].Objects != 1 {
			t.Errorf("iteration %d: results %+v, want both objects committed and 1 new violation in all", i, results)
		}
	}
	got := correlated(t, stores[0])
	perWindow := map[string]int{}
	for _, v := range got {
		perWindow[v.EventID]++
		if m := meta(t, v); m.Events != 10 {
			t.Errorf("window %s: %d events in the meta, want 10", v.EventID, m.Events)
		}
	}
	for i := range iterations {
		w := win0.Add(time.Duration(i) * 5 * time.Minute).Format(time.RFC3339)
		if perWindow[w] != 1 {
			t.Errorf("window %s: %d violations, want 1", w, perWindow[w])
		}
	}
	if len(got) != iterations {
		t.Errorf("%d violations, want %d", len(got), iterations)
	}
	if h := holders(t, stores[0]); h != "" {
		t.Errorf("leases after the commits = %q, want none", h)
	}
}

// TestCorrelation_concurrentManyWindows has several writers commit objects
// with matches in the same windows, listed in different orders, at once:
// no deadlock, and each window is detected once.
func TestCorrelation_concurrentManyWindows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.New(t)
	const writers, windows = 4, 8
	stores := make([]*Store, writers)
	for i := range stores {
		stores[i] = open(t, url)
	}
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	total := etl.GroupResult{}
	release := holdCounts(t, stores[0])
	var g errgroup.Group
	for w, st := range stores {
		key := fmt.Sprint("w", w)
		var vs []rules.Violation
		for i := range windows {
			j := (i + w*3) % windows // each writer its own order
			vs = append(vs, matches(5, alice, key, win0.Add(time.Duration(j)*5*time.Minute))...)
		}
		g.Go(func() error {
			res, err := st.ViolationCommitGroup(ctx, "h"+key, []etl.ObjectDone{object(key)}, rules.Findings{Violations: vs})
			mu.Lock()
			total.Objects, total.New, total.SeenAgain = total.Objects+res.Objects, total.New+res.New, total.SeenAgain+res.SeenAgain
			mu.Unlock()
			return err
		})
	}
	release(writers)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if total != (etl.GroupResult{Objects: writers, New: windows}) {
		t.Errorf("results add up to %+v, want %d objects, %d new", total, writers, windows)
	}
	got := correlated(t, stores[0])
	if len(got) != windows {
		t.Fatalf("%d violations, want %d", len(got), windows)
	}
	for _, v := range got {
		if v.SeenCount != 1 || meta(t, v).Events != 5*writers {
			t.Errorf("violation %s seen %d times, meta %s; want once, %d events", v.EventID, v.SeenCount, v.MetaInfo, 5*writers)
		}
	}
}

// TestCorrelation_mixedGroup commits ordinary violations and matches in
// one group: the ordinary ones are stored as before.
func TestCorrelation_mixedGroup(t *testing.T) {
	t.Parallel()
	st := setup(t)
	plain := []rules.Violation{violation("e1"), violation("e2"), violation("e1")}
	for i := range plain {
		plain[i].ObjectKey = "a"
	}
	vs := slices.Concat(plain[:1], matches(7, alice, "a", win0), plain[1:], matches(3, alice, "b", win0.Add(time.Minute)))
	if res := commit(t, st, []etl.ObjectDone{object("a"), object("b")}, vs...); res != (etl.GroupResult{Objects: 2, New: 3}) {
		t.Errorf("commit = %+v, want 2 objects, 3 new (e1, e2, the window)", res)
	}
	got := list(t, st)
	byEvent := map[string]StoredViolation{}
	for _, s := range got {
		byEvent[s.EventID] = s
	}
	if len(got) != 3 {
		t.Fatalf("stored %+v, want e1, e2 and the window", got)
	}
	v := violation("e1")
	if e1 := byEvent["e1"]; e1.Type != v.Type || e1.SeenCount != 2 || e1.InstanceID != v.InstanceID || e1.Region != v.Region ||
		e1.MetaInfo != v.MetaInfo || e1.Rule != v.Rule || !e1.EventTime.Equal(t0) {
		t.Errorf("e1 = %+v, want the fields of %+v, seen twice", e1, v)
	}
	if e2 := byEvent["e2"]; e2.Type != v.Type || e2.SeenCount != 1 {
		t.Errorf("e2 = %+v, want seen once", e2)
	}
	if w := byEvent["2024-05-01T10:00:00Z"]; w.Type != corrType || meta(t, w).Events != 10 {
		t.Errorf("window violation = %+v, want one of 10 events", w)
	}
	// Plain violations of a lost object are dropped as before, its
	// matches too; the other object's are written.
	again := append([]rules.Violation{violation("e3")}, matches(2, alice, "a", win0)...)
	again[0].ObjectKey = "a"
	c := violation("e4")
	c.ObjectKey = "c"
	if res := commit(t, st, []etl.ObjectDone{object("a"), object("c")}, append(again, c)...); res != (etl.GroupResult{Objects: 1, New: 1}) {
		t.Errorf("commit with a lost = %+v, want 1 object, 1 new (e4)", res)
	}
	if n := objectEvents(t, st, "a"); n != 7 {
		t.Errorf("a counts %d, want 7", n)
	}
}

// Matches that name an object outside the group (the engine names the
// group's own) count for that object, replaced on its next commit.
func TestCorrelation_matchOfAnotherObject(t *testing.T) {
	t.Parallel()
	st := setup(t)
	if res := commit(t, st, []etl.ObjectDone{object("a")}, matches(3, alice, "z", win0)...); res != (etl.GroupResult{Objects: 1}) {
		t.Errorf("first commit = %+v", res)
	}
	if res := commit(t, st, []etl.ObjectDone{object("b")}, matches(3, alice, "z", win0.Add(time.Minute))...); res != (etl.GroupResult{Objects: 1}) {
		t.Errorf("second commit = %+v", res)
	}
	if n := objectEvents(t, st, "z"); n != 3 {
		t.Errorf("z counts %d events, want the 3 of its latest commit", n)
	}
}

// What is stored for a window does not depend on the order its objects
// come in, nor on how they are grouped: the count and the earliest match
// are the window's.
func TestCorrelation_orderDoesNotMatter(t *testing.T) {
	t.Parallel()
	a := matches(6, alice, "a", win0.Add(2*time.Minute))
	b := matches(4, alice, "b", win0.Add(time.Minute)) // b holds the earliest match
	c := matches(3, alice, "c", win0.Add(3*time.Minute))
	orders := map[string][][]string{
		"a, b, c":   {{"a"}, {"b"}, {"c"}},
		"c, b, a":   {{"c"}, {"b"}, {"a"}},
		"b + a, c":  {{"b", "a"}, {"c"}},
		"one group": {{"a", "b", "c"}},
	}
	by := map[string][]rules.Violation{"a": a, "b": b, "c": c}
	var first string
	for _, name := range []string{"a, b, c", "c, b, a", "b + a, c", "one group"} {
		st := setup(t)
		for _, group := range orders[name] {
			var objs []etl.ObjectDone
			var vs []rules.Violation
			for _, o := range group {
				objs, vs = append(objs, object(o)), append(vs, by[o]...)
			}
			commit(t, st, objs, vs...)
		}
		got := correlated(t, st)
		if len(got) != 1 {
			t.Fatalf("%s: %d violations, want 1", name, len(got))
		}
		row := fmt.Sprint(got[0].EventID, got[0].InstanceID, got[0].SeenCount, got[0].MetaInfo)
		if m := meta(t, got[0]); m.Events != 13 || m.FirstEvent != b[0].EventID {
			t.Errorf("%s: meta %+v, want 13 events, the earliest %s", name, m, b[0].EventID)
		}
		if first == "" {
			first = row
		} else if row != first {
			t.Errorf("%s: stored %s, want what the first order stored, %s", name, row, first)
		}
	}
}
