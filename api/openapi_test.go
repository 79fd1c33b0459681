package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// served loads and validates the document the server serves.
func served(t *testing.T, e *env) *openapi3.T {
	t.Helper()
	r := e.get(t, "/api/openapi.yaml", http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("content type %q", ct)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.body)
	if err != nil {
		t.Fatalf("load the served document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served document is not valid OpenAPI 3: %v", err)
	}
	return doc
}

// TestOpenAPI_DocumentMatchesServer probes every path of the document with
// every method: the server must answer each documented operation (not
// 404 for the route, not 405) and refuse with 405 every method the
// document does not name for the path.
func TestOpenAPI_DocumentMatchesServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc := served(t, e)
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch}
	n := 0
	for path, item := range doc.Paths.Map() {
		concrete := strings.NewReplacer("{id}", "999999", "{account}", "123456789012").Replace(path)
		for _, m := range methods {
			documented := item.GetOperation(m) != nil
			r := e.do(t, m, concrete, nil)
			switch {
			case documented && r.status == http.StatusMethodNotAllowed:
				t.Errorf("%s %s is documented but the server answers 405", m, path)
			case documented && r.status == http.StatusNotFound && strings.Contains(string(r.body), "no such resource"):
				t.Errorf("%s %s is documented but the server has no such route", m, path)
			case !documented && r.status != http.StatusMethodNotAllowed:
				t.Errorf("%s %s is not documented but the server answers %d", m, path, r.status)
			}
			if documented {
				n++
			}
		}
	}
	if n < 17 {
		t.Errorf("the document has %d operations, want at least 17", n)
	}
	// A path the document lacks is not served.
	if r := e.do(t, http.MethodGet, "/api/violationz", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /api/violationz: %d", r.status)
	}
}

// TestOpenAPI_ReferenceEndpoints checks that the reference's endpoints
// (§7.2, instance logs and lifecycles aside) and ours are documented with
// their parameters.
func TestOpenAPI_ReferenceEndpoints(t *testing.T) {
	t.Parallel()
	doc := served(t, newEnv(t))
	want := map[string][]string{
		"GET /api/violations":                     {"accounts", "from", "to", "last-violation", "checked", "whitelisted", "severity", "priority", "audit-relevant", "type", "types", "application-ids", "application-version-ids", "page", "size", "sort", "state"},
		"GET /api/violations/{id}":                {"id"},
		"POST /api/violations":                    nil,
		"POST /api/violations/{id}/resolution":    {"id"},
		"DELETE /api/violations/{id}/resolution":  {"id"},
		"GET /api/violation-types":                nil,
		"GET /api/violation-count":                {"accounts", "from", "to", "resolved", "whitelisted"},
		"GET /api/violation-count/{account}":      {"account", "from", "to", "resolved", "whitelisted"},
		"GET /api/whitelisting-rules":             nil,
		"POST /api/whitelisting-rules":            nil,
		"GET /api/whitelisting-rules/{id}":        {"id"},
		"PUT /api/whitelisting-rules/{id}":        {"id"},
		"DELETE /api/whitelisting-rules/{id}":     {"id", "expiryDate"},
		"POST /api/whitelisting-rules/{id}/apply": {"id", "dry_run"},
		"GET /health":                             nil,
		"GET /metrics":                            nil,
		"GET /api/openapi.yaml":                   nil,
	}
	for key, params := range want {
		method, path, _ := strings.Cut(key, " ")
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("%s is not documented", key)
			continue
		}
		op := item.GetOperation(method)
		var names []string
		for _, p := range op.Parameters {
			names = append(names, p.Value.Name)
		}
		for _, p := range params {
			if !slices.Contains(names, p) {
				t.Errorf("%s: parameter %s is not documented (has %v)", key, p, names)
			}
		}
		if method == http.MethodPost && (path == "/api/violations" || path == "/api/whitelisting-rules") && op.RequestBody == nil {
			t.Errorf("%s: no request body documented", key)
		}
	}
	// The violation schema has the reference's fields and ours.
	op := doc.Paths.Value("/api/violations/{id}").Get
	s := op.Responses.Status(200).Value.Content.Get("application/json").Schema.Value
	for _, f := range []string{"id", "event_id", "account_id", "region", "instance_id", "meta_info", "comment", "rule_id",
		"application_id", "application_version_id", "violation_type", "created", "last_seen", "seen_count", "event_time"} {
		if _, ok := s.Properties[f]; !ok {
			t.Errorf("violation schema lacks %s", f)
		}
	}
	if f := s.Properties["created"].Value; f.Format != "date-time" {
		t.Errorf("created is documented as %v/%q, want a date-time string", f.Type, f.Format)
	}
}
