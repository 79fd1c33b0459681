package httpjson

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestGet(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Accept") != "application/json" {
				http.Error(w, "headers", http.StatusBadRequest)
				return
			}
			w.Write([]byte(`{"a":"b"}`))
		case "/big":
			w.Write([]byte(`"` + strings.Repeat("x", MaxBodyBytes) + `"`))
		case "/bad":
			w.Write([]byte(`not json`))
		case "/down":
			http.Error(w, "down", http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	base, err := ParseBaseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Name: "svc", Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"})}
	var v map[string]string
	if found, err := c.Get(context.Background(), JoinPath(base, "ok"), &v); !found || err != nil || v["a"] != "b" {
		t.Errorf("ok: %v %v %v", found, err, v)
	}
	if found, err := c.Get(context.Background(), JoinPath(base, "nope"), &v); found || err != nil {
		t.Errorf("404: %v %v, want not found and no error", found, err)
	}
	var se *StatusError
	if _, err := c.Get(context.Background(), JoinPath(base, "down"), &v); !errors.As(err, &se) || se.StatusCode != 503 || !strings.HasPrefix(err.Error(), "svc: ") {
		t.Errorf("503: %v", err)
	}
	var s string
	for _, p := range []string{"big", "bad"} {
		if _, err := c.Get(context.Background(), JoinPath(base, p), &s); err == nil || strings.Contains(err.Error(), "tok") {
			t.Errorf("%s: error %v, want one that names no token", p, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, JoinPath(base, "ok"), &v); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestParseBaseURLAndPaths(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "ftp://x", "http://", "http://h/?q=1", "http://h/#f"} {
		if _, err := ParseBaseURL(bad); err == nil {
			t.Errorf("ParseBaseURL(%q): no error", bad)
		}
	}
	base, err := ParseBaseURL("https://user:pw@h.example.org/base/")
	if err != nil {
		t.Fatal(err)
	}
	if got := JoinPath(base, "apps", "a/b c?%").String(); got != "https://user:pw@h.example.org/base/apps/a%2Fb%20c%3F%25" {
		t.Errorf("JoinPath = %q", got)
	}
	if !ValidSegments("a", "b") || ValidSegments("a", "..") || ValidSegments("") || ValidSegments(".") {
		t.Error("ValidSegments")
	}
	if u, _ := url.Parse("http://h"); JoinPath(u).String() != "http://h" {
		t.Error("JoinPath without segments")
	}
}
