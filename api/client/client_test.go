package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fullstop-audit/fullstop/api"
	"github.com/fullstop-audit/fullstop/api/auth"
	"github.com/fullstop-audit/fullstop/api/client"
	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is the real API server on a new, migrated database, behind a
// handler that records the requests.
type env struct {
	st  *store.Store
	srv *httptest.Server

	mu       sync.Mutex
	requests []*http.Request // the requests received, in order
}

func newEnv(t *testing.T) *env {
	t.Helper()
	url := pgtest.New(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(ctx, url, &store.Config{Log: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	reg := prometheus.NewRegistry()
	h, err := api.New(api.Config{Store: st, Verifier: auth.None{}, Log: log, Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	e := &env{st: st}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.requests = append(e.requests, r.Clone(context.Background()))
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// client returns a client of the env's server; cfg.URL is set.
func (e *env) client(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	cfg.URL = e.srv.URL
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

// received returns the requests received so far.
func (e *env) received() []*http.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.requests)
}

// accounts of the seeded violations: violation i belongs to accounts[i%4].
var accounts = []string{"100000000000", "100000000001", "100000000002", "100000000003"}

var types = []string{"WRONG_REGION", "EC2_WITH_KEYPAIR", "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION"}

// seed stores n violations (numbered from first) in one group, as the
// pipeline does. Even ones run application kio 1.0.
func (e *env) seed(t *testing.T, first, n int) {
	t.Helper()
	key := fmt.Sprintf("AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/obj-%d.json.gz", time.Now().UnixNano())
	vs := make([]rules.Violation, n)
	for j := range vs {
		i := first + j
		vs[j] = rules.Violation{
			Type:       types[i%len(types)],
			EventID:    fmt.Sprintf("00000000-0000-0000-0000-%012d", i),
			AccountID:  accounts[i%len(accounts)],
			Region:     "eu-west-1",
			InstanceID: fmt.Sprintf("i-%05d", i),
			Username:   "arn:aws:iam::123456789012:user/alice",
			MetaInfo:   fmt.Sprintf(`{"n":%d}`, i),
			Rule:       "sql/rules/" + types[i%len(types)] + ".sql",
			EventTime:  time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
			ObjectKey:  key,
		}
		if i%2 == 0 {
			vs[j].Application, vs[j].Version = "kio", "1.0"
		}
	}
	_, err := e.st.ViolationCommitGroup(context.Background(), "test", []etl.ObjectDone{{Key: key, ETag: "e", Size: 1,
		StartedAt: time.Now(), FinishedAt: time.Now()}}, rules.Findings{Violations: vs})
	if err != nil {
		t.Fatalf("commit group: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func ids(vs []api.Violation) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

// asError returns err as an *client.Error, failing the test if it is not
// one or has another status.
func asError(t *testing.T, err error, status int) *client.Error {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *client.Error", err, err)
	}
	if ce.Status != status {
		t.Fatalf("status %d, want %d: %v", ce.Status, status, err)
	}
	return ce
}

var msTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func TestViolations(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 0, 30)
	c := e.client(t, client.Config{})
	ctx := context.Background()

	p, err := c.Violations(ctx, client.ViolationQuery{Size: 10, Sort: []string{"id,desc"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalElements != 30 || p.TotalPages != 3 || len(p.Content) != 10 || !p.First || p.Last || p.Size != 10 {
		t.Fatalf("page %+v", p)
	}
	if !slices.IsSortedFunc(p.Content, func(a, b api.Violation) int { return int(b.ID - a.ID) }) {
		t.Errorf("not sorted by id desc: %v", ids(p.Content))
	}
	if len(p.Sort) != 1 || p.Sort[0].Property != "id" || p.Sort[0].Direction != "DESC" {
		t.Errorf("sort %+v", p.Sort)
	}

	// Filters: lists comma-separated, times in RFC 3339 with milliseconds.
	now := time.Now()
	from, to := now.Add(-time.Hour), now.Add(time.Hour)
	q := client.ViolationQuery{Accounts: accounts[:2], Types: types[:2], From: &from, To: &to, Size: 100,
		Checked: ptr(false)}
	p, err = c.Violations(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := range 30 {
		if i%4 < 2 && i%3 < 2 {
			want++
		}
	}
	if len(p.Content) != want {
		t.Errorf("%d violations of 2 accounts and 2 types, want %d", len(p.Content), want)
	}
	for _, v := range p.Content {
		if v.AccountID == nil || !slices.Contains(accounts[:2], *v.AccountID) || !slices.Contains(types[:2], v.ViolationType.ID) {
			t.Errorf("violation %d of %v, type %s", v.ID, v.AccountID, v.ViolationType.ID)
		}
	}
	rq := e.received()
	got := rq[len(rq)-1].URL.Query()
	if got.Get("accounts") != accounts[0]+","+accounts[1] || got.Get("types") != types[0]+","+types[1] {
		t.Errorf("lists sent as %q", got)
	}
	for _, k := range []string{"from", "to"} {
		if !msTime.MatchString(got.Get(k)) {
			t.Errorf("%s sent as %q, want RFC 3339 UTC with milliseconds", k, got.Get(k))
		}
	}

	// Nothing after to.
	p, err = c.Violations(ctx, client.ViolationQuery{From: &to})
	if err != nil || len(p.Content) != 0 || p.TotalElements != 0 {
		t.Errorf("from the future: %+v, %v", p, err)
	}
	// Applications, last-violation, type.
	all, err := c.ViolationsUpTo(ctx, client.ViolationQuery{}, 100)
	if err != nil || len(all) != 30 {
		t.Fatalf("all: %d, %v", len(all), err)
	}
	p, err = c.Violations(ctx, client.ViolationQuery{Applications: []string{"kio"}, Versions: []string{"1.0"},
		LastViolation: all[10].ID, Type: types[0], Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range p.Content {
		if v.ID < all[10].ID || v.ApplicationID == nil || *v.ApplicationID != "kio" || v.ViolationType.ID != types[0] {
			t.Errorf("violation %+v", v)
		}
	}
	if len(p.Content) == 0 {
		t.Error("no violation of kio from the 11th of type 0")
	}
}

func TestViolationsUpTo(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 0, 2600)
	c := e.client(t, client.Config{})
	ctx := context.Background()

	count := func() int {
		n := 0
		for _, r := range e.received() {
			if r.URL.Path == "/api/violations" {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		limit, want, pages int
	}{
		{2500, 2500, 3},
		{5000, 2600, 3},
		{1000, 1000, 1},
		{7, 7, 1},
	} {
		before := count()
		vs, err := c.ViolationsUpTo(ctx, client.ViolationQuery{}, tc.limit)
		if err != nil {
			t.Fatalf("limit %d: %v", tc.limit, err)
		}
		if len(vs) != tc.want {
			t.Errorf("limit %d: %d violations, want %d", tc.limit, len(vs), tc.want)
		}
		if n := count() - before; n != tc.pages {
			t.Errorf("limit %d: %d requests, want %d", tc.limit, n, tc.pages)
		}
		got := ids(vs)
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("limit %d: ids not ascending and distinct", tc.limit)
		}
	}
	// The page size asked for is min(limit, 1000).
	rq := e.received()
	if s := rq[len(rq)-1].URL.Query().Get("size"); s != "7" {
		t.Errorf("size %q for limit 7", s)
	}
	if _, err := c.ViolationsUpTo(ctx, client.ViolationQuery{}, 0); err == nil {
		t.Error("limit 0 accepted")
	}
	// An error of a page is returned.
	_, err := c.ViolationsUpTo(ctx, client.ViolationQuery{Sort: []string{"nope"}}, 10)
	asError(t, err, http.StatusBadRequest)
}

func TestViolationResolveReopen(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 0, 3)
	c := e.client(t, client.Config{})
	ctx := context.Background()

	p, err := c.Violations(ctx, client.ViolationQuery{})
	if err != nil || len(p.Content) != 3 {
		t.Fatalf("%+v, %v", p, err)
	}
	id := p.Content[1].ID
	v, err := c.Violation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if v.ID != id || v.Comment != nil || v.AccountID == nil || *v.AccountID != accounts[1] || string(v.MetaInfo) != `{"n": 1}` && string(v.MetaInfo) != `{"n":1}` {
		t.Errorf("violation %+v, meta %s", v, v.MetaInfo)
	}
	if time.Time(v.Created).IsZero() || time.Time(v.LastSeen).IsZero() {
		t.Errorf("times %v %v", v.Created, v.LastSeen)
	}

	const comment = "a false alarm: ünïcode, \"quotes\" and\nnewlines"
	v, err = c.Resolve(ctx, id, comment)
	if err != nil {
		t.Fatal(err)
	}
	if v.Comment == nil || *v.Comment != comment {
		t.Errorf("comment %v", v.Comment)
	}
	p, err = c.Violations(ctx, client.ViolationQuery{State: "resolved"})
	if err != nil || len(p.Content) != 1 || p.Content[0].ID != id {
		t.Errorf("resolved: %v, %v", ids(p.Content), err)
	}
	p, err = c.Violations(ctx, client.ViolationQuery{Checked: ptr(true)})
	if err != nil || len(p.Content) != 1 || p.Content[0].ID != id {
		t.Errorf("checked: %v, %v", ids(p.Content), err)
	}

	v, err = c.Reopen(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Comment != nil {
		t.Errorf("reopened with comment %q", *v.Comment)
	}
	p, err = c.Violations(ctx, client.ViolationQuery{})
	if err != nil || len(p.Content) != 3 {
		t.Errorf("open after reopening: %v, %v", ids(p.Content), err)
	}
}

func TestViolationTypesAndCounts(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 0, 24)
	c := e.client(t, client.Config{})
	ctx := context.Background()

	ts, err := c.ViolationTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range types {
		if !slices.ContainsFunc(ts, func(x api.ViolationType) bool { return x.ID == want }) {
			t.Errorf("type %s missing from %d types", want, len(ts))
		}
	}

	cs, err := c.CountByAccount(ctx, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, x := range cs {
		total += x.Quantity
	}
	if total != 24 || len(cs) != 12 { // 4 accounts × 3 types
		t.Errorf("counts %+v", cs)
	}
	past := time.Now().Add(-time.Hour)
	cs, err = c.CountByAccount(ctx, accounts[:1], &past, "open")
	if err != nil {
		t.Fatal(err)
	}
	total = 0
	for _, x := range cs {
		total += x.Quantity
		if x.Account != accounts[0] {
			t.Errorf("count of account %s", x.Account)
		}
	}
	if total != 6 {
		t.Errorf("account %s: %d, want 6: %+v", accounts[0], total, cs)
	}
	cs, err = c.CountByAccount(ctx, nil, nil, "resolved")
	if err != nil || len(cs) != 0 {
		t.Errorf("resolved: %+v, %v", cs, err)
	}

	// Account 0 has the even violations: all of kio 1.0; account 1 none.
	as, err := c.CountByApplication(ctx, accounts[0], &past, "")
	if err != nil {
		t.Fatal(err)
	}
	total = 0
	for _, x := range as {
		total += x.Quantity
		if x.Application == nil || *x.Application != "kio" || x.Version == nil || *x.Version != "1.0" {
			t.Errorf("count %+v", x)
		}
	}
	if total != 6 {
		t.Errorf("applications of %s: %+v", accounts[0], as)
	}
	as, err = c.CountByApplication(ctx, accounts[1], nil, "any")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range as {
		if x.Application != nil {
			t.Errorf("account 1 counted under application %s", *x.Application)
		}
	}
	if _, err := c.CountByApplication(ctx, "", nil, ""); err == nil {
		t.Error("empty account accepted")
	}
	// An account needing escaping reaches the server as one path segment.
	as, err = c.CountByApplication(ctx, "a/b c", nil, "")
	if err != nil || len(as) != 0 {
		t.Errorf("odd account: %+v, %v", as, err)
	}
}

func TestWhitelistRules(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 0, 8)
	c := e.client(t, client.Config{})
	ctx := context.Background()

	rs, err := c.WhitelistRules(ctx)
	if err != nil || len(rs) != 0 {
		t.Fatalf("rules: %+v, %v", rs, err)
	}
	expiry := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Millisecond)
	r, err := c.CreateWhitelistRule(ctx, api.RuleInput{AccountID: ptr(accounts[2]), Reason: ptr("test account"),
		ExpiryDate: ptr(expiry.Format(time.RFC3339Nano))})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.AccountID == nil || *r.AccountID != accounts[2] || r.Reason != "test account" || !time.Time(r.ExpiryDate).Equal(expiry) {
		t.Errorf("rule %+v, expiry %v want %v", r, time.Time(r.ExpiryDate), expiry)
	}
	rs, err = c.WhitelistRules(ctx)
	if err != nil || len(rs) != 1 || rs[0].ID != r.ID {
		t.Errorf("rules: %+v, %v", rs, err)
	}

	res, err := c.ApplyWhitelistRule(ctx, r.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if res != (api.ApplyResult{RuleID: r.ID, DryRun: true, Violations: 2}) {
		t.Errorf("dry run %+v", res)
	}
	res, err = c.ApplyWhitelistRule(ctx, r.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if res != (api.ApplyResult{RuleID: r.ID, Violations: 2}) {
		t.Errorf("apply %+v", res)
	}
	p, err := c.Violations(ctx, client.ViolationQuery{Whitelisted: ptr(true)})
	if err != nil || len(p.Content) != 2 {
		t.Fatalf("whitelisted: %v, %v", ids(p.Content), err)
	}
	for _, v := range p.Content {
		if v.RuleID == nil || *v.RuleID != r.ID {
			t.Errorf("violation %d whitelisted by %v", v.ID, v.RuleID)
		}
	}

	at := time.Now().Add(time.Hour)
	if err := c.ExpireWhitelistRule(ctx, r.ID, &at); err != nil {
		t.Fatal(err)
	}
	rq := e.received()
	if s := rq[len(rq)-1].URL.Query().Get("expiryDate"); !msTime.MatchString(s) {
		t.Errorf("expiryDate sent as %q", s)
	}
	rs, err = c.WhitelistRules(ctx)
	if err != nil || len(rs) != 1 || !time.Time(rs[0].ExpiryDate).Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("expired rule: %+v, %v", rs, err)
	}
	if err := c.ExpireWhitelistRule(ctx, r.ID, nil); err != nil {
		t.Errorf("expire in a minute: %v", err)
	}
	asError(t, c.ExpireWhitelistRule(ctx, r.ID+100, nil), http.StatusNotFound)
	_, err = c.ApplyWhitelistRule(ctx, r.ID+100, false)
	asError(t, err, http.StatusNotFound)

	// A refused rule: 400 naming the field.
	_, err = c.CreateWhitelistRule(ctx, api.RuleInput{AccountID: ptr(accounts[0])})
	ce := asError(t, err, http.StatusBadRequest)
	if ce.Problem == nil || len(ce.Problem.Errors) != 1 || ce.Problem.Errors[0].Name != "reason" {
		t.Errorf("problem %+v", ce.Problem)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, client.Config{})
	_, err := c.Violation(context.Background(), 7)
	ce := asError(t, err, http.StatusNotFound)
	if ce.Message != "violation 7 does not exist" || ce.Problem == nil || ce.Problem.Status != 404 {
		t.Errorf("error %+v, problem %+v", ce, ce.Problem)
	}
	if got := err.Error(); got != "404 Not Found: violation 7 does not exist" {
		t.Errorf("Error() = %q", got)
	}
	for name, f := range map[string]func() error{
		"resolve": func() error { _, err := c.Resolve(context.Background(), 7, "x"); return err },
		"reopen":  func() error { _, err := c.Reopen(context.Background(), 7); return err },
	} {
		if ce := asError(t, f(), http.StatusNotFound); !strings.Contains(ce.Message, "violation 7") {
			t.Errorf("%s: %v", name, ce)
		}
	}
}

func TestBadParameter(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, client.Config{})
	_, err := c.Violations(context.Background(), client.ViolationQuery{Sort: []string{"nope,desc"}})
	ce := asError(t, err, http.StatusBadRequest)
	if !strings.Contains(ce.Message, "sort") || !strings.Contains(err.Error(), "400 Bad Request: ") {
		t.Errorf("error %q", err)
	}
	if ce.Problem == nil || len(ce.Problem.Errors) != 1 || ce.Problem.Errors[0].Name != "sort" || ce.Problem.Errors[0].In != "query" {
		t.Errorf("problem %+v", ce.Problem)
	}
	_, err = c.Violations(context.Background(), client.ViolationQuery{Size: 1001})
	if ce := asError(t, err, http.StatusBadRequest); ce.Problem == nil || ce.Problem.Errors[0].Name != "size" {
		t.Errorf("size 1001: %v", err)
	}
	_, err = c.Violations(context.Background(), client.ViolationQuery{State: "closed"})
	if ce := asError(t, err, http.StatusBadRequest); ce.Problem == nil || ce.Problem.Errors[0].Name != "state" {
		t.Errorf("state closed: %v", err)
	}
}

func TestToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client(t, client.Config{Token: func(context.Context) (string, error) { return "s3cret-token", nil }})
	if _, err := c.ViolationTypes(ctx); err != nil {
		t.Fatal(err)
	}
	rq := e.received()
	if got := rq[len(rq)-1].Header.Get("Authorization"); got != "Bearer s3cret-token" {
		t.Errorf("Authorization %q", got)
	}

	c = e.client(t, client.Config{})
	if _, err := c.ViolationTypes(ctx); err != nil {
		t.Fatal(err)
	}
	rq = e.received()
	if got, ok := rq[len(rq)-1].Header["Authorization"]; ok {
		t.Errorf("Authorization %q without a token function", got)
	}

	boom := errors.New("no token cached; log in")
	c = e.client(t, client.Config{Token: func(context.Context) (string, error) { return "", boom }})
	before := len(e.received())
	_, err := c.ViolationTypes(ctx)
	if !errors.Is(err, boom) {
		t.Errorf("error %v does not wrap the token function's", err)
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		t.Errorf("a token error is a *client.Error: %v", err)
	}
	if n := len(e.received()) - before; n != 0 {
		t.Errorf("%d requests sent without a token", n)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	c, err := client.New(client.Config{URL: url, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Violation(context.Background(), 1)
	if err == nil {
		t.Fatal("no error")
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		t.Errorf("unreachable is a *client.Error: %v", err)
	}
	if !strings.Contains(err.Error(), url+"/api/violations/1") {
		t.Errorf("error %q does not name the URL", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Errorf("error %v does not wrap the cause", err)
	}
}

// fake starts a server answering every request with h.
func fake(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

func TestNotJSON(t *testing.T) {
	url := fake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/api/violations/1" {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>"+strings.Repeat("bad gateway ", 100)+"</html>")
			return
		}
		fmt.Fprint(w, "<html>hello</html>")
	})
	c, err := client.New(client.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ViolationTypes(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not the JSON expected") || !strings.Contains(err.Error(), "200") {
		t.Errorf("error %v", err)
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		t.Errorf("a 200 is a *client.Error: %v", err)
	}
	// A non-2xx answer that is not a problem: its first 200 bytes.
	_, err = c.Violation(context.Background(), 1)
	ce = asError(t, err, http.StatusBadGateway)
	if ce.Problem != nil || !strings.HasPrefix(ce.Message, "<html>bad gateway") || len(ce.Message) > 200+len("…") {
		t.Errorf("error %+v", ce)
	}
}

func TestTimeout(t *testing.T) {
	url := fake(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
		}
		fmt.Fprint(w, "[]")
	})
	c, err := client.New(client.Config{URL: url, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.ViolationTypes(context.Background())
	if err == nil {
		t.Fatal("no timeout")
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("took %v", d)
	}
	if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "100ms") {
		t.Errorf("error %q", err)
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		t.Errorf("a timeout is a *client.Error: %v", err)
	}
	// A longer timeout waits.
	c, err = client.New(client.Config{URL: url, Timeout: 5 * time.Second, HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ViolationTypes(context.Background()); err != nil {
		t.Errorf("5 s timeout: %v", err)
	}
}

func TestNewChecksURL(t *testing.T) {
	for _, u := range []string{"", " ", "fullstop.example.org", "ftp://fullstop.example.org", "http://", "https:///api",
		"http://x.org/?a=b", "http://x.org/#f", "http://[::1"} {
		if _, err := client.New(client.Config{URL: u}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
	if _, err := client.New(client.Config{URL: "http://x.org", Timeout: -time.Second}); err == nil {
		t.Error("negative timeout accepted")
	}
	for _, u := range []string{"http://x.org", "https://x.org/", "https://x.org:8443/fullstop/"} {
		if _, err := client.New(client.Config{URL: u}); err != nil {
			t.Errorf("URL %q: %v", u, err)
		}
	}
	// Credentials in the URL do not show in errors.
	c, err := client.New(client.Config{URL: "http://user:hunter2@127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ViolationTypes(context.Background()); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
}

func TestPathPrefix(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 0, 2)
	prefixed := httptest.NewServer(http.StripPrefix("/fullstop", e.srv.Config.Handler))
	t.Cleanup(prefixed.Close)
	c, err := client.New(client.Config{URL: prefixed.URL + "/fullstop/"})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := c.ViolationsUpTo(context.Background(), client.ViolationQuery{}, 10)
	if err != nil || len(vs) != 2 {
		t.Fatalf("%d violations, %v", len(vs), err)
	}
	rq := e.received()
	if p := rq[len(rq)-1].URL.Path; p != "/api/violations" {
		t.Errorf("path %q", p)
	}
}
