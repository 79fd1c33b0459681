package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fullstop-audit/fullstop/api/auth"
	"github.com/fullstop-audit/fullstop/store"
)

// servingCORS are the headers of every answer.
var servingCORS = map[string]string{
	"Access-Control-Allow-Origin":  "*",
	"Access-Control-Allow-Methods": "POST, GET, OPTIONS, DELETE, PUT",
	"Access-Control-Max-Age":       "3600",
	"Access-Control-Allow-Headers": "Content-Type, x-requested-with, Authorization",
}

func servingCheckCORS(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k, v := range servingCORS {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s %q, want %q", what, k, got, v)
		}
	}
}

// servingRejectAll is a Verifier that lets no one in.
type servingRejectAll struct{}

func (servingRejectAll) Verify(context.Context, string) (auth.Principal, error) {
	return auth.Principal{}, fmt.Errorf("no token accepted: %w", auth.ErrUnauthorized)
}

func TestServingCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.store(t, gen(1))
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/api/violations", http.StatusOK},
		{http.MethodGet, "/api/violation-types", http.StatusOK},
		{http.MethodGet, "/health", http.StatusOK},
		{http.MethodGet, "/api/violations/999999", http.StatusNotFound},
		{http.MethodGet, "/no/such/path", http.StatusNotFound},
		{http.MethodGet, "/api/violations?size=0", http.StatusBadRequest},
		{http.MethodPost, "/api/violations", http.StatusBadRequest},
		{http.MethodPatch, "/api/violations", http.StatusMethodNotAllowed},
	} {
		r := e.do(t, c.method, c.path, nil)
		if r.status != c.status {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.status, c.status, r.body)
		}
		servingCheckCORS(t, c.method+" "+c.path, r.header)
	}
}

func TestServingOptions(t *testing.T) {
	t.Parallel()
	// No caller is let in: a preflight needs no authentication.
	e := newEnv(t, func(c *Config) { c.Verifier = servingRejectAll{} })
	if r := e.do(t, http.MethodGet, "/api/violations/1", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("GET without a valid token: %d, want 401", r.status)
	}
	for _, p := range []string{"/api/violations/1", "/api/violations", "/api/violations/1/resolution", "/api/whitelisting-rules/3/apply",
		"/api/violation-count/123", "/health", "/metrics", "/no/such/path", "/"} {
		r := e.do(t, http.MethodOptions, p, nil, "Origin", "https://example.org", "Access-Control-Request-Method", "POST")
		if r.status != http.StatusOK || len(r.body) != 0 {
			t.Errorf("OPTIONS %s: %d %q, want 200 with no body", p, r.status, r.body)
		}
		servingCheckCORS(t, "OPTIONS "+p, r.header)
	}
	// With a bearer token that would be refused.
	r := e.do(t, http.MethodOptions, "/api/violations/1", nil, "Authorization", "Bearer nope")
	if r.status != http.StatusOK || len(r.body) != 0 {
		t.Errorf("OPTIONS with a bad token: %d %q", r.status, r.body)
	}
}

func TestServingMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct {
		method, path string
		allow        []string
	}{
		{http.MethodPatch, "/api/violations", []string{"GET", "POST", "OPTIONS", "HEAD"}},
		{http.MethodDelete, "/api/violations", []string{"GET", "POST", "OPTIONS", "HEAD"}},
		{http.MethodPut, "/api/violations/1", []string{"GET", "OPTIONS", "HEAD"}},
		{http.MethodGet, "/api/violations/1/resolution", []string{"POST", "DELETE", "OPTIONS"}},
		{http.MethodPost, "/api/violation-types", []string{"GET", "OPTIONS", "HEAD"}},
		{http.MethodPost, "/health", []string{"GET", "OPTIONS", "HEAD"}},
		{http.MethodPatch, "/api/whitelisting-rules/1", []string{"GET", "PUT", "DELETE", "OPTIONS", "HEAD"}},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := e.do(t, c.method, c.path, nil)
			if r.status != http.StatusMethodNotAllowed {
				t.Fatalf("%d, want 405: %s", r.status, r.body)
			}
			p := r.problem(t)
			if p.Instance != c.path || !strings.Contains(p.Detail, c.method) {
				t.Errorf("problem %+v", p)
			}
			allow := strings.Split(r.header.Get("Allow"), ", ")
			if len(allow) != len(c.allow) {
				t.Errorf("Allow %q, want %q", allow, c.allow)
			}
			for _, m := range c.allow {
				if !strings.Contains(", "+r.header.Get("Allow")+", ", ", "+m+", ") {
					t.Errorf("Allow %q lacks %s", r.header.Get("Allow"), m)
				}
			}
		})
	}
}

func TestServingHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.get(t, "/health", http.StatusOK)
	var h map[string]any
	r.decode(t, &h)
	if h["status"] != "UP" || h["database"] != "UP" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("health %s, content type %q", r.body, r.header.Get("Content-Type"))
	}
}

// servingDownStore is a store whose database does not answer.
type servingDownStore struct{ *store.Store }

func (servingDownStore) Ping(context.Context) error {
	return fmt.Errorf("ping database: %w", store.ErrUnavailable)
}

func (servingDownStore) ViolationPage(context.Context, store.ViolationFilter, []store.Sort, int, int) ([]store.Violation, int64, error) {
	return nil, 0, fmt.Errorf("count violations: %w", store.ErrUnavailable)
}

func TestServingDatabaseDown(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	h, err := New(Config{Store: servingDownStore{}, Verifier: auth.None{}, Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{srv: srv, reg: reg}

	r := e.get(t, "/health", http.StatusServiceUnavailable)
	var hj map[string]any
	r.decode(t, &hj)
	if hj["status"] != "DOWN" || hj["database"] != "DOWN" {
		t.Errorf("health %s, want status and database DOWN", r.body)
	}

	r = e.get(t, "/api/violations", http.StatusServiceUnavailable)
	p := r.problem(t)
	if strings.Contains(p.Detail, "count violations") {
		t.Errorf("detail %q shows the cause", p.Detail)
	}
	servingCheckCORS(t, "GET /api/violations with the database down", r.header)
}

func TestServingMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.store(t, gen(7))
	id := vqIDOf(t, e, gen(7).EventID)
	e.get(t, fmt.Sprintf("/api/violations/%d", id), http.StatusOK)
	e.get(t, fmt.Sprintf("/api/violations/%d", id), http.StatusOK)
	e.get(t, "/api/violations/999999", http.StatusNotFound)
	e.get(t, "/api/violations/abc", http.StatusBadRequest)
	e.get(t, "/no/such/path", http.StatusNotFound)
	e.get(t, "/api/violations", http.StatusOK)
	e.do(t, http.MethodPatch, "/api/violations", nil)
	e.do(t, http.MethodOptions, "/api/violations/7", nil)

	r := e.get(t, "/metrics", http.StatusOK)
	body := string(r.body)
	for _, want := range []string{
		`fullstop_http_requests_total{method="GET",route="GET /api/violations/{id}",status="200"} 2`,
		`fullstop_http_requests_total{method="GET",route="GET /api/violations/{id}",status="404"} 1`,
		`fullstop_http_requests_total{method="GET",route="GET /api/violations/{id}",status="400"} 1`,
		`fullstop_http_requests_total{method="GET",route="GET /api/violations",status="200"} 1`,
		`fullstop_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`fullstop_http_requests_total{method="OPTIONS",route="OPTIONS",status="200"} 1`,
		`fullstop_http_request_duration_seconds_count{method="GET",route="GET /api/violations/{id}"} 4`,
		`fullstop_http_request_duration_seconds_bucket{method="GET",route="GET /api/violations/{id}",le="+Inf"} 4`,
		`fullstop_http_request_duration_seconds_count{method="GET",route="unmatched"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if m := regexp.MustCompile(`route="[^"]*(/api/violations/(\d+|abc)|/no/such)[^"]*"`).FindString(body); m != "" {
		t.Errorf("/metrics has a raw path as route: %s", m)
	}
	if !regexp.MustCompile(`fullstop_http_requests_total\{method="PATCH",route="[^"]+",status="405"\} 1`).MatchString(body) {
		t.Errorf("/metrics lacks the 405")
	}

	// The registry says the same.
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "fullstop_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == "GET /api/violations/{id}" && labels["status"] == "200" && m.GetCounter().GetValue() == 2 {
				found = true
			}
		}
	}
	if !found {
		b, _ := json.Marshal(mfs)
		t.Errorf("registry lacks the route counter: %s", b)
	}
}
