package kio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fullstop-audit/fullstop/lookup/kio"
)

const secret = "s3cr3t-token"

// kioServer is a Kio answering every request with handler and recording
// the escaped path and Authorization header of each.
type kioServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
	auths []string
}

func newKioServer(t *testing.T, handler http.HandlerFunc) *kioServer {
	t.Helper()
	s := &kioServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.EscapedPath())
		s.auths = append(s.auths, r.Header.Get("Authorization"))
		s.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *kioServer) requests() (paths, auths []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...), append([]string(nil), s.auths...)
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

const fullApp = `{"id":"kio","name":"Kio","team_id":"stups","scm_url":"https://github.com/zalando-stups/kio.git",
"service_url":"https://kio.example.org","specification_url":"https://github.com/zalando-stups/kio/api",
"publicly_accessible":true,"active":true,"description":"ignored","created":"2016-01-01T00:00:00Z"}`

type errTokenSource struct{}

func (errTokenSource) Token() (*oauth2.Token, error) {
	return nil, errors.New("credentials unreadable")
}

func TestApplication(t *testing.T) {
	big := `{"id":"kio","name":"` + strings.Repeat("x", kio.MaxBodyBytes) + `"}`
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		id        string
		token     oauth2.TokenSource
		wantApp   kio.Application
		wantFound bool
		wantErr   string // a substring of the error; "" means no error
		wantPath  string // the escaped path asked; "" means no request
		wantAuth  string
	}{
		{
			name: "found, all fields", handler: answer(200, fullApp), id: "kio",
			wantApp: kio.Application{ID: "kio", Name: "Kio", TeamID: "stups",
				ScmURL: "https://github.com/zalando-stups/kio.git", ServiceURL: "https://kio.example.org",
				SpecificationURL: "https://github.com/zalando-stups/kio/api", PubliclyAccessible: true, Active: true},
			wantFound: true, wantPath: "/apps/kio",
		},
		{
			name: "null fields", handler: answer(200, `{"id":"a","scm_url":null,"active":null}`), id: "a",
			wantApp: kio.Application{ID: "a"}, wantFound: true, wantPath: "/apps/a",
		},
		{name: "404", handler: answer(404, `{"message":"not found"}`), id: "nope", wantPath: "/apps/nope"},
		{name: "500", handler: answer(500, `{}`), id: "a", wantErr: "/apps/a: HTTP 500", wantPath: "/apps/a"},
		{name: "503", handler: answer(503, ``), id: "a", wantErr: "HTTP 503 Service Unavailable", wantPath: "/apps/a"},
		{name: "400", handler: answer(400, ``), id: "a", wantErr: "HTTP 400", wantPath: "/apps/a"},
		{name: "non-JSON body", handler: answer(200, `<html>oops</html>`), id: "a", wantErr: "undecodable JSON", wantPath: "/apps/a"},
		{name: "empty body", handler: answer(200, ``), id: "a", wantErr: "undecodable JSON", wantPath: "/apps/a"},
		{name: "wrong JSON type", handler: answer(200, `{"active":"yes"}`), id: "a", wantErr: "undecodable JSON", wantPath: "/apps/a"},
		{name: "body over 1 MiB", handler: answer(200, big), id: "a", wantErr: "larger than 1048576 bytes", wantPath: "/apps/a"},
		{
			name: "id needing escaping", handler: answer(200, `{"id":"a/b c"}`), id: "a/b c?x#y%",
			wantApp: kio.Application{ID: "a/b c"}, wantFound: true, wantPath: "/apps/a%2Fb%20c%3Fx%23y%25",
		},
		{name: "empty id, no request", handler: answer(200, fullApp), id: ""},
		{name: "dot-dot id, no request", handler: answer(200, fullApp), id: ".."},
		{
			name: "bearer token sent", handler: answer(200, `{"id":"a"}`), id: "a",
			token:   oauth2.StaticTokenSource(&oauth2.Token{AccessToken: secret}),
			wantApp: kio.Application{ID: "a"}, wantFound: true, wantPath: "/apps/a", wantAuth: "Bearer " + secret,
		},
		{
			name: "token not leaked on error", handler: answer(500, secret), id: "a",
			token:   oauth2.StaticTokenSource(&oauth2.Token{AccessToken: secret}),
			wantErr: "HTTP 500", wantPath: "/apps/a", wantAuth: "Bearer " + secret,
		},
		{name: "token error", handler: answer(200, fullApp), id: "a", token: errTokenSource{}, wantErr: "no service token: credentials unreadable"},
		{name: "empty token", handler: answer(200, fullApp), id: "a", token: oauth2.StaticTokenSource(&oauth2.Token{}), wantErr: "service token is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newKioServer(t, tt.handler)
			c, err := kio.New(kio.Config{BaseURL: s.URL + "/", Token: tt.token, HTTPClient: s.Client()})
			if err != nil {
				t.Fatal(err)
			}
			app, found, err := c.Application(context.Background(), tt.id)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q contains the token", err)
				}
				if !strings.HasPrefix(err.Error(), "kio: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
			}
			if app != tt.wantApp || found != tt.wantFound {
				t.Errorf("= %+v, %v; want %+v, %v", app, found, tt.wantApp, tt.wantFound)
			}
			paths, auths := s.requests()
			switch {
			case tt.wantPath == "" && len(paths) != 0:
				t.Errorf("requests %v; want none", paths)
			case tt.wantPath != "" && (len(paths) != 1 || paths[0] != tt.wantPath):
				t.Errorf("requests %v; want one of %q", paths, tt.wantPath)
			case tt.wantPath != "" && auths[0] != tt.wantAuth:
				t.Errorf("Authorization %q; want %q", auths[0], tt.wantAuth)
			}
		})
	}
}

func TestApplicationStatusError(t *testing.T) {
	s := newKioServer(t, answer(502, ``))
	c, err := kio.New(kio.Config{BaseURL: s.URL, HTTPClient: s.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Application(context.Background(), "a")
	var se *kio.StatusError
	if !errors.As(err, &se) || se.StatusCode != 502 || se.Method != "GET" || se.URL != s.URL+"/apps/a" {
		t.Fatalf("error %v (%#v); want a StatusError of GET %s/apps/a, 502", err, se, s.URL)
	}
}

// slow answers after d, or when the request is given up.
func slow(d time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			fmt.Fprint(w, `{"id":"a"}`)
		case <-r.Context().Done():
		}
	}
}

func TestApplicationTimeouts(t *testing.T) {
	s := newKioServer(t, slow(5*time.Second))
	t.Run("context deadline", func(t *testing.T) {
		c, err := kio.New(kio.Config{BaseURL: s.URL, HTTPClient: s.Client()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, found, err := c.Application(ctx, "a")
		if !errors.Is(err, context.DeadlineExceeded) || found {
			t.Fatalf("= %v, %v; want a deadline error", found, err)
		}
		if !strings.Contains(err.Error(), "GET "+s.URL+"/apps/a") {
			t.Errorf("error %q does not name the request", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("client timeout", func(t *testing.T) {
		hc := s.Client()
		hc.Timeout = 50 * time.Millisecond
		c, err := kio.New(kio.Config{BaseURL: s.URL, HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		_, found, err := c.Application(context.Background(), "a")
		if err == nil || found || !strings.Contains(err.Error(), "Timeout") {
			t.Fatalf("= %v, %v; want a timeout error", found, err)
		}
	})
	t.Run("canceled context", func(t *testing.T) {
		c, err := kio.New(kio.Config{BaseURL: s.URL, HTTPClient: s.Client()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := c.Application(ctx, "a"); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v; want context.Canceled", err)
		}
	})
}

func TestApplicationTransportError(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL
	s.Close()
	c, err := kio.New(kio.Config{BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, found, err := c.Application(context.Background(), "a")
	if err == nil || found || !strings.HasPrefix(err.Error(), "kio: GET "+url+"/apps/a: ") {
		t.Fatalf("= %v, %v; want a transport error naming the request", found, err)
	}
}
