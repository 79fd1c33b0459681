package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/rules"
)

// The whitelisting rules endpoints (reference §7.10) and how the rules act
// on the violations stored after them (§6.3).

const wlRulesPath = "/api/whitelisting-rules"

// wlCreate posts a rule and returns it, failing unless the answer is 201.
func wlCreate(t *testing.T, e *env, body map[string]any) Rule {
	t.Helper()
	r := e.do(t, http.MethodPost, wlRulesPath, body)
	if r.status != http.StatusCreated {
		t.Fatalf("POST %s %v: %d, want 201: %s", wlRulesPath, body, r.status, r.body)
	}
	var out Rule
	r.decode(t, &out)
	return out
}

// wlGet returns rule id, failing unless the answer is 200.
func wlGet(t *testing.T, e *env, id int64) Rule {
	t.Helper()
	var out Rule
	e.get(t, fmt.Sprintf("%s/%d", wlRulesPath, id), http.StatusOK).decode(t, &out)
	return out
}

// wlApply applies rule id and returns the answer, failing unless it is 200.
func wlApply(t *testing.T, e *env, id int64, dryRun bool) ApplyResult {
	t.Helper()
	path := fmt.Sprintf("%s/%d/apply", wlRulesPath, id)
	if dryRun {
		path += "?dry_run=true"
	}
	r := e.do(t, http.MethodPost, path, nil)
	if r.status != http.StatusOK {
		t.Fatalf("POST %s: %d, want 200: %s", path, r.status, r.body)
	}
	var out ApplyResult
	r.decode(t, &out)
	if out.RuleID != id || out.DryRun != dryRun {
		t.Fatalf("POST %s answered %+v, want rule_id %d and dry_run %v", path, out, id, dryRun)
	}
	return out
}

// wlState is the whitelisting state of a stored violation.
type wlState struct {
	id      int64
	ruleID  *int64
	comment *string
	seen    int
}

func (s wlState) String() string {
	rule, comment := "NULL", "NULL"
	if s.ruleID != nil {
		rule = fmt.Sprint(*s.ruleID)
	}
	if s.comment != nil {
		comment = fmt.Sprintf("%q", *s.comment)
	}
	return fmt.Sprintf("violation %d (rule %s, comment %s, seen %d)", s.id, rule, comment, s.seen)
}

// wlRead reads the stored violation of event id.
func wlRead(t *testing.T, e *env, event string) wlState {
	t.Helper()
	var s wlState
	err := e.db.QueryRow(context.Background(),
		`SELECT id, rule_entity_id, comment, seen_count FROM fullstop_data.violation WHERE event_id = $1`, event).
		Scan(&s.id, &s.ruleID, &s.comment, &s.seen)
	if err != nil {
		t.Fatalf("read violation of event %s: %v", event, err)
	}
	return s
}

// wlWantOpen checks that the violation of event is open.
func wlWantOpen(t *testing.T, e *env, event string) wlState {
	t.Helper()
	s := wlRead(t, e, event)
	if s.ruleID != nil || s.comment != nil {
		t.Errorf("event %s: %v, want it open", event, s)
	}
	return s
}

// wlWantWhitelisted checks that the violation of event is whitelisted by
// rule with the reference's comment.
func wlWantWhitelisted(t *testing.T, e *env, event string, rule Rule) wlState {
	t.Helper()
	s := wlRead(t, e, event)
	want := "Whitelisted automatically because of:" + rule.Reason
	if s.ruleID == nil || *s.ruleID != rule.ID || s.comment == nil || *s.comment != want {
		t.Errorf("event %s: %v, want it whitelisted by rule %d with comment %q", event, s, rule.ID, want)
	}
	return s
}

// wlProblem checks that r is a problem of status whose first field is
// field ("" for none).
func wlProblem(t *testing.T, what string, r reply, status int, field string) Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: %d, want %d: %s", what, r.status, status, r.body)
	}
	p := r.problem(t)
	if field != "" && (len(p.Errors) == 0 || p.Errors[0].Name != field) {
		t.Errorf("%s: problem %+v, want errors[0].name %q", what, p, field)
	}
	return p
}

// wlSame reports whether two rules read the same (Rule holds pointers).
func wlSame(a, b Rule) bool { return reflect.DeepEqual(a, b) }

func wlStr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestWhitelistRuleCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := time.Now().Add(-time.Second)

	r := e.do(t, http.MethodPost, wlRulesPath, map[string]any{
		"account_id": " 123456789012 ", "region": "eu-west-1", "violation_type": "WRONG_REGION",
		"image_name": "ubuntu-.*", "image_owner": "999888777666", "application_id": "kio",
		"application_version": "1.0", "meta_info_json_path": "$.[?(@.n == 1)]", "reason": " known ",
	})
	if r.status != http.StatusCreated {
		t.Fatalf("POST: %d, want 201: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q, want application/json", ct)
	}
	var raw map[string]any
	r.decode(t, &raw)
	for _, k := range []string{"violation_type", "violation_type_entity_id"} {
		if raw[k] != "WRONG_REGION" {
			t.Errorf("answer field %s = %v, want WRONG_REGION: %s", k, raw[k], r.body)
		}
	}
	if raw["expiry_date"] != "9999-01-01T00:00:00.000Z" {
		t.Errorf("expiry_date = %v, want the default 9999-01-01T00:00:00.000Z", raw["expiry_date"])
	}
	var got Rule
	r.decode(t, &got)
	if got.ID <= 0 || wlStr(got.AccountID) != "123456789012" || wlStr(got.Region) != "eu-west-1" ||
		wlStr(got.ImageName) != "ubuntu-.*" || wlStr(got.ImageOwner) != "999888777666" ||
		wlStr(got.ApplicationID) != "kio" || wlStr(got.ApplicationVersion) != "1.0" ||
		wlStr(got.MetaInfoJSONPath) != "$.[?(@.n == 1)]" || got.Reason != "known" {
		t.Errorf("rule = %+v, want the criteria and reason as given, trimmed", got)
	}
	if got.CreatedBy != "local" || wlStr(got.LastModifiedBy) != "local" {
		t.Errorf("created_by %q, last_modified_by %q, want local (auth.None's principal)", got.CreatedBy, wlStr(got.LastModifiedBy))
	}
	if c := time.Time(got.Created); c.Before(before) || c.After(time.Now().Add(time.Second)) {
		t.Errorf("created = %v, want about now", c)
	}
	if g := wlGet(t, e, got.ID); !wlSame(g, got) {
		t.Errorf("GET %d = %+v, want what POST answered: %+v", got.ID, g, got)
	}

	// The type under either name, or both when they agree.
	for _, body := range []map[string]any{
		{"violation_type_entity_id": "EC2_WITH_KEYPAIR", "reason": "r"},
		{"violation_type": "EC2_WITH_KEYPAIR", "violation_type_entity_id": "EC2_WITH_KEYPAIR", "reason": "r"},
		{"violation_type": "EC2_WITH_KEYPAIR", "violation_type_entity_id": " ", "reason": "r"},
	} {
		got := wlCreate(t, e, body)
		if wlStr(got.ViolationType) != "EC2_WITH_KEYPAIR" || wlStr(got.ViolationTypeEntityID) != "EC2_WITH_KEYPAIR" {
			t.Errorf("POST %v: type %s / %s, want EC2_WITH_KEYPAIR under both names", body,
				wlStr(got.ViolationType), wlStr(got.ViolationTypeEntityID))
		}
	}

	// No type: both names null; an explicit expiry kept.
	got = wlCreate(t, e, map[string]any{"account_id": "1", "reason": "r", "expiry_date": "2031-02-03T04:05:06.789+01:00"})
	if got.ViolationType != nil || got.ViolationTypeEntityID != nil || got.Region != nil {
		t.Errorf("rule %+v: want no type and no region", got)
	}
	if want := time.Date(2031, 2, 3, 3, 5, 6, 789e6, time.UTC); !time.Time(got.ExpiryDate).Equal(want) {
		t.Errorf("expiry_date = %v, want %v", time.Time(got.ExpiryDate), want)
	}
}

func TestWhitelistRuleCreate_invalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name  string
		body  any
		field string // errors[0].name, "" when the problem names none
	}{
		{"types differ", map[string]any{"violation_type": "WRONG_REGION", "violation_type_entity_id": "EC2_WITH_KEYPAIR", "reason": "r"}, "violation_type"},
		{"no reason", map[string]any{"account_id": "1"}, "reason"},
		{"blank reason", map[string]any{"account_id": "1", "reason": "  "}, "reason"},
		{"null reason", map[string]any{"account_id": "1", "reason": nil}, "reason"},
		{"no criterion", map[string]any{"reason": "r"}, ""},
		{"blank criteria", map[string]any{"account_id": " ", "region": "", "image_name": " ", "reason": "r"}, ""},
		{"image_name does not compile", map[string]any{"image_name": "(", "reason": "r"}, "image_name"},
		{"image_name lookahead", map[string]any{"image_name": "(?=x)", "reason": "r"}, "image_name"},
		{"image_name backreference", map[string]any{"image_name": `(a)\1`, "reason": "r"}, "image_name"},
		{"meta_info_json_path does not parse", map[string]any{"meta_info_json_path": "$.[?(@.a ==", "reason": "r"}, "meta_info_json_path"},
		{"meta_info_json_path bad regex", map[string]any{"meta_info_json_path": "$.[?(@.a =~ /(/)]", "reason": "r"}, "meta_info_json_path"},
		{"unknown violation_type", map[string]any{"violation_type": "NO_SUCH_TYPE", "reason": "r"}, "violation_type"},
		{"unknown violation_type_entity_id", map[string]any{"violation_type_entity_id": "NO_SUCH_TYPE", "reason": "r"}, "violation_type"},
		{"bad expiry_date", map[string]any{"account_id": "1", "reason": "r", "expiry_date": "tomorrow"}, "expiry_date"},
		{"expiry_date a number", map[string]any{"account_id": "1", "reason": "r", "expiry_date": 1700000000000}, "expiry_date"},
		{"reason a number", map[string]any{"account_id": "1", "reason": 5}, "reason"},
	}
	for _, tt := range tests {
		r := e.do(t, http.MethodPost, wlRulesPath, tt.body)
		wlProblem(t, tt.name, r, http.StatusBadRequest, tt.field)
	}
	// Not a JSON object at all.
	for _, body := range []any{[]byte(""), []byte("{"), []byte(`[1]`)} {
		wlProblem(t, fmt.Sprintf("body %q", body), e.do(t, http.MethodPost, wlRulesPath, body), http.StatusBadRequest, "")
	}
	// Nothing was created.
	if r := e.get(t, wlRulesPath, http.StatusOK); strings.TrimSpace(string(r.body)) != "[]" {
		t.Errorf("rules after refused creations: %s, want []", r.body)
	}
}

func TestWhitelistRuleList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.get(t, wlRulesPath, http.StatusOK); strings.TrimSpace(string(r.body)) != "[]" {
		t.Errorf("no rules: %s, want []", r.body)
	}
	a := wlCreate(t, e, map[string]any{"account_id": "1", "reason": "a"})
	b := wlCreate(t, e, map[string]any{"account_id": "2", "reason": "expired", "expiry_date": "2020-01-01T00:00:00Z"})
	c := wlCreate(t, e, map[string]any{"account_id": "3", "reason": "c"})
	if !(a.ID < b.ID && b.ID < c.ID) {
		t.Fatalf("ids %d, %d, %d not increasing", a.ID, b.ID, c.ID)
	}
	var got []Rule
	e.get(t, wlRulesPath, http.StatusOK).decode(t, &got)
	want := []Rule{a, b, c}
	if len(got) != len(want) {
		t.Fatalf("list = %+v, want %+v", got, want)
	}
	for i := range want {
		if !wlSame(got[i], want[i]) {
			t.Errorf("list[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Expiring a rule keeps it in the list.
	if r := e.do(t, http.MethodDelete, fmt.Sprintf("%s/%d", wlRulesPath, c.ID), nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d: %s", r.status, r.body)
	}
	got = nil
	e.get(t, wlRulesPath, http.StatusOK).decode(t, &got)
	if len(got) != 3 || got[2].ID != c.ID {
		t.Errorf("list after expiring %d = %+v, want the 3 rules", c.ID, got)
	}
}

func TestWhitelistRuleGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := wlCreate(t, e, map[string]any{"region": "eu-west-1", "reason": "a"})
	if got := wlGet(t, e, a.ID); !wlSame(got, a) {
		t.Errorf("GET = %+v, want %+v", got, a)
	}
	wlProblem(t, "GET unknown", e.do(t, http.MethodGet, fmt.Sprintf("%s/%d", wlRulesPath, a.ID+1000), nil), http.StatusNotFound, "")
	wlProblem(t, "GET abc", e.do(t, http.MethodGet, wlRulesPath+"/abc", nil), http.StatusBadRequest, "id")
}

func TestWhitelistRuleReplace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := wlCreate(t, e, map[string]any{"account_id": gen(1).AccountID, "reason": "old"})

	// Unknown id.
	wlProblem(t, "PUT unknown", e.do(t, http.MethodPut, fmt.Sprintf("%s/%d", wlRulesPath, old.ID+1000),
		map[string]any{"region": "x", "reason": "r"}), http.StatusNotFound, "")
	wlProblem(t, "PUT abc", e.do(t, http.MethodPut, wlRulesPath+"/abc", map[string]any{"region": "x", "reason": "r"}),
		http.StatusBadRequest, "id")

	// A refused body, or a new rule that cannot be created, leaves the old
	// rule as it was.
	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no reason", map[string]any{"region": "x"}, "reason"},
		{"bad regex", map[string]any{"image_name": "(", "reason": "r"}, "image_name"},
		{"unknown type", map[string]any{"violation_type": "NO_SUCH_TYPE", "reason": "r"}, "violation_type"},
	} {
		r := e.do(t, http.MethodPut, fmt.Sprintf("%s/%d", wlRulesPath, old.ID), tt.body)
		wlProblem(t, "PUT "+tt.name, r, http.StatusBadRequest, tt.field)
		if got := wlGet(t, e, old.ID); !wlSame(got, old) {
			t.Errorf("after PUT %s: rule = %+v, want it unchanged %+v", tt.name, got, old)
		}
	}
	var all []Rule
	e.get(t, wlRulesPath, http.StatusOK).decode(t, &all)
	if len(all) != 1 {
		t.Errorf("after refused PUTs %d rules, want 1: %+v", len(all), all)
	}

	// The replacement: the old rule expires now, a new one is created.
	before := time.Now()
	r := e.do(t, http.MethodPut, fmt.Sprintf("%s/%d", wlRulesPath, old.ID), map[string]any{
		"account_id": gen(1).AccountID, "region": gen(1).Region, "violation_type_entity_id": gen(1).Type,
		"reason": "new", "version": 7,
	})
	after := time.Now()
	if r.status != http.StatusOK {
		t.Fatalf("PUT: %d, want 200: %s", r.status, r.body)
	}
	var repl Rule
	r.decode(t, &repl)
	if repl.ID <= old.ID || repl.Reason != "new" || wlStr(repl.Region) != gen(1).Region ||
		wlStr(repl.ViolationType) != gen(1).Type || wlStr(repl.ViolationTypeEntityID) != gen(1).Type ||
		time.Time(repl.ExpiryDate).Year() != 9999 || repl.CreatedBy != "local" {
		t.Errorf("new rule = %+v, want a new id above %d built from the body, default expiry", repl, old.ID)
	}
	if got := wlGet(t, e, repl.ID); !wlSame(got, repl) {
		t.Errorf("GET new rule = %+v, want %+v", got, repl)
	}
	o := wlGet(t, e, old.ID)
	if exp := time.Time(o.ExpiryDate); exp.Before(before.Add(-time.Second)) || exp.After(after.Add(time.Second)) {
		t.Errorf("old rule expires at %v, want now (%v .. %v)", exp, before, after)
	}
	if o.Reason != "old" || wlStr(o.AccountID) != gen(1).AccountID || o.Region != nil {
		t.Errorf("old rule = %+v, want its criteria unchanged", o)
	}

	// Only the new rule is in force.
	v1, v5 := gen(1), gen(5) // same account and region; v5 has another type
	e.store(t, v1, v5)
	wlWantWhitelisted(t, e, v1.EventID, repl)
	wlWantOpen(t, e, v5.EventID)
	// Applying the old rule is refused.
	wlProblem(t, "apply replaced rule", e.do(t, http.MethodPost, fmt.Sprintf("%s/%d/apply", wlRulesPath, old.ID), nil),
		http.StatusConflict, "")
	// Expiring it again is refused: it is no longer in force.
	wlProblem(t, "DELETE replaced rule", e.do(t, http.MethodDelete, fmt.Sprintf("%s/%d", wlRulesPath, old.ID), nil),
		http.StatusNotFound, "")
}

func TestWhitelistRuleExpire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	del := func(id int64, query string) reply {
		return e.do(t, http.MethodDelete, fmt.Sprintf("%s/%d%s", wlRulesPath, id, query), nil)
	}

	// Default: in one minute; the rule stays in force until then.
	a := wlCreate(t, e, map[string]any{"account_id": gen(0).AccountID, "reason": "a"})
	before := time.Now()
	r := del(a.ID, "")
	after := time.Now()
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("DELETE: %d %q, want 204 and no body", r.status, r.body)
	}
	got := wlGet(t, e, a.ID)
	if exp := time.Time(got.ExpiryDate); exp.Before(before.Add(time.Minute-time.Second)) || exp.After(after.Add(time.Minute+time.Second)) {
		t.Errorf("expiry after DELETE = %v, want now + 1 minute (%v)", exp, before.Add(time.Minute))
	}
	if got.Version <= a.Version || wlStr(got.LastModifiedBy) != "local" {
		t.Errorf("rule after DELETE = %+v, want its version above %d, modified by local", got, a.Version)
	}
	e.store(t, gen(0))
	wlWantWhitelisted(t, e, gen(0).EventID, a)

	// An explicit expiry in the future.
	b := wlCreate(t, e, map[string]any{"account_id": "2", "reason": "b"})
	if r := del(b.ID, "?expiryDate=2040-06-01T12:00:00Z"); r.status != http.StatusNoContent {
		t.Fatalf("DELETE with expiryDate: %d: %s", r.status, r.body)
	}
	if exp := time.Time(wlGet(t, e, b.ID).ExpiryDate); !exp.Equal(time.Date(2040, 6, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("expiry = %v, want 2040-06-01T12:00:00Z", exp)
	}
	// An offset whose + arrived unescaped (as a space).
	if r := del(b.ID, "?expiryDate=2040-06-01T12:00:00+02:00"); r.status != http.StatusNoContent {
		t.Fatalf("DELETE with an offset: %d: %s", r.status, r.body)
	}
	if exp := time.Time(wlGet(t, e, b.ID).ExpiryDate); !exp.Equal(time.Date(2040, 6, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("expiry = %v, want 2040-06-01T10:00:00Z", exp)
	}

	// A new expiry in the past: 404, and the rule unchanged.
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	wlProblem(t, "DELETE past expiryDate", del(b.ID, "?expiryDate="+past), http.StatusNotFound, "")
	if exp := time.Time(wlGet(t, e, b.ID).ExpiryDate); exp.Year() != 2040 {
		t.Errorf("expiry after a refused DELETE = %v, want it unchanged", exp)
	}
	// A rule that has expired already.
	c := wlCreate(t, e, map[string]any{"account_id": "3", "reason": "c", "expiry_date": "2020-01-01T00:00:00Z"})
	wlProblem(t, "DELETE expired rule", del(c.ID, ""), http.StatusNotFound, "")
	wlProblem(t, "DELETE expired rule, future date", del(c.ID, "?expiryDate=2040-01-01T00:00:00Z"), http.StatusNotFound, "")
	if got := wlGet(t, e, c.ID); !wlSame(got, c) {
		t.Errorf("expired rule after refused DELETEs = %+v, want it unchanged %+v", got, c)
	}
	// Unknown id, malformed id and date.
	wlProblem(t, "DELETE unknown", del(c.ID+1000, ""), http.StatusNotFound, "")
	wlProblem(t, "DELETE abc", e.do(t, http.MethodDelete, wlRulesPath+"/abc", nil), http.StatusBadRequest, "id")
	wlProblem(t, "DELETE malformed expiryDate", del(b.ID, "?expiryDate=soon"), http.StatusBadRequest, "expiryDate")
}

func TestWhitelistRuleApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// gen(i) for i%4 == 1 has account 100000000001; 24 violations, 6 of it.
	var vs []rules.Violation
	for i := range 24 {
		vs = append(vs, gen(i))
	}
	e.store(t, vs...)
	// gen(1) resolved; gen(5) whitelisted by another rule (applied).
	e.exec(t, `UPDATE fullstop_data.violation SET comment = 'fixed' WHERE event_id = $1`, gen(1).EventID)
	other := wlCreate(t, e, map[string]any{"image_name": "ami-2", "account_id": gen(5).AccountID, "reason": "other"})
	if n := wlApply(t, e, other.ID, false).Violations; n != 2 { // gen(5), gen(17): i%4 == 1, i%3 == 2
		t.Fatalf("applying rule %d whitelisted %d, want 2", other.ID, n)
	}

	rule := wlCreate(t, e, map[string]any{"account_id": gen(1).AccountID, "reason": "known account"})
	// Open and matching: i%4 == 1 except 1 (resolved), 5 and 17 (whitelisted).
	matching := []int{9, 13, 21}

	// A dry run counts and changes nothing.
	if got := wlApply(t, e, rule.ID, true); got.Violations != len(matching) {
		t.Errorf("dry run counts %d, want %d", got.Violations, len(matching))
	}
	for _, i := range matching {
		wlWantOpen(t, e, gen(i).EventID)
	}
	if got := wlApply(t, e, rule.ID, true); got.Violations != len(matching) {
		t.Errorf("second dry run counts %d, want %d", got.Violations, len(matching))
	}

	got := wlApply(t, e, rule.ID, false)
	if got.Violations != len(matching) {
		t.Errorf("apply whitelisted %d, want %d", got.Violations, len(matching))
	}
	for _, i := range matching {
		wlWantWhitelisted(t, e, gen(i).EventID, rule)
	}
	if s := wlRead(t, e, gen(1).EventID); s.ruleID != nil || wlStr(s.comment) != "fixed" {
		t.Errorf("resolved violation after apply: %v, want it left alone", s)
	}
	for _, i := range []int{5, 17} {
		wlWantWhitelisted(t, e, gen(i).EventID, other)
	}
	for i := range 24 {
		if i%4 != 1 {
			wlWantOpen(t, e, gen(i).EventID)
		}
	}
	var by string
	if err := e.db.QueryRow(context.Background(), `SELECT last_modified_by FROM fullstop_data.violation WHERE event_id = $1`,
		gen(9).EventID).Scan(&by); err != nil || by != "local" {
		t.Errorf("last_modified_by of an applied violation = %q (%v), want local", by, err)
	}
	// The API shows them whitelisted.
	p := e.page(t, "state=whitelisted&size=100")
	if p.TotalElements != int64(len(matching)+2) {
		t.Errorf("%d whitelisted violations listed, want %d", p.TotalElements, len(matching)+2)
	}

	// Twice: nothing left.
	if got := wlApply(t, e, rule.ID, false); got.Violations != 0 {
		t.Errorf("second apply whitelisted %d, want 0", got.Violations)
	}
	if got := wlApply(t, e, rule.ID, true); got.Violations != 0 {
		t.Errorf("dry run after apply counts %d, want 0", got.Violations)
	}

	// Unknown, malformed, expired.
	wlProblem(t, "apply unknown", e.do(t, http.MethodPost, fmt.Sprintf("%s/%d/apply", wlRulesPath, rule.ID+1000), nil),
		http.StatusNotFound, "")
	wlProblem(t, "apply abc", e.do(t, http.MethodPost, wlRulesPath+"/abc/apply", nil), http.StatusBadRequest, "id")
	wlProblem(t, "apply dry_run=maybe", e.do(t, http.MethodPost, fmt.Sprintf("%s/%d/apply?dry_run=maybe", wlRulesPath, rule.ID), nil),
		http.StatusBadRequest, "dry_run")
	expired := wlCreate(t, e, map[string]any{"region": "us-east-1", "reason": "x", "expiry_date": "2020-01-01T00:00:00Z"})
	wlProblem(t, "apply expired", e.do(t, http.MethodPost, fmt.Sprintf("%s/%d/apply", wlRulesPath, expired.ID), nil),
		http.StatusConflict, "")
	wlProblem(t, "dry run expired", e.do(t, http.MethodPost, fmt.Sprintf("%s/%d/apply?dry_run=true", wlRulesPath, expired.ID), nil),
		http.StatusConflict, "")
	wlWantOpen(t, e, gen(3).EventID) // us-east-1, open
}

func TestWhitelistRule_onInsert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Stored before the rule: stays open, also when seen again.
	early := gen(2)
	e.store(t, early)

	rule := wlCreate(t, e, map[string]any{"image_name": "ami-2", "reason": "golden image"})
	// gen(i) has ami_name ami-(i%3): 2, 5, 8 match.
	res := e.store(t, gen(5), gen(6), early)
	if res.New != 2 || res.SeenAgain != 1 {
		t.Errorf("commit result %+v, want 2 new, 1 seen again", res)
	}
	wlWantWhitelisted(t, e, gen(5).EventID, rule)
	wlWantOpen(t, e, gen(6).EventID)
	if s := wlWantOpen(t, e, early.EventID); s.seen != 2 {
		t.Errorf("re-detected open violation seen %d times, want 2", s.seen)
	}

	// Through POST /api/violations, as the group commit.
	for i, meta := range []string{`{"ami_name":"ami-2"}`, `{"ami_name":"ami-22"}`} {
		body := map[string]any{"event_id": fmt.Sprintf("posted-%d", i), "account_id": "123456789012", "region": "eu-west-1",
			"violation_type": "EC2_WITH_KEYPAIR", "instance_id": "i-9", "meta_info": json.RawMessage(meta)}
		if r := e.do(t, http.MethodPost, "/api/violations", body); r.status != http.StatusAccepted {
			t.Fatalf("POST /api/violations: %d: %s", r.status, r.body)
		}
	}
	wlWantWhitelisted(t, e, "posted-0", rule)
	wlWantOpen(t, e, "posted-1")

	// The rule replaced: a re-detection keeps the old rule, a new violation
	// gets the new one; apply leaves the already whitelisted alone.
	r := e.do(t, http.MethodPut, fmt.Sprintf("%s/%d", wlRulesPath, rule.ID), map[string]any{"image_name": "ami-.*", "reason": "any image"})
	if r.status != http.StatusOK {
		t.Fatalf("PUT: %d: %s", r.status, r.body)
	}
	var repl Rule
	r.decode(t, &repl)
	e.store(t, gen(5), gen(7))
	if s := wlWantWhitelisted(t, e, gen(5).EventID, rule); s.seen != 2 {
		t.Errorf("re-detected whitelisted violation seen %d times, want 2", s.seen)
	}
	wlWantWhitelisted(t, e, gen(7).EventID, repl)
	wlWantOpen(t, e, gen(6).EventID) // stored before repl: no retroactive effect
	if n := wlApply(t, e, repl.ID, false).Violations; n != 3 {
		t.Errorf("apply whitelisted %d, want 3 (gen(6), early, posted-1)", n)
	}
	wlWantWhitelisted(t, e, gen(6).EventID, repl)
	wlWantWhitelisted(t, e, early.EventID, repl)
	wlWantWhitelisted(t, e, "posted-1", repl)
	wlWantWhitelisted(t, e, gen(5).EventID, rule)
	wlWantWhitelisted(t, e, "posted-0", rule)
}

func TestWhitelistRule_firstMatchWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := gen(4) // EC2_WITH_KEYPAIR, account 100000000000, eu-west-1, ami-1
	// An expired rule with the lowest id, and one whose criteria all hold
	// but the image name: neither applies.
	wlCreate(t, e, map[string]any{"account_id": v.AccountID, "reason": "expired", "expiry_date": "2020-01-01T00:00:00Z"})
	wlCreate(t, e, map[string]any{"account_id": v.AccountID, "region": v.Region, "violation_type": v.Type,
		"image_name": "ami-2", "reason": "all but the image"})
	first := wlCreate(t, e, map[string]any{"account_id": v.AccountID, "region": v.Region, "reason": "first"})
	second := wlCreate(t, e, map[string]any{"violation_type": v.Type, "reason": "second"})
	e.store(t, v)
	wlWantWhitelisted(t, e, v.EventID, first)

	// With first expired, the next one in id order.
	expiry := time.Now().Add(2 * time.Second)
	if r := e.do(t, http.MethodDelete, fmt.Sprintf("%s/%d?expiryDate=%s", wlRulesPath, first.ID,
		expiry.UTC().Format(time.RFC3339Nano)), nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d: %s", r.status, r.body)
	}
	time.Sleep(time.Until(expiry) + 100*time.Millisecond)
	v2 := gen(16) // same account, region and type as gen(4), ami-1
	e.store(t, v2)
	wlWantWhitelisted(t, e, v2.EventID, second)

	// Only the expired and the almost matching rule left: open.
	e.exec(t, `UPDATE fullstop_data.rule SET expiry_date = now() - interval '1 second' WHERE id = $1`, second.ID)
	v3 := gen(28)
	e.store(t, v3)
	wlWantOpen(t, e, v3.EventID)
}
