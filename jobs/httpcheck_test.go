package jobs_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/jobs"
)

func hostPort(t *testing.T, raw string) (string, int) {
	t.Helper()
	u, _ := url.Parse(raw)
	h, p, _ := net.SplitHostPort(u.Host)
	n, _ := strconv.Atoi(p)
	return h, n
}

// openRootPort starts a local server whose root answers 200 to anyone
// and returns its port on 127.0.0.1.
func openRootPort(t *testing.T) int {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	_, port := hostPort(t, srv.URL)
	return port
}

func TestCheckRoot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		open    bool
		message string
	}{
		{"200", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("User-Agent") != jobs.UserAgent || r.URL.Path != "/" {
				w.WriteHeader(http.StatusTeapot)
				return
			}
		}, true, "returned status code 200, which means it is unsecured"},
		{"401", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }, false, ""},
		{"403", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) }, false, ""},
		{"404", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }, true, "returned status code 404"},
		{"503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, false, ""},
		{"redirect to https", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://example.org/")
			w.WriteHeader(301)
		}, false, ""},
		{"redirect to http", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "http://example.org/login")
			w.WriteHeader(302)
		}, true, "redirects (status 302) to location with unsafe protocol (http://example.org/login)"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		}, false, ""},
	}
	client := jobs.NewRootCheckClient()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			host, port := hostPort(t, srv.URL)
			open, msg := jobs.CheckRoot(context.Background(), client, host, port)
			if open != tt.open || !strings.Contains(msg, tt.message) {
				t.Errorf("CheckRoot = %v, %q; want %v, %q", open, msg, tt.open, tt.message)
			}
		})
	}
	// Nothing listening: not open.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	host, port := hostPort(t, "http://"+l.Addr().String())
	l.Close()
	if open, _ := jobs.CheckRoot(context.Background(), client, host, port); open {
		t.Error("a refused connection is open")
	}
}
