package pierone_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fullstop-audit/fullstop/lookup/pierone"
)

const tagList = `[{"name":"1.0","created":"2016-01-01T10:00:00.000Z","created_by":"robot"},
{"name":"1.1-SNAPSHOT","created":"2016-01-02T10:00:00.000Z","created_by":"jdoe"}]`

func TestTagExists(t *testing.T) {
	alpha := newRegistry(t, map[string]reply{
		"/teams/stups/artifacts/kio/tags":         {status: 200, body: tagList},
		"/teams/stups/artifacts/empty/tags":       {status: 200, body: `[]`},
		"/teams/stups/artifacts/null/tags":        {status: 200, body: `null`},
		"/teams/stups/artifacts/broken/tags":      {status: 200, body: `{"name":"1.0"}`},
		"/teams/stups/artifacts/html/tags":        {status: 200, body: `<html>`},
		"/teams/stups/artifacts/fail/tags":        {status: 500, body: secret},
		"/teams/stups/artifacts/down/tags":        {status: 503},
		"/teams/stups/artifacts/slow/tags":        {status: 200, body: tagList, delay: 5 * time.Second},
		"/teams/a%2Fb/artifacts/c%20d%3F/tags":    {status: 200, body: `[{"name":"x"}]`},
		"/teams/stups/artifacts/only-beta/tags":   {status: 200, body: `[{"name":"9"}]`},
		"/teams/stups/artifacts/first-only/tags":  {status: 200, body: `[{"name":"A"}]`},
		"/teams/stups/artifacts/second-only/tags": {status: 404},
	})
	beta := newRegistry(t, map[string]reply{
		"/base/teams/stups/artifacts/only-beta/tags":   {status: 200, body: `[{"name":"1.0"}]`},
		"/base/teams/stups/artifacts/second-only/tags": {status: 200, body: `[{"name":"B"}]`},
	})
	hc := hostClient(t, map[string]*registry{"alpha.test": alpha, "beta.test": beta})
	alphaURL := "http://alpha.test"
	betaURL := "http://beta.test:8443/base/"

	tests := []struct {
		name                          string
		token                         oauth2.TokenSource
		registry, team, artifact, tag string
		timeout                       time.Duration // of the context; 0 means none
		want                          bool
		wantErr                       string // a substring; "" means no error
		wantAlpha, wantBeta           string // the escaped path each is asked; "" means none
		wantAuth                      string
	}{
		{name: "present", registry: "alpha.test", team: "stups", artifact: "kio", tag: "1.0", want: true, wantAlpha: "/teams/stups/artifacts/kio/tags"},
		{name: "present, second", registry: "alpha.test", team: "stups", artifact: "kio", tag: "1.1-SNAPSHOT", want: true, wantAlpha: "/teams/stups/artifacts/kio/tags"},
		{name: "absent", registry: "alpha.test", team: "stups", artifact: "kio", tag: "2.0", wantAlpha: "/teams/stups/artifacts/kio/tags"},
		{name: "case matters", registry: "alpha.test", team: "stups", artifact: "kio", tag: "1.1-snapshot", wantAlpha: "/teams/stups/artifacts/kio/tags"},
		{name: "empty list", registry: "alpha.test", team: "stups", artifact: "empty", tag: "1.0", wantAlpha: "/teams/stups/artifacts/empty/tags"},
		{name: "null list", registry: "alpha.test", team: "stups", artifact: "null", tag: "1.0", wantAlpha: "/teams/stups/artifacts/null/tags"},
		{name: "404", registry: "alpha.test", team: "stups", artifact: "nope", tag: "1.0", wantAlpha: "/teams/stups/artifacts/nope/tags"},
		{name: "chosen by host: beta", registry: "beta.test", team: "stups", artifact: "only-beta", tag: "1.0", want: true, wantBeta: "/base/teams/stups/artifacts/only-beta/tags"},
		{name: "chosen by host: alpha", registry: "alpha.test", team: "stups", artifact: "only-beta", tag: "1.0", wantAlpha: "/teams/stups/artifacts/only-beta/tags"},
		{name: "first registry", registry: "alpha.test", team: "stups", artifact: "first-only", tag: "A", want: true, wantAlpha: "/teams/stups/artifacts/first-only/tags"},
		{name: "second registry", registry: "beta.test", team: "stups", artifact: "second-only", tag: "B", want: true, wantBeta: "/base/teams/stups/artifacts/second-only/tags"},
		{name: "registry with a port", registry: "beta.test:443", team: "stups", artifact: "only-beta", tag: "1.0", want: true, wantBeta: "/base/teams/stups/artifacts/only-beta/tags"},
		{name: "registry in upper case", registry: "ALPHA.test", team: "stups", artifact: "kio", tag: "1.0", want: true, wantAlpha: "/teams/stups/artifacts/kio/tags"},
		{name: "unknown registry", registry: "gamma.test", team: "stups", artifact: "kio", tag: "1.0"},
		{name: "empty tag", registry: "alpha.test", team: "stups", artifact: "kio", tag: ""},
		{name: "dot-dot team", registry: "alpha.test", team: "..", artifact: "kio", tag: "1.0"},
		{name: "escaping", registry: "alpha.test", team: "a/b", artifact: "c d?", tag: "x", want: true, wantAlpha: "/teams/a%2Fb/artifacts/c%20d%3F/tags"},
		{name: "500", registry: "alpha.test", team: "stups", artifact: "fail", tag: "1.0", wantErr: "pierone: GET http://alpha.test/teams/stups/artifacts/fail/tags: HTTP 500", wantAlpha: "/teams/stups/artifacts/fail/tags"},
		{name: "503", registry: "alpha.test", team: "stups", artifact: "down", tag: "1.0", wantErr: "HTTP 503 Service Unavailable", wantAlpha: "/teams/stups/artifacts/down/tags"},
		{name: "not a list", registry: "alpha.test", team: "stups", artifact: "broken", tag: "1.0", wantErr: "undecodable JSON", wantAlpha: "/teams/stups/artifacts/broken/tags"},
		{name: "not JSON", registry: "alpha.test", team: "stups", artifact: "html", tag: "1.0", wantErr: "undecodable JSON", wantAlpha: "/teams/stups/artifacts/html/tags"},
		{name: "timeout", registry: "alpha.test", team: "stups", artifact: "slow", tag: "1.0", timeout: 50 * time.Millisecond, wantErr: "context deadline exceeded", wantAlpha: "/teams/stups/artifacts/slow/tags"},
		{name: "token sent", token: staticToken, registry: "beta.test", team: "stups", artifact: "only-beta", tag: "1.0", want: true, wantBeta: "/base/teams/stups/artifacts/only-beta/tags", wantAuth: "Bearer " + secret},
		{name: "token not leaked", token: staticToken, registry: "alpha.test", team: "stups", artifact: "fail", tag: "1.0", wantErr: "HTTP 500", wantAlpha: "/teams/stups/artifacts/fail/tags", wantAuth: "Bearer " + secret},
		{name: "token error", token: errTokenSource{}, registry: "alpha.test", team: "stups", artifact: "kio", tag: "1.0", wantErr: "no service token: credentials unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := pierone.New(pierone.Config{URLs: []string{alphaURL, betaURL}, Token: tt.token, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			alphaBefore, _ := alpha.requests()
			betaBefore, _ := beta.requests()
			got, err := c.TagExists(ctx, tt.registry, tt.team, tt.artifact, tt.tag)
			checkErr(t, err, tt.wantErr)
			if got != tt.want {
				t.Errorf("TagExists = %v; want %v", got, tt.want)
			}
			checkRequest(t, "alpha", alpha, len(alphaBefore), tt.wantAlpha, tt.wantAuth)
			checkRequest(t, "beta", beta, len(betaBefore), tt.wantBeta, tt.wantAuth)
		})
	}
}

func TestTagExistsClientTimeout(t *testing.T) {
	r := newRegistry(t, map[string]reply{"/teams/t/artifacts/a/tags": {status: 200, body: `[]`, delay: 5 * time.Second}})
	hc := hostClient(t, map[string]*registry{"slow.test": r})
	hc.Timeout = 50 * time.Millisecond
	c, err := pierone.New(pierone.Config{URLs: []string{"http://slow.test"}, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := c.TagExists(context.Background(), "slow.test", "t", "a", "1")
	if ok || err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("= %v, %v; want a timeout error", ok, err)
	}
}

func TestTagExistsStatusError(t *testing.T) {
	r := newRegistry(t, map[string]reply{"/teams/t/artifacts/a/tags": {status: 403}})
	c, err := pierone.New(pierone.Config{URLs: []string{r.URL}, HTTPClient: r.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.TagExists(context.Background(), "127.0.0.1", "t", "a", "1")
	var se *pierone.StatusError
	if !errors.As(err, &se) || se.StatusCode != 403 || se.URL != r.URL+"/teams/t/artifacts/a/tags" {
		t.Fatalf("error %v (%#v); want a StatusError 403", err, se)
	}
}

// checkErr fails t unless err contains want ("" means no error), and
// whenever err contains the token.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("error %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v; want one containing %q", err, want)
	}
	if !strings.HasPrefix(err.Error(), "pierone: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the token", err)
	}
}

// checkRequest fails t unless r got exactly one request after the first
// before, to path with Authorization auth, or none when path is "".
func checkRequest(t *testing.T, name string, r *registry, before int, path, auth string) {
	t.Helper()
	paths, auths := r.requests()
	paths, auths = paths[before:], auths[before:]
	if path == "" {
		if len(paths) != 0 {
			t.Errorf("%s asked %v; want nothing", name, paths)
		}
		return
	}
	if !slices.Equal(paths, []string{path}) {
		t.Errorf("%s asked %v; want %q", name, paths, path)
		return
	}
	if auths[0] != auth {
		t.Errorf("%s got Authorization %q; want %q", name, auths[0], auth)
	}
}
