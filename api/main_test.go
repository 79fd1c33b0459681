package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fullstop-audit/fullstop/api/auth"
	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is an API server on a new, migrated database.
type env struct {
	st  *store.Store
	db  *pgx.Conn // for arranging rows the API cannot write (created times)
	srv *httptest.Server
	reg *prometheus.Registry
}

// newEnv starts the API on a new database; by default every caller is
// allowed (auth.None). opts change the configuration.
func newEnv(t *testing.T, opts ...func(*Config)) *env {
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
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	reg := prometheus.NewRegistry()
	cfg := Config{Store: st, Verifier: auth.None{}, Log: log, Registerer: reg, Gatherer: reg}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{st: st, db: db, srv: srv, reg: reg}
}

// exec runs one statement on the env's database.
func (e *env) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := e.db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// reply is an answer of the server.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// decode decodes the body into v, failing the test if it is not JSON.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d is not the JSON expected: %v\n%s", r.status, err, r.body)
	}
}

// problem decodes a problem body, checking its content type and status.
func (r reply) problem(t *testing.T) Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p Problem
	r.decode(t, &p)
	if p.Status != r.status || p.Title == "" {
		t.Fatalf("problem %+v does not match status %d", p, r.status)
	}
	return p
}

// do sends a request; body is nil, a string (sent as text/plain), []byte
// (sent as JSON) or a value marshalled as JSON. header is name, value
// pairs.
func (e *env) do(t *testing.T, method, path string, body any, header ...string) reply {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "text/plain"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// get sends a GET and checks the status.
func (e *env) get(t *testing.T, path string, want int) reply {
	t.Helper()
	r := e.do(t, http.MethodGet, path, nil)
	if r.status != want {
		t.Fatalf("GET %s: %d, want %d: %s", path, r.status, want, r.body)
	}
	return r
}

// page gets a page of violations and returns it.
func (e *env) page(t *testing.T, query string) Page[Violation] {
	t.Helper()
	var p Page[Violation]
	e.get(t, "/api/violations?"+query, http.StatusOK).decode(t, &p)
	return p
}

// ids returns the ids of a page's violations.
func ids(p Page[Violation]) []int64 {
	out := make([]int64, len(p.Content))
	for i, v := range p.Content {
		out[i] = v.ID
	}
	return out
}

// gen is a generated violation: i decides its fields.
func gen(i int) rules.Violation {
	types := []string{"WRONG_REGION", "EC2_WITH_KEYPAIR", "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION"}
	return rules.Violation{
		Type:       types[i%len(types)],
		EventID:    fmt.Sprintf("00000000-0000-0000-0000-%012d", i),
		AccountID:  fmt.Sprintf("%012d", 100000000000+i%4),
		Region:     []string{"eu-west-1", "us-east-1"}[i%2],
		InstanceID: fmt.Sprintf("i-%04d", i),
		Username:   "arn:aws:iam::123456789012:user/alice",
		MetaInfo:   fmt.Sprintf(`{"n":%d,"ami_name":"ami-%d"}`, i, i%3),
		Rule:       "sql/rules/" + types[i%len(types)] + ".sql",
		EventTime:  time.Date(2024, 5, 1, 0, 0, i, 0, time.UTC),
		ObjectKey:  "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/gen.json.gz",
	}
}

// store commits vs in one group, as the pipeline does.
func (e *env) store(t *testing.T, vs ...rules.Violation) etl.GroupResult {
	t.Helper()
	key := fmt.Sprintf("AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/obj-%d.json.gz", time.Now().UnixNano())
	for i := range vs {
		vs[i].ObjectKey = key
	}
	res, err := e.st.ViolationCommitGroup(context.Background(), "test", []etl.ObjectDone{{Key: key, ETag: "e", Size: 1,
		StartedAt: time.Now(), FinishedAt: time.Now()}}, rules.Findings{Violations: vs})
	if err != nil {
		t.Fatalf("commit group: %v", err)
	}
	return res
}
