package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
)

var t0 = time.Date(2024, 5, 1, 10, 11, 12, 0, time.UTC)

// violation returns a WRONG_REGION violation of event id, instance i-1.
func violation(event string) rules.Violation {
	return rules.Violation{
		Type:       "WRONG_REGION",
		EventID:    event,
		AccountID:  "123456789012",
		Region:     "eu-west-1",
		InstanceID: "i-1",
		Username:   "arn:aws:iam::123456789012:user/alice",
		MetaInfo:   `{"region":"eu-west-1"}`,
		Rule:       "sql/rules/WRONG_REGION.sql",
		EventTime:  t0,
		ObjectKey:  "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/a.json.gz",
	}
}

// object returns a processed object with the given key.
func object(key string) etl.ObjectDone {
	return etl.ObjectDone{Key: key, ETag: "etag-" + key, Size: 100, Events: 10, Violations: 1,
		StartedAt: t0, FinishedAt: t0.Add(1500 * time.Millisecond)}
}

func commit(t *testing.T, st *Store, objs []etl.ObjectDone, vs ...rules.Violation) etl.GroupResult {
	t.Helper()
	res, err := st.ViolationCommitGroup(context.Background(), "test", objs, rules.Findings{Violations: vs})
	if err != nil {
		t.Fatalf("commit group: %v", err)
	}
	return res
}

func list(t *testing.T, st *Store) []StoredViolation {
	t.Helper()
	vs, err := st.ViolationList(context.Background())
	if err != nil {
		t.Fatalf("list violations: %v", err)
	}
	return vs
}

// ledgerRow is a ledger row as text, NULL as "<nil>".
type ledgerRow struct {
	status, etag, size, events, skipped, reasons, violations, errText, attempts string
	first, last, finished, duration                                             string
}

func readLedger(t *testing.T, st *Store, key string) (ledgerRow, bool) {
	t.Helper()
	var r ledgerRow
	var found bool
	err := st.pool.QueryRow(context.Background(), `
		SELECT true, status, coalesce(etag, '<nil>'), coalesce(size::text, '<nil>'), coalesce(events::text, '<nil>'),
		       coalesce(skipped_records::text, '<nil>'), coalesce(skip_reasons, '<nil>'),
		       coalesce(violations::text, '<nil>'), coalesce(error, '<nil>'), attempts::text,
		       coalesce(to_char(first_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '<nil>'),
		       coalesce(to_char(last_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '<nil>'),
		       coalesce(to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), '<nil>'),
		       coalesce(duration_ms::text, '<nil>')
		FROM fullstop_data.ledger WHERE object_key = $1`, key).
		Scan(&found, &r.status, &r.etag, &r.size, &r.events, &r.skipped, &r.reasons, &r.violations, &r.errText,
			&r.attempts, &r.first, &r.last, &r.finished, &r.duration)
	if err != nil && !strings.Contains(err.Error(), "no rows") {
		t.Fatalf("read ledger: %v", err)
	}
	return r, found
}

func TestViolationCommitGroup_firstInsert(t *testing.T) {
	t.Parallel()
	st := setup(t)
	v1 := violation("e1")
	v2 := violation("e2")
	v2.InstanceID, v2.Username, v2.MetaInfo, v2.Rule, v2.EventTime = "", "", "", "", time.Time{}

	res := commit(t, st, []etl.ObjectDone{object("a")}, v1, v2)
	if res != (etl.GroupResult{Objects: 1, New: 2}) {
		t.Errorf("result = %+v, want 2 new", res)
	}
	got := list(t, st)
	if len(got) != 2 {
		t.Fatalf("%d violations stored, want 2", len(got))
	}
	s := got[0]
	if s.Type != v1.Type || s.EventID != "e1" || s.AccountID != v1.AccountID || s.Region != v1.Region ||
		s.InstanceID != "i-1" || s.Username != v1.Username || s.MetaInfo != v1.MetaInfo || s.Rule != v1.Rule ||
		s.Comment != "" || s.SeenCount != 1 || !s.EventTime.Equal(t0) || s.Created.IsZero() || !s.LastSeen.Equal(s.Created) {
		t.Errorf("stored %+v, want the fields of %+v, seen once", s, v1)
	}

	// Empty strings are NULL, and the audit columns are FULLSTOP's.
	var nulls, audit int
	err := st.pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE instance_id IS NULL AND username IS NULL AND meta_info IS NULL
		                          AND plugin_fully_qualified_class_name IS NULL AND event_time IS NULL),
		       count(*) FILTER (WHERE created_by = 'FULLSTOP' AND last_modified_by = 'FULLSTOP')
		FROM fullstop_data.violation`).Scan(&nulls, &audit)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if nulls != 1 || audit != 2 {
		t.Errorf("%d rows with NULLs (want 1), %d with FULLSTOP audit columns (want 2)", nulls, audit)
	}

	row, ok := readLedger(t, st, "a")
	want := ledgerRow{status: "done", etag: "etag-a", size: "100", events: "10", skipped: "0", reasons: "<nil>",
		violations: "1", errText: "<nil>", attempts: "1", first: "2024-05-01 10:11:12", last: "2024-05-01 10:11:12",
		finished: "2024-05-01 10:11:13.500", duration: "1500"}
	if !ok || row != want {
		t.Errorf("ledger row = %+v (found %v), want %+v", row, ok, want)
	}
}

func TestViolationCommitGroup_reDetection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t)
	commit(t, st, []etl.ObjectDone{object("a")}, violation("e1"), violation("e2"))

	// Resolve e1 by hand (and whitelist it), and age both.
	exec(t, st, `INSERT INTO fullstop_data.rule (id, account_id, reason, expiry_date, created_by)
		VALUES (7, '123456789012', 'test', '2100-01-01', 'test')`)
	exec(t, st, `UPDATE fullstop_data.violation SET comment = 'fixed it', rule_entity_id = 7 WHERE event_id = 'e1'`)
	exec(t, st, `UPDATE fullstop_data.violation SET last_seen = '2000-01-01Z', created = '2000-01-01Z'`)

	v := violation("e1")
	v.MetaInfo = `{"changed":true}`
	res := commit(t, st, []etl.ObjectDone{object("b")}, v, violation("e3"))
	if res != (etl.GroupResult{Objects: 1, New: 1, SeenAgain: 1}) {
		t.Errorf("result = %+v, want 1 new, 1 seen again", res)
	}
	got := list(t, st)
	if len(got) != 3 {
		t.Fatalf("%d violations stored, want 3", len(got))
	}
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	e1, e2 := got[0], got[1]
	if e1.EventID != "e1" || e1.Comment != "fixed it" || e1.SeenCount != 2 || !e1.LastSeen.After(old) ||
		!e1.Created.Equal(old) || e1.MetaInfo != violation("e1").MetaInfo {
		t.Errorf("re-detected violation = %+v, want resolution, created and meta kept, seen twice, last_seen now", e1)
	}
	if e2.SeenCount != 1 || !e2.LastSeen.Equal(old) {
		t.Errorf("untouched violation = %+v, want seen once, last_seen unchanged", e2)
	}
	var rule int64
	if err := st.pool.QueryRow(ctx, `SELECT rule_entity_id FROM fullstop_data.violation WHERE event_id = 'e1'`).Scan(&rule); err != nil {
		t.Fatalf("query: %v", err)
	}
	if rule != 7 {
		t.Errorf("rule_entity_id = %d after re-detection, want 7", rule)
	}
}

func TestViolationCommitGroup_duplicatesInGroup(t *testing.T) {
	t.Parallel()
	st := setup(t)
	first := violation("e1")
	second := violation("e1")
	second.MetaInfo = `{"second":true}`
	noInstance := violation("e1")
	noInstance.InstanceID = ""
	otherType := violation("e1")
	otherType.Type = "WRONG_AMI"

	res := commit(t, st, []etl.ObjectDone{object("a"), object("b")}, first, second, noInstance, violation("e1"), noInstance, otherType)
	if res != (etl.GroupResult{Objects: 2, New: 3}) {
		t.Errorf("result = %+v, want 3 new", res)
	}
	got := list(t, st)
	counts := map[string]int{}
	for _, s := range got {
		counts[s.Type+"/"+s.InstanceID] = s.SeenCount
		if s.Type == "WRONG_REGION" && s.InstanceID == "i-1" && s.MetaInfo != first.MetaInfo {
			t.Errorf("merged violation has meta %s, want the first one's %s", s.MetaInfo, first.MetaInfo)
		}
	}
	want := map[string]int{"WRONG_REGION/i-1": 3, "WRONG_REGION/": 2, "WRONG_AMI/i-1": 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("seen counts = %v, want %v", counts, want)
	}
}

func TestViolationCommitGroup_nullInstanceIDsEqual(t *testing.T) {
	t.Parallel()
	st := setup(t)
	v := violation("e1")
	v.InstanceID = ""
	commit(t, st, []etl.ObjectDone{object("a")}, v)
	res := commit(t, st, []etl.ObjectDone{object("b")}, v)
	if res != (etl.GroupResult{Objects: 1, SeenAgain: 1}) {
		t.Errorf("result = %+v, want 1 seen again", res)
	}
	got := list(t, st)
	if len(got) != 1 || got[0].SeenCount != 2 || got[0].InstanceID != "" {
		t.Errorf("stored %+v, want one violation without instance, seen twice", got)
	}
}

func TestViolationCommitGroup_unknownType(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t)
	v := violation("e1")
	v.Type = "BRAND_NEW_TYPE"
	commit(t, st, []etl.ObjectDone{object("a")}, v, violation("e1"))

	types, err := st.ViolationTypes(ctx)
	if err != nil {
		t.Fatalf("violation types: %v", err)
	}
	if len(types) != 32 {
		t.Errorf("%d types, want the 31 seeded and 1 created", len(types))
	}
	i := slices.IndexFunc(types, func(vt ViolationType) bool { return vt.ID == "BRAND_NEW_TYPE" })
	if i < 0 {
		t.Fatalf("type BRAND_NEW_TYPE not created")
	}
	want := ViolationType{ID: "BRAND_NEW_TYPE", HelpText: "This is only a default message", CreatedBy: "FULLSTOP", LastModifiedBy: "FULLSTOP"}
	got := types[i]
	if got.Created.IsZero() || got.LastModified.IsZero() {
		t.Errorf("created type has no created/last_modified time: %+v", got)
	}
	got.Created, got.LastModified = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("created type = %+v, want %+v (no title, severity 0, no priority)", got, want)
	}
	if n, err := st.ViolationCount(ctx); err != nil || n != 2 {
		t.Errorf("ViolationCount = %d, %v; want 2", n, err)
	}
}

func TestViolationCommitGroup_atomic(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	badViolation := violation("e1")
	badViolation.Type = "" // violation_type_id_not_empty
	badObject := object("b")
	badObject.Size = -1 // ledger_size_check
	newType := violation("e2")
	newType.Type = "NEW_TYPE"

	tests := []struct {
		name    string
		ctx     context.Context
		objs    []etl.ObjectDone
		vs      []rules.Violation
		wantErr string
	}{
		{"a bad violation leaves no ledger row", context.Background(),
			[]etl.ObjectDone{object("a")}, []rules.Violation{violation("e0"), badViolation}, "violation_type_id_not_empty"},
		{"a bad ledger row leaves no violation", context.Background(),
			[]etl.ObjectDone{object("a"), badObject}, []rules.Violation{violation("e1"), newType}, "ledger_size_check"},
		{"a canceled context writes nothing", canceled,
			[]etl.ObjectDone{object("a")}, []rules.Violation{violation("e1")}, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := setup(t)
			_, err := st.ViolationCommitGroup(tt.ctx, "test", tt.objs, rules.Findings{Violations: tt.vs})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("commit error = %v, want one containing %q", err, tt.wantErr)
			}
			ctx := context.Background()
			var violations, ledger, types int
			err = st.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM fullstop_data.violation),
				(SELECT count(*) FROM fullstop_data.ledger), (SELECT count(*) FROM fullstop_data.violation_type)`).
				Scan(&violations, &ledger, &types)
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			if violations != 0 || ledger != 0 || types != 31 {
				t.Errorf("after a failed commit: %d violations, %d ledger rows, %d types; want 0, 0, 31", violations, ledger, types)
			}
			// The store is still usable.
			if res := commit(t, st, []etl.ObjectDone{object("a")}, violation("e1")); res.New != 1 {
				t.Errorf("commit after failure = %+v, want 1 new", res)
			}
		})
	}
}

func TestViolationCommitGroup_cleansText(t *testing.T) {
	t.Parallel()
	st := setup(t)
	v := violation("e1")
	v.InstanceID = "i-\x00bad"
	v.MetaInfo = "{\"x\":\"\xff\"}"
	obj := object("a")
	obj.SkipReasons = []string{"record 3: bad \x00 byte"}
	commit(t, st, []etl.ObjectDone{obj}, v, v)
	got := list(t, st)
	if len(got) != 1 || got[0].InstanceID != "i-\uFFFDbad" || got[0].MetaInfo != "{\"x\":\"\uFFFD\"}" || got[0].SeenCount != 2 {
		t.Errorf("stored %+v, want NUL and invalid UTF-8 replaced by U+FFFD, merged", got)
	}
	if row, _ := readLedger(t, st, "a"); row.reasons != "record 3: bad \uFFFD byte" {
		t.Errorf("skip reasons = %q", row.reasons)
	}
}

func TestViolationCommitGroup_ledger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t)

	// Only objects, no violations; the first reasons are kept, one a line.
	obj := object("a")
	obj.Skipped = 25
	for i := range 25 {
		obj.SkipReasons = append(obj.SkipReasons, fmt.Sprintf("record %d: not an object\n(line two)", i))
	}
	if res := commit(t, st, []etl.ObjectDone{obj, object("b")}); res != (etl.GroupResult{Objects: 2}) {
		t.Errorf("result = %+v, want 2 objects and no violations", res)
	}
	row, _ := readLedger(t, st, "a")
	lines := strings.Split(row.reasons, "\n")
	if row.skipped != "25" || len(lines) != maxSkipReasons || lines[0] != "record 0: not an object (line two)" {
		t.Errorf("skipped %s, reasons %q: want 25 skipped and the first %d reasons", row.skipped, row.reasons, maxSkipReasons)
	}

	// A failed attempt, then success: the error is gone, attempts count both.
	if _, err := st.LedgerMarkFailed(ctx, "test", etl.ObjectFailed{Key: "c", ETag: "etag-c", Size: 100, Reason: "gunzip: bad header"}, 3); err != nil {
		t.Fatalf("mark failed: %v", err)
	}
	commit(t, st, []etl.ObjectDone{object("c"), object("c")})
	row, _ = readLedger(t, st, "c")
	if row.status != etl.StatusDone || row.attempts != "2" || row.errText != "<nil>" || row.size != "100" {
		t.Errorf("ledger row after failure and success = %+v, want done, 2 attempts, no error", row)
	}

	states, err := st.LedgerStates(ctx, []string{"a", "c", "missing"})
	if err != nil {
		t.Fatalf("ledger states: %v", err)
	}
	want := map[string]etl.ObjectState{
		"a": {Key: "a", ETag: "etag-a", Size: 100, Status: etl.StatusDone, Attempts: 1},
		"c": {Key: "c", ETag: "etag-c", Size: 100, Status: etl.StatusDone, Attempts: 2},
	}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("ledger states = %v, want %v", states, want)
	}
	if states, err := st.LedgerStates(ctx, nil); err != nil || len(states) != 0 {
		t.Errorf("ledger states of no keys = %v, %v; want empty", states, err)
	}
}

func TestViolationCommitGroup_empty(t *testing.T) {
	t.Parallel()
	st := setup(t)
	if res := commit(t, st, nil); res != (etl.GroupResult{}) {
		t.Errorf("result = %+v, want nothing", res)
	}
}

// TestViolationCommitGroup_concurrent writes overlapping groups from several
// writers at once, in different orders.
func TestViolationCommitGroup_concurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t)
	const writers, violations = 4, 200
	var vs []rules.Violation
	for i := range violations {
		v := violation(fmt.Sprintf("e%03d", i))
		if i%3 == 0 {
			v.InstanceID = ""
		}
		if i%50 == 0 {
			v.Type = "NEW_TYPE"
		}
		vs = append(vs, v)
	}
	var g errgroup.Group
	results := make([]etl.GroupResult, writers)
	for w := range writers {
		mine := slices.Clone(vs)
		rand.New(rand.NewPCG(uint64(w), 1)).Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
		g.Go(func() error {
			var err error
			results[w], err = st.ViolationCommitGroup(ctx, "test", []etl.ObjectDone{object(fmt.Sprint("w", w)), object("shared")}, rules.Findings{Violations: mine})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("concurrent commits: %v", err)
	}
	var total etl.GroupResult
	for _, r := range results {
		total.New += r.New
		total.SeenAgain += r.SeenAgain
	}
	if total != (etl.GroupResult{New: violations, SeenAgain: violations * (writers - 1)}) {
		t.Errorf("results add up to %+v, want %d new and %d seen again", total, violations, violations*(writers-1))
	}
	for _, s := range list(t, st) {
		if s.SeenCount != writers {
			t.Errorf("violation %s seen %d times, want %d", s.EventID, s.SeenCount, writers)
		}
	}
	// The shared object is committed by the first writer only; the others
	// find it done and leave it alone.
	if row, _ := readLedger(t, st, "shared"); row.attempts != "1" {
		t.Errorf("shared object has %s attempts, want 1", row.attempts)
	}
}

func TestViolationCommitGroup_objectDoneByAnotherBatch(t *testing.T) {
	t.Parallel()
	st := setup(t)
	obj := object("a")
	v := violation("e1")
	v.ObjectKey = "a"
	other := violation("e2") // of an object outside the group: always written
	if res := commit(t, st, []etl.ObjectDone{obj}, v); res != (etl.GroupResult{Objects: 1, New: 1}) {
		t.Fatalf("first commit = %+v, want 1 new", res)
	}
	// A second batch that read the object before the first committed:
	// the object's violations are dropped, the rest is written.
	if res := commit(t, st, []etl.ObjectDone{obj, object("b")}, v, other); res != (etl.GroupResult{Objects: 1, New: 1}) {
		t.Fatalf("commit of an object done meanwhile = %+v, want only the other violation new", res)
	}
	if row, _ := readLedger(t, st, "a"); row.attempts != "1" {
		t.Errorf("object done by another batch has %s attempts, want 1", row.attempts)
	}
	// Reprocessing on purpose counts the detection again.
	obj.Reprocess = true
	if res := commit(t, st, []etl.ObjectDone{obj}, v); res != (etl.GroupResult{Objects: 1, SeenAgain: 1}) {
		t.Fatalf("reprocess commit = %+v, want 1 seen again", res)
	}
	if row, _ := readLedger(t, st, "a"); row.attempts != "2" {
		t.Errorf("reprocessed object has %s attempts, want 2", row.attempts)
	}
	// A failure reported for a done object does not undo it.
	q, err := st.LedgerMarkFailed(context.Background(), "test", etl.ObjectFailed{Key: "a", ETag: obj.ETag, Size: obj.Size, Reason: "late failure"}, 1)
	if err != nil || q {
		t.Fatalf("mark done object failed = %v, %v; want false, nil", q, err)
	}
	if row, _ := readLedger(t, st, "a"); row.status != etl.StatusDone {
		t.Errorf("done object has status %q after a failure report, want done", row.status)
	}
}

func TestViolationList_empty(t *testing.T) {
	t.Parallel()
	st := setup(t)
	if got := list(t, st); len(got) != 0 {
		t.Errorf("list of a new database = %+v, want empty", got)
	}
	if n, err := st.ViolationCount(context.Background()); err != nil || n != 0 {
		t.Errorf("ViolationCount = %d, %v; want 0", n, err)
	}
}
