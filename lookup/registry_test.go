package lookup_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/lookup"
	"github.com/fullstop-audit/fullstop/lookup/kio"
	"github.com/fullstop-audit/fullstop/lookup/pierone"
	"github.com/fullstop-audit/fullstop/lookup/scm"
)

// registries starts a Kio and a Pier One speaking their JSON, and returns
// a resolver of their kinds with github.com's owners limited to
// zalando-stups.
func registries(t *testing.T) (*lookup.Resolver, *atomic.Int64, string) {
	t.Helper()
	var kioDown atomic.Int64 // requests to answer 503 before working again
	kioSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if kioDown.Load() > 0 {
			kioDown.Add(-1)
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/apps/fullstop":
			w.Write([]byte(`{"id":"fullstop","name":"Fullstop","team_id":"stups","scm_url":"https://github.com/zalando-stups/fullstop.git","publicly_accessible":false,"active":true}`))
		case "/apps/odd":
			w.Write([]byte(`{"id":"odd","scm_url":"svn://example.org/odd"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(kioSrv.Close)
	pierSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/teams/stups/artifacts/fullstop/tags":
			w.Write([]byte(`[{"name":"5","created":"2015-10-29T12:00:00Z","created_by":"hjacobs"},{"name":"6"}]`))
		case "/teams/stups/artifacts/fullstop/tags/5/scm-source":
			w.Write([]byte(`{"url":"git@github.com:zalando-stups/fullstop.git","revision":"cd76","author":"hjacobs","status":""}`))
		case "/teams/stups/artifacts/fullstop/tags/6/scm-source":
			w.Write([]byte(`{"url":"https://github.com/someone/fork","revision":"ab12","author":"x","status":"M pom.xml"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(pierSrv.Close)
	k, err := kio.New(kio.Config{BaseURL: kioSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pierone.New(pierone.Config{URLs: []string{pierSrv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := scm.ParseHosts("github.com=zalando-stups")
	if err != nil {
		t.Fatal(err)
	}
	kinds := append(lookup.KioKinds(k, hosts, time.Minute), lookup.PierOneKinds(p, hosts, time.Minute)...)
	return lookup.New(nil, kinds...), &kioDown, pierSrv.URL
}

func lookupAny(t *testing.T, r *lookup.Resolver, kind, key string) map[string]any {
	t.Helper()
	raw, err := r.Lookup(context.Background(), kind, []string{key})
	if err != nil {
		t.Fatalf("Lookup(%s, %s): %v", kind, key, err)
	}
	if raw == nil {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResolver_Kio(t *testing.T) {
	t.Parallel()
	r, down, _ := registries(t)
	app := lookupAny(t, r, lookup.KindKioApplication, "fullstop")
	if app["id"] != "fullstop" || app["repository"] != "https://github.com/zalando-stups/fullstop" || app["repository_error"] != nil {
		t.Errorf("fullstop = %v", app)
	}
	odd := lookupAny(t, r, lookup.KindKioApplication, "odd")
	if odd["repository"] != nil || !strings.Contains(odd["repository_error"].(string), "does not look like a valid git repository") {
		t.Errorf("odd = %v, want the SCM URL's error", odd)
	}
	if got := lookupAny(t, r, lookup.KindKioApplication, "nope"); got != nil {
		t.Errorf("unknown application = %v, want not found", got)
	}
	down.Store(1)
	if _, err := r.Lookup(context.Background(), lookup.KindKioApplication, []string{"other"}); err == nil {
		t.Error("Kio answering 503: no error")
	}
	if got := lookupAny(t, r, lookup.KindKioApplication, "other"); got != nil {
		t.Errorf("after the outage: %v, want not found (the 503 was not cached)", got)
	}
}

func TestResolver_PierOne(t *testing.T) {
	t.Parallel()
	r, _, pierURL := registries(t)
	// The registry of a source is the Pier One's host, here with its port.
	u, err := url.Parse(pierURL)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Host
	srcOf := func(tag string) string { return host + "/stups/fullstop:" + tag }

	if got := lookupAny(t, r, lookup.KindPierOneTag, srcOf("5")); got["team"] != "stups" || got["tag"] != "5" {
		t.Errorf("tag 5 = %v", got)
	}
	for _, src := range []string{srcOf("7"), "registry.example.org/stups/fullstop:5", "no-tag-here", host + "/stups/nothing:1"} {
		if got := lookupAny(t, r, lookup.KindPierOneTag, src); got != nil {
			t.Errorf("tag of %q = %v, want not found", src, got)
		}
	}
	clean := lookupAny(t, r, lookup.KindSCMSource, srcOf("5"))
	if clean["url"] != "git@github.com:zalando-stups/fullstop.git" || clean["repository"] != "https://github.com/zalando-stups/fullstop" ||
		clean["owner_allowed"] != true || clean["allowed_owners"] != "zalando-stups" || clean["status"] != "" {
		t.Errorf("scm-source of 5 = %v", clean)
	}
	if y := clean["yaml"].(string); !strings.Contains(y, "author: hjacobs\n") || !strings.Contains(y, "revision: cd76\n") {
		t.Errorf("yaml = %q", y)
	}
	if p := clean["prefixed"].(map[string]any); p["scm_source_revision"] != "cd76" || len(p) != 4 {
		t.Errorf("prefixed = %v", p)
	}
	fork := lookupAny(t, r, lookup.KindSCMSource, srcOf("6"))
	if fork["owner_allowed"] != false || fork["repository_owner"] != "someone" || fork["status"] != "M pom.xml" {
		t.Errorf("scm-source of 6 = %v", fork)
	}
	if got := lookupAny(t, r, lookup.KindSCMSource, srcOf("7")); got != nil {
		t.Errorf("scm-source of an unknown tag = %v, want not found", got)
	}
}
