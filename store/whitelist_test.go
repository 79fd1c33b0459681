package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

// Whitelisting through the store: rules read inside the group transaction
// and applied to new violations only (reference §6.3), and
// WhitelistRuleApply for the open ones stored before.

// wlForever is the expiry of a rule that stays in force.
var wlForever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// wlObjSeq makes the object keys of wlCommit unique.
var wlObjSeq atomic.Int64

// wlCommit commits vs as one group of a new object.
func wlCommit(t *testing.T, st *Store, vs ...rules.Violation) etl.GroupResult {
	t.Helper()
	key := fmt.Sprintf("AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/wl-%d.json.gz", wlObjSeq.Add(1))
	for i := range vs {
		vs[i].ObjectKey = key
	}
	return commit(t, st, []etl.ObjectDone{object(key)}, vs...)
}

// wlCreate stores rule r in force until wlForever.
func wlCreate(t *testing.T, st *Store, r rules.WhitelistRule) StoredWhitelistRule {
	t.Helper()
	out, err := st.WhitelistRuleCreate(context.Background(), r, wlForever, "tester")
	if err != nil {
		t.Fatalf("create rule %+v: %v", r, err)
	}
	return out
}

// wlRow is the whitelisting state of a stored violation.
type wlRow struct {
	id      int64
	ruleID  *int64
	comment *string
	seen    int
}

func (r wlRow) String() string {
	rule, comment := "NULL", "NULL"
	if r.ruleID != nil {
		rule = fmt.Sprint(*r.ruleID)
	}
	if r.comment != nil {
		comment = fmt.Sprintf("%q", *r.comment)
	}
	return fmt.Sprintf("violation %d (rule %s, comment %s, seen %d)", r.id, rule, comment, r.seen)
}

// wlRead reads the violation of event id.
func wlRead(t *testing.T, st *Store, event string) wlRow {
	t.Helper()
	var r wlRow
	err := st.pool.QueryRow(context.Background(),
		`SELECT id, rule_entity_id, comment, seen_count FROM fullstop_data.violation WHERE event_id = $1`, event).
		Scan(&r.id, &r.ruleID, &r.comment, &r.seen)
	if err != nil {
		t.Fatalf("read violation of event %s: %v", event, err)
	}
	return r
}

// wlCheck checks that the violation of event is whitelisted by rule, or
// open when rule is nil.
func wlCheck(t *testing.T, st *Store, event string, rule *StoredWhitelistRule) wlRow {
	t.Helper()
	r := wlRead(t, st, event)
	if rule == nil {
		if r.ruleID != nil || r.comment != nil {
			t.Errorf("event %s: %v, want it open", event, r)
		}
		return r
	}
	want := "Whitelisted automatically because of:" + rule.Reason
	if r.ruleID == nil || *r.ruleID != rule.ID || r.comment == nil || *r.comment != want {
		t.Errorf("event %s: %v, want it whitelisted by rule %d with comment %q", event, r, rule.ID, want)
	}
	return r
}

// wlApply applies rule id and returns the count.
func wlApply(t *testing.T, st *Store, id int64, dryRun bool) int {
	t.Helper()
	n, err := st.WhitelistRuleApply(context.Background(), id, dryRun, "applier")
	if err != nil {
		t.Fatalf("apply rule %d (dry run %v): %v", id, dryRun, err)
	}
	return n
}

// wlLog is a logger whose output the test reads.
type wlLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *wlLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *wlLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// wlSetupLogged is setup with the store's log kept.
func wlSetupLogged(t *testing.T) (*Store, *wlLog) {
	t.Helper()
	lg := &wlLog{}
	st, err := Open(context.Background(), pgtest.New(t), &Config{Log: slog.New(slog.NewTextHandler(lg, nil))})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st, lg
}

// TestWhitelist_criteria checks each criterion through the full store
// path: a violation committed after the rule is whitelisted iff the rule
// matches, one committed before stays open, and applying the rule
// whitelists it iff the rule matches.
func TestWhitelist_criteria(t *testing.T) {
	t.Parallel()
	const (
		grantee = "arn:aws:iam::999888777666:root"
		granted = `$.[?(@.grantees == ['arn:aws:iam::999888777666:root'])]`
		sesUser = `$.[?(@.user_name =~ /ses\.ci-master-.+/)]`
	)
	meta := func(m string) func(*rules.Violation) { return func(v *rules.Violation) { v.MetaInfo = m } }
	stack := func(app, version string) func(*rules.Violation) {
		return func(v *rules.Violation) { v.Application, v.Version = app, version }
	}
	tests := []struct {
		name  string
		rule  rules.WhitelistRule
		edit  func(*rules.Violation) // of violation("…"); nil: as it is
		match bool
	}{
		{"account_id equal", rules.WhitelistRule{AccountID: "123456789012"}, nil, true},
		{"account_id trimmed", rules.WhitelistRule{AccountID: " 123456789012\t"}, nil, true},
		{"account_id differs", rules.WhitelistRule{AccountID: "123456789013"}, nil, false},
		{"account_id prefix", rules.WhitelistRule{AccountID: "12345678901"}, nil, false},
		{"region equal", rules.WhitelistRule{Region: "eu-west-1"}, nil, true},
		{"region differs", rules.WhitelistRule{Region: "eu-central-1"}, nil, false},
		{"type equal", rules.WhitelistRule{Type: "WRONG_REGION"}, nil, true},
		{"type differs", rules.WhitelistRule{Type: "EC2_WITH_KEYPAIR"}, nil, false},

		{"image_name not a full match", rules.WhitelistRule{ImageName: "ubuntu"}, meta(`{"ami_name":"ubuntu-22.04"}`), false},
		{"image_name full match", rules.WhitelistRule{ImageName: "ubuntu-.*"}, meta(`{"ami_name":"ubuntu-22.04"}`), true},
		{"image_name exact", rules.WhitelistRule{ImageName: "ubuntu"}, meta(`{"ami_name":"ubuntu"}`), true},
		{"image_name suffix", rules.WhitelistRule{ImageName: "22.04"}, meta(`{"ami_name":"ubuntu-22.04"}`), false},
		{"image_name alternation, second", rules.WhitelistRule{ImageName: "ubuntu|debian"}, meta(`{"ami_name":"debian"}`), true},
		{"image_name alternation, no full match", rules.WhitelistRule{ImageName: "ubuntu|debian"}, meta(`{"ami_name":"ubuntu-22.04"}`), false},
		{"image_name without ami_name", rules.WhitelistRule{ImageName: ".*"}, meta(`{"region":"eu-west-1"}`), false},
		{"image_name on an array", rules.WhitelistRule{ImageName: ".*"}, meta(`[{"ami_name":"x"}]`), false},
		{"image_name on text", rules.WhitelistRule{ImageName: ".*"}, meta(`not json`), false},
		{"image_name on no meta", rules.WhitelistRule{ImageName: ".*"}, meta(``), false},
		{"image_name, ami_name a number", rules.WhitelistRule{ImageName: "1.*"}, meta(`{"ami_name":123}`), false},

		{"image_owner equal", rules.WhitelistRule{ImageOwner: "999888777666"}, meta(`{"ami_owner_id":"999888777666"}`), true},
		{"image_owner a number", rules.WhitelistRule{ImageOwner: "999888777666"}, meta(`{"ami_owner_id":999888777666}`), true},
		{"image_owner differs", rules.WhitelistRule{ImageOwner: "999888777666"}, meta(`{"ami_owner_id":"111122223333"}`), false},
		{"image_owner absent", rules.WhitelistRule{ImageOwner: "999888777666"}, meta(`{"owner":"999888777666"}`), false},
		{"image_owner on text", rules.WhitelistRule{ImageOwner: "999888777666"}, meta(`999888777666`), false},
		{"image_name and image_owner", rules.WhitelistRule{ImageName: "taupage-.*", ImageOwner: "999888777666"},
			meta(`{"ami_name":"taupage-ami-1","ami_owner_id":"999888777666"}`), true},
		{"image_name holds, image_owner not", rules.WhitelistRule{ImageName: "taupage-.*", ImageOwner: "999888777666"},
			meta(`{"ami_name":"taupage-ami-1","ami_owner_id":"1"}`), false},

		{"application_id equal", rules.WhitelistRule{ApplicationID: "kio"}, stack("kio", "1.0"), true},
		{"application_id differs", rules.WhitelistRule{ApplicationID: "kio"}, stack("kio2", "1.0"), false},
		{"application_id, no application", rules.WhitelistRule{ApplicationID: "kio"}, nil, false},
		{"application_version equal", rules.WhitelistRule{ApplicationVersion: "1.0"}, stack("kio", "1.0"), true},
		{"application_version differs", rules.WhitelistRule{ApplicationVersion: "1.0"}, stack("kio", "1.1"), false},
		{"application_version without application", rules.WhitelistRule{ApplicationVersion: "1.0"}, stack("", "1.0"), true},
		{"application and version", rules.WhitelistRule{ApplicationID: "kio", ApplicationVersion: "1.0"}, stack("kio", "1.0"), true},
		{"application holds, version not", rules.WhitelistRule{ApplicationID: "kio", ApplicationVersion: "1.0"}, stack("kio", "2.0"), false},

		{"json path grantees equal", rules.WhitelistRule{MetaInfoJSONPath: granted},
			meta(`{"bucket":"b","grantees":["` + grantee + `"]}`), true},
		{"json path grantees differ", rules.WhitelistRule{MetaInfoJSONPath: granted},
			meta(`{"bucket":"b","grantees":["arn:aws:iam::111122223333:root"]}`), false},
		{"json path grantees more", rules.WhitelistRule{MetaInfoJSONPath: granted},
			meta(`{"bucket":"b","grantees":["` + grantee + `","arn:aws:iam::111122223333:root"]}`), false},
		{"json path grantees absent", rules.WhitelistRule{MetaInfoJSONPath: granted}, meta(`{"bucket":"b"}`), false},
		{"json path user regex", rules.WhitelistRule{MetaInfoJSONPath: sesUser}, meta(`{"user_name":"ses.ci-master-build"}`), true},
		{"json path user regex, nothing after", rules.WhitelistRule{MetaInfoJSONPath: sesUser}, meta(`{"user_name":"ses.ci-master-"}`), false},
		{"json path user regex, not a full match", rules.WhitelistRule{MetaInfoJSONPath: sesUser}, meta(`{"user_name":"xses.ci-master-build"}`), false},
		{"json path user regex, escaped dot", rules.WhitelistRule{MetaInfoJSONPath: sesUser}, meta(`{"user_name":"sesXci-master-build"}`), false},
		{"json path on text", rules.WhitelistRule{MetaInfoJSONPath: sesUser}, meta(`ses.ci-master-build`), false},
		{"json path a member", rules.WhitelistRule{MetaInfoJSONPath: "$.region"}, nil, true},
		{"json path a missing member", rules.WhitelistRule{MetaInfoJSONPath: "$.zone"}, nil, false},

		{"all criteria hold", rules.WhitelistRule{AccountID: "123456789012", Region: "eu-west-1", Type: "WRONG_REGION",
			ImageName: "ubuntu-.*", ImageOwner: "999888777666", ApplicationID: "kio", ApplicationVersion: "1.0",
			MetaInfoJSONPath: "$.[?(@.ami_name =~ /ubuntu-.*/)]"},
			func(v *rules.Violation) {
				v.MetaInfo = `{"ami_name":"ubuntu-22.04","ami_owner_id":"999888777666"}`
				v.Application, v.Version = "kio", "1.0"
			}, true},
		{"all criteria hold but the region", rules.WhitelistRule{AccountID: "123456789012", Region: "us-east-1", Type: "WRONG_REGION",
			ImageName: "ubuntu-.*", ImageOwner: "999888777666", ApplicationID: "kio", ApplicationVersion: "1.0"},
			func(v *rules.Violation) {
				v.MetaInfo = `{"ami_name":"ubuntu-22.04","ami_owner_id":"999888777666"}`
				v.Application, v.Version = "kio", "1.0"
			}, false},
		{"all criteria hold but the version", rules.WhitelistRule{AccountID: "123456789012", Region: "eu-west-1",
			ApplicationID: "kio", ApplicationVersion: "1.1"}, stack("kio", "1.0"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := setup(t)
			mk := func(event string) rules.Violation {
				v := violation(event)
				if tt.edit != nil {
					tt.edit(&v)
				}
				return v
			}
			wlCommit(t, st, mk("before"))
			r := tt.rule
			r.Reason = "because: " + tt.name
			rule := wlCreate(t, st, r)
			if res := wlCommit(t, st, mk("after"), mk("before")); res.New != 1 || res.SeenAgain != 1 {
				t.Errorf("commit result %+v, want 1 new, 1 seen again", res)
			}
			var want *StoredWhitelistRule
			if tt.match {
				want = &rule
			}
			wlCheck(t, st, "after", want)
			if b := wlCheck(t, st, "before", nil); b.seen != 2 {
				t.Errorf("violation stored before the rule seen %d times, want 2", b.seen)
			}

			n := 0
			if tt.match {
				n = 1
			}
			if got := wlApply(t, st, rule.ID, true); got != n {
				t.Errorf("dry run counts %d, want %d", got, n)
			}
			wlCheck(t, st, "before", nil)
			if got := wlApply(t, st, rule.ID, false); got != n {
				t.Errorf("apply whitelisted %d, want %d", got, n)
			}
			wlCheck(t, st, "before", want)
			wlCheck(t, st, "after", want)
		})
	}
}

func TestWhitelist_firstMatchWinsAndExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t)
	if _, err := st.WhitelistRuleCreate(ctx, rules.WhitelistRule{Region: "eu-west-1", Reason: "expired"},
		time.Now().Add(-time.Minute), "tester"); err != nil {
		t.Fatal(err)
	}
	wlCreate(t, st, rules.WhitelistRule{Region: "eu-west-1", Type: "EC2_WITH_KEYPAIR", Reason: "not the type"})
	first := wlCreate(t, st, rules.WhitelistRule{AccountID: "123456789012", Reason: "first"})
	second := wlCreate(t, st, rules.WhitelistRule{Region: "eu-west-1", Reason: "second"})
	wlCommit(t, st, violation("e1"))
	wlCheck(t, st, "e1", &first)

	// Expiring in an hour: still in force.
	if err := st.WhitelistRuleExpire(ctx, first.ID, time.Now().Add(time.Hour), "tester"); err != nil {
		t.Fatalf("expire: %v", err)
	}
	wlCommit(t, st, violation("e2"))
	wlCheck(t, st, "e2", &first)
	// Expired: the next matching rule in id order.
	exec(t, st, `UPDATE fullstop_data.rule SET expiry_date = now() - interval '1 millisecond' WHERE id = $1`, first.ID)
	wlCommit(t, st, violation("e3"))
	wlCheck(t, st, "e3", &second)
	wlCheck(t, st, "e1", &first)
	if n := wlApply(t, st, second.ID, false); n != 0 {
		t.Errorf("apply whitelisted %d already whitelisted violations, want 0", n)
	}
	wlCheck(t, st, "e1", &first)
}

func TestWhitelist_reDetection(t *testing.T) {
	t.Parallel()
	st := setup(t)
	wlCommit(t, st, violation("open"))
	a := wlCreate(t, st, rules.WhitelistRule{AccountID: "123456789012", Reason: "a"})
	wlCommit(t, st, violation("listed"))
	// Resolved by hand before the re-detection.
	wlCommit(t, st, violation("resolved"))
	exec(t, st, `UPDATE fullstop_data.violation SET comment = 'fixed', rule_entity_id = NULL WHERE event_id = 'resolved'`)

	// A second rule that would match, with the first one expired: a
	// re-detection changes no state.
	if _, err := st.WhitelistRuleReplace(context.Background(), a.ID,
		rules.WhitelistRule{Region: "eu-west-1", Reason: "b"}, wlForever, "tester"); err != nil {
		t.Fatalf("replace: %v", err)
	}
	res := wlCommit(t, st, violation("open"), violation("listed"), violation("resolved"), violation("open"))
	if res.New != 0 || res.SeenAgain != 3 {
		t.Errorf("commit result %+v, want 0 new, 3 seen again", res)
	}
	if r := wlCheck(t, st, "open", nil); r.seen != 3 {
		t.Errorf("open violation seen %d times, want 3", r.seen)
	}
	if r := wlCheck(t, st, "listed", &a); r.seen != 2 {
		t.Errorf("whitelisted violation seen %d times, want 2", r.seen)
	}
	if r := wlRead(t, st, "resolved"); r.ruleID != nil || r.comment == nil || *r.comment != "fixed" || r.seen != 2 {
		t.Errorf("resolved violation after re-detection: %v, want it still resolved, seen 2 times", r)
	}
}

// TestWhitelist_cache checks that the compiled rules follow the rule
// table: a replaced rule, a rule changed in place, an expired rule.
func TestWhitelist_cache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t)
	withImage := func(event, image string) rules.Violation {
		v := violation(event)
		v.MetaInfo = `{"ami_name":"` + image + `"}`
		return v
	}
	a := wlCreate(t, st, rules.WhitelistRule{ImageName: "ubuntu-.*", Reason: "a"})
	wlCommit(t, st, withImage("e1", "ubuntu-1"), withImage("e2", "debian-1"))
	wlCheck(t, st, "e1", &a)
	wlCheck(t, st, "e2", nil)

	// Replaced: the new rule (a new id) applies from the next commit on.
	b, err := st.WhitelistRuleReplace(ctx, a.ID, rules.WhitelistRule{ImageName: "debian-.*", Reason: "b"}, wlForever, "tester")
	if err != nil {
		t.Fatalf("replace: %v", err)
	}
	if b.ID == a.ID {
		t.Fatalf("replacement has the old id %d", a.ID)
	}
	wlCommit(t, st, withImage("e3", "ubuntu-2"), withImage("e4", "debian-2"))
	wlCheck(t, st, "e3", nil)
	wlCheck(t, st, "e4", &b)

	// Changed in place (around the API): the cache compiles it again.
	exec(t, st, `UPDATE fullstop_data.rule SET image_name = 'ubuntu-.*', reason = 'b2' WHERE id = $1`, b.ID)
	b.Reason = "b2"
	wlCommit(t, st, withImage("e5", "ubuntu-3"), withImage("e6", "debian-3"))
	wlCheck(t, st, "e5", &b)
	wlCheck(t, st, "e6", nil)

	// Expired (around the API): no longer applied.
	exec(t, st, `UPDATE fullstop_data.rule SET expiry_date = now() - interval '1 second' WHERE id = $1`, b.ID)
	wlCommit(t, st, withImage("e7", "ubuntu-4"))
	wlCheck(t, st, "e7", nil)
	// And in force again.
	exec(t, st, `UPDATE fullstop_data.rule SET expiry_date = '9999-01-01T00:00:00Z' WHERE id = $1`, b.ID)
	wlCommit(t, st, withImage("e8", "ubuntu-5"))
	wlCheck(t, st, "e8", &b)

	// Through ViolationCreate (POST /api/violations) the same.
	if _, err := st.ViolationCreate(ctx, withImage("e9", "ubuntu-6"), "poster"); err != nil {
		t.Fatalf("create violation: %v", err)
	}
	wlCheck(t, st, "e9", &b)
}

// TestWhitelist_ruleDoesNotCompile checks that a rule written around the
// API whose pattern does not compile never matches and breaks nothing.
func TestWhitelist_ruleDoesNotCompile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, lg := wlSetupLogged(t)
	var badImage, badPath int64
	if err := st.pool.QueryRow(ctx, `INSERT INTO fullstop_data.rule (account_id, image_name, reason, expiry_date, created_by)
		VALUES ('123456789012', '(', 'bad image', '9999-01-01T00:00:00Z', 'sql') RETURNING id`).Scan(&badImage); err != nil {
		t.Fatal(err)
	}
	if err := st.pool.QueryRow(ctx, `INSERT INTO fullstop_data.rule (region, meta_info_json_path, reason, expiry_date, created_by)
		VALUES ('eu-west-1', '$.[?(@.a ==', 'bad path', '9999-01-01T00:00:00Z', 'sql') RETURNING id`).Scan(&badPath); err != nil {
		t.Fatal(err)
	}
	// Only bad rules: the commit works, the violation stays open.
	v := violation("e1")
	v.MetaInfo = `{"ami_name":"(","a":1}`
	if res := wlCommit(t, st, v); res.New != 1 {
		t.Errorf("commit result %+v, want 1 new", res)
	}
	wlCheck(t, st, "e1", nil)
	out := lg.String()
	for _, id := range []int64{badImage, badPath} {
		if !strings.Contains(out, "does not compile") || !strings.Contains(out, fmt.Sprintf("rule=%d", id)) {
			t.Errorf("no warning naming rule %d that does not compile; log:\n%s", id, out)
		}
	}
	if !strings.Contains(out, "level=WARN") {
		t.Errorf("the log holds no warning:\n%s", out)
	}

	// A good rule after them applies.
	good := wlCreate(t, st, rules.WhitelistRule{Type: "WRONG_REGION", Reason: "good"})
	wlCommit(t, st, violation("e2"))
	wlCheck(t, st, "e2", &good)
	if _, err := st.ViolationCreate(ctx, violation("e3"), "poster"); err != nil {
		t.Fatalf("create violation: %v", err)
	}
	wlCheck(t, st, "e3", &good)

	// Applying a bad rule fails and changes nothing.
	for _, id := range []int64{badImage, badPath} {
		_, err := st.WhitelistRuleApply(ctx, id, false, "applier")
		var re *rules.WhitelistRuleError
		if !errors.As(err, &re) {
			t.Errorf("apply rule %d that does not compile: error %v, want a *rules.WhitelistRuleError", id, err)
		}
	}
	wlCheck(t, st, "e1", nil)
}

// TestWhitelistRuleApply_large applies a rule to more open violations than
// one UPDATE takes.
func TestWhitelistRuleApply_large(t *testing.T) {
	t.Parallel()
	st := setup(t)
	const matching, others = 12000, 500
	vs := make([]rules.Violation, 0, matching+others)
	for i := range matching + others {
		v := violation(fmt.Sprintf("e%05d", i))
		if i >= matching {
			v.AccountID = "999999999999"
		}
		vs = append(vs, v)
	}
	if res := wlCommit(t, st, vs...); res.New != matching+others {
		t.Fatalf("commit result %+v, want %d new", res, matching+others)
	}
	// One of the matching resolved before: left alone.
	exec(t, st, `UPDATE fullstop_data.violation SET comment = 'fixed' WHERE event_id = 'e00000'`)
	rule := wlCreate(t, st, rules.WhitelistRule{AccountID: "123456789012", Reason: "bulk"})
	if n := wlApply(t, st, rule.ID, true); n != matching-1 {
		t.Errorf("dry run counts %d, want %d", n, matching-1)
	}
	if n := wlApply(t, st, rule.ID, false); n != matching-1 {
		t.Errorf("apply whitelisted %d, want %d", n, matching-1)
	}
	var listed, open, resolved, other int
	err := st.pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE rule_entity_id = $1 AND comment = 'Whitelisted automatically because of:bulk'),
		       count(*) FILTER (WHERE rule_entity_id IS NULL AND comment IS NULL AND account_id = '999999999999'),
		       count(*) FILTER (WHERE rule_entity_id IS NULL AND comment = 'fixed'),
		       count(*) FILTER (WHERE NOT (rule_entity_id = $1 AND comment = 'Whitelisted automatically because of:bulk')
		                          AND NOT (rule_entity_id IS NULL AND comment IS NULL AND account_id = '999999999999')
		                          AND NOT (rule_entity_id IS NULL AND comment IS NOT DISTINCT FROM 'fixed'))
		FROM fullstop_data.violation`, rule.ID).Scan(&listed, &open, &resolved, &other)
	if err != nil {
		t.Fatal(err)
	}
	if listed != matching-1 || open != others || resolved != 1 || other != 0 {
		t.Errorf("after apply: %d whitelisted, %d open, %d resolved, %d else; want %d, %d, 1, 0",
			listed, open, resolved, other, matching-1, others)
	}
	if n := wlApply(t, st, rule.ID, false); n != 0 {
		t.Errorf("second apply whitelisted %d, want 0", n)
	}
}

// TestWhitelistRuleApply_sameAsOnInsert checks that applying a rule
// written around the API (criteria with spaces, blank criteria) whitelists
// what the rule whitelists on insert: the criteria are trimmed in both.
func TestWhitelistRuleApply_sameAsOnInsert(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		columns string // rule columns set besides reason, expiry_date, created_by
		values  string
	}{
		{"account with spaces", "account_id", "' 123456789012 '"},
		{"region with spaces", "region", "'eu-west-1 '"},
		{"type only", "violation_type_entity_id", "'WRONG_REGION'"},
		{"blank account, region", "account_id, region", "'  ', 'eu-west-1'"},
		{"blank region, type", "region, violation_type_entity_id", "' ', 'WRONG_REGION'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := setup(t)
			wlCommit(t, st, violation("before"))
			var rule StoredWhitelistRule
			if err := st.pool.QueryRow(ctx, `INSERT INTO fullstop_data.rule (`+tt.columns+`, reason, expiry_date, created_by)
				VALUES (`+tt.values+`, 'sql', '9999-01-01T00:00:00Z', 'sql') RETURNING id, reason`).Scan(&rule.ID, &rule.Reason); err != nil {
				t.Fatal(err)
			}
			wlCommit(t, st, violation("after"))
			wlCheck(t, st, "after", &rule)
			if n := wlApply(t, st, rule.ID, false); n != 1 {
				t.Errorf("apply whitelisted %d, want 1 as on insert", n)
			}
			wlCheck(t, st, "before", &rule)
		})
	}
}

func TestWhitelistRule_errors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t)
	_, err := st.WhitelistRuleCreate(ctx, rules.WhitelistRule{Type: "NO_SUCH_TYPE", Reason: "r"}, wlForever, "u")
	if !errors.Is(err, ErrUnknownType) {
		t.Errorf("create with an unknown type: %v, want ErrUnknownType", err)
	}
	_, err = st.WhitelistRuleCreate(ctx, rules.WhitelistRule{AccountID: " ", Reason: "r"}, wlForever, "u")
	if !errors.Is(err, rules.ErrNoCriterion) {
		t.Errorf("create without criterion: %v, want rules.ErrNoCriterion", err)
	}
	_, err = st.WhitelistRuleCreate(ctx, rules.WhitelistRule{ImageName: "(?=x)", Reason: "r"}, wlForever, "u")
	var re *rules.WhitelistRuleError
	if !errors.As(err, &re) || re.Field != rules.FieldImageName {
		t.Errorf("create with a lookahead: %v, want a WhitelistRuleError of image_name", err)
	}
	if rs, err := st.WhitelistRules(ctx); err != nil || len(rs) != 0 {
		t.Errorf("rules after refused creations: %v, %v; want none", rs, err)
	}

	a := wlCreate(t, st, rules.WhitelistRule{AccountID: " 1 ", Reason: " r "})
	if a.AccountID != "1" || a.Reason != "r" || a.CreatedBy != "tester" || !a.ExpiryDate.Equal(wlForever) {
		t.Errorf("created %+v, want criteria and reason trimmed, by tester, until %v", a, wlForever)
	}
	if _, err := st.WhitelistRule(ctx, a.ID+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown rule: %v, want ErrNotFound", err)
	}
	if _, err := st.WhitelistRuleReplace(ctx, a.ID+100, rules.WhitelistRule{Region: "x", Reason: "r"}, wlForever, "u"); !errors.Is(err, ErrNotFound) {
		t.Errorf("replace unknown rule: %v, want ErrNotFound", err)
	}
	// A replacement that cannot be created leaves the old rule in force.
	if _, err := st.WhitelistRuleReplace(ctx, a.ID, rules.WhitelistRule{Type: "NO_SUCH_TYPE", Reason: "r"}, wlForever, "u"); !errors.Is(err, ErrUnknownType) {
		t.Errorf("replace with an unknown type: %v, want ErrUnknownType", err)
	}
	if got, err := st.WhitelistRule(ctx, a.ID); err != nil || !got.ExpiryDate.Equal(wlForever) || got.Version != a.Version {
		t.Errorf("rule after a failed replace: %+v, %v; want it unchanged", got, err)
	}
	if _, err := st.WhitelistRuleApply(ctx, a.ID+100, false, "u"); !errors.Is(err, ErrNotFound) {
		t.Errorf("apply unknown rule: %v, want ErrNotFound", err)
	}
	for _, tt := range []struct {
		name   string
		id     int64
		expiry time.Time
	}{
		{"unknown", a.ID + 100, time.Now().Add(time.Hour)},
		{"new expiry now", a.ID, time.Now()},
		{"new expiry past", a.ID, time.Now().Add(-time.Hour)},
	} {
		if err := st.WhitelistRuleExpire(ctx, tt.id, tt.expiry, "u"); !errors.Is(err, ErrNotFound) {
			t.Errorf("expire %s: %v, want ErrNotFound", tt.name, err)
		}
	}
	if err := st.WhitelistRuleExpire(ctx, a.ID, time.Now().Add(time.Hour), "u"); err != nil {
		t.Errorf("expire in an hour: %v", err)
	}
	exec(t, st, `UPDATE fullstop_data.rule SET expiry_date = now() - interval '1 second' WHERE id = $1`, a.ID)
	if err := st.WhitelistRuleExpire(ctx, a.ID, time.Now().Add(time.Hour), "u"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expire an expired rule: %v, want ErrNotFound", err)
	}
	for _, dry := range []bool{false, true} {
		if _, err := st.WhitelistRuleApply(ctx, a.ID, dry, "u"); !errors.Is(err, ErrRuleExpired) {
			t.Errorf("apply an expired rule (dry run %v): %v, want ErrRuleExpired", dry, err)
		}
	}
}

// TestWhitelist_concurrentCreate commits groups from two writers while a
// rule that matches all of them is created: every violation is whitelisted
// by the rule or open, each group as a whole, and a group begun after the
// rule was created is whitelisted.
func TestWhitelist_concurrentCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t)
	const writers, groups, perGroup = 2, 40, 25
	var created atomic.Bool
	var ruleID atomic.Int64
	// afterRule[w][g]: group g of writer w began after the rule existed.
	var afterRule [writers][groups]bool
	started := make(chan struct{}, writers*groups)
	var g errgroup.Group
	for w := range writers {
		g.Go(func() error {
			for gi := range groups {
				afterRule[w][gi] = created.Load()
				vs := make([]rules.Violation, perGroup)
				key := fmt.Sprintf("AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/w%d-g%02d.json.gz", w, gi)
				for i := range vs {
					vs[i] = violation(fmt.Sprintf("w%d-g%02d-%02d", w, gi, i))
					vs[i].ObjectKey = key
				}
				if _, err := st.ViolationCommitGroup(ctx, fmt.Sprint("writer", w), []etl.ObjectDone{object(key)}, rules.Findings{Violations: vs}); err != nil {
					return fmt.Errorf("writer %d group %d: %w", w, gi, err)
				}
				started <- struct{}{}
			}
			return nil
		})
	}
	g.Go(func() error {
		for range writers * groups / 3 {
			<-started
		}
		r, err := st.WhitelistRuleCreate(ctx, rules.WhitelistRule{AccountID: "123456789012", Reason: "concurrent"}, wlForever, "u")
		if err != nil {
			return err
		}
		ruleID.Store(r.ID)
		created.Store(true)
		return nil
	})
	if err := g.Wait(); err != nil {
		t.Fatalf("concurrent writes: %v", err)
	}
	id := ruleID.Load()

	rows, err := st.pool.Query(ctx, `SELECT event_id, rule_entity_id, comment FROM fullstop_data.violation ORDER BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	type state struct{ listed, open int }
	perGroupState := map[string]*state{}
	n := 0
	for rows.Next() {
		var event string
		var rule *int64
		var comment *string
		if err := rows.Scan(&event, &rule, &comment); err != nil {
			t.Fatal(err)
		}
		n++
		grp := event[:len("w0-g00")]
		s := perGroupState[grp]
		if s == nil {
			s = &state{}
			perGroupState[grp] = s
		}
		switch {
		case rule == nil && comment == nil:
			s.open++
		case rule != nil && *rule == id && comment != nil && *comment == "Whitelisted automatically because of:concurrent":
			s.listed++
		default:
			t.Errorf("violation %s half written: rule %v, comment %v", event, rule, comment)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != writers*groups*perGroup {
		t.Fatalf("%d violations stored, want %d", n, writers*groups*perGroup)
	}
	listedGroups := 0
	for w := range writers {
		seenListed := false
		for gi := range groups {
			grp := fmt.Sprintf("w%d-g%02d", w, gi)
			s := perGroupState[grp]
			if s.listed != 0 && s.open != 0 {
				t.Errorf("group %s: %d whitelisted, %d open; want the group all one way", grp, s.listed, s.open)
			}
			listed := s.listed > 0
			if listed {
				listedGroups++
			}
			if afterRule[w][gi] && !listed {
				t.Errorf("group %s began after the rule was created but is open", grp)
			}
			if seenListed && !listed {
				t.Errorf("group %s is open although an earlier group of writer %d is whitelisted", grp, w)
			}
			seenListed = seenListed || listed
		}
	}
	if listedGroups == 0 || listedGroups == writers*groups {
		t.Logf("%d of %d groups whitelisted: the rule did not land between the commits", listedGroups, writers*groups)
	}
}

// TestWhitelistRules_infiniteExpiry checks a rule written around the API
// that never expires (expiry_date 'infinity', which the column holds): the
// group commit applies it, so listing, reading and applying it must work
// too.
func TestWhitelistRules_infiniteExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t)
	wlCommit(t, st, violation("before"))
	var rule StoredWhitelistRule
	if err := st.pool.QueryRow(ctx, `INSERT INTO fullstop_data.rule (account_id, reason, expiry_date, created_by)
		VALUES ('123456789012', 'forever', 'infinity', 'sql') RETURNING id, reason`).Scan(&rule.ID, &rule.Reason); err != nil {
		t.Fatal(err)
	}
	wlCommit(t, st, violation("after"))
	wlCheck(t, st, "after", &rule) // in force on insert

	rs, err := st.WhitelistRules(ctx)
	if err != nil || len(rs) != 1 || rs[0].ID != rule.ID || !rs[0].ExpiryDate.After(time.Now()) {
		t.Errorf("WhitelistRules = %+v, %v; want the rule, in force", rs, err)
	}
	if got, err := st.WhitelistRule(ctx, rule.ID); err != nil || !got.ExpiryDate.After(time.Now()) {
		t.Errorf("WhitelistRule(%d) = %+v, %v; want the rule, in force", rule.ID, got, err)
	}
	if n, err := st.WhitelistRuleApply(ctx, rule.ID, false, "applier"); err != nil || n != 1 {
		t.Errorf("apply = %d, %v; want 1", n, err)
	}
}
