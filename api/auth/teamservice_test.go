package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// teamServer is a team service with fixed memberships, recording the
// requests it gets.
type teamServer struct {
	*httptest.Server
	calls atomic.Int64

	mu    sync.Mutex
	auths []string // the Authorization header of each request
}

// newTeamServer starts a team service; accounts maps "uid/role" to the
// JSON answered for the accounts, teams maps a uid to the JSON answered
// for the teams; a uid it does not know gets a 404.
func newTeamServer(t *testing.T, accounts, teams map[string]string) *teamServer {
	t.Helper()
	s := &teamServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		s.mu.Lock()
		s.auths = append(s.auths, r.Header.Get("Authorization"))
		s.mu.Unlock()
		q := r.URL.Query()
		var body string
		var ok bool
		switch r.URL.Path {
		case "/api/accounts/aws":
			body, ok = accounts[q.Get("member")+"/"+q.Get("role")]
		case "/api/teams":
			body, ok = teams[q.Get("member")]
		}
		if !ok || r.Method != http.MethodGet {
			http.Error(w, `{"message":"not found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

// authorizations returns the Authorization headers received so far.
func (s *teamServer) authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.auths)
}

// newTestTeamService returns a TeamService for s with cfg's other
// settings.
func newTestTeamService(t *testing.T, s *teamServer, cfg TeamServiceConfig) *TeamService {
	t.Helper()
	cfg.URL = s.URL
	ts, err := NewTeamService(cfg)
	if err != nil {
		t.Fatalf("NewTeamService: %v", err)
	}
	return ts
}

// member is a uid that needs escaping in a query.
const member = "j doe+x@example.org&role=Admin"

var memberAccounts = map[string]string{
	member + "/PowerUser": `[{"id":"123456789012","name":"team-prod","type":"aws","owner":"stups"},` +
		`{"id":"210987654321","name":"team-test","type":"aws","owner":"stups"}]`,
	member + "/Deployer": `[{"id":"210987654321","name":"team-test"},{"id":" 000000000042 "},{"id":""}]`,
}

var memberTeams = map[string]string{
	member: `[{"id":" team-b ","name":"Team B"},{"id":""},{"id":"   "},{"id":"team-a","name":"Team A"}]`,
}

func TestTeamServiceAccountsUnion(t *testing.T) {
	s := newTeamServer(t, memberAccounts, nil)
	ts := newTestTeamService(t, s, TeamServiceConfig{})
	got, err := ts.Accounts(context.Background(), member)
	if err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	want := []string{"000000000042", "123456789012", "210987654321"}
	if !slices.Equal(got, want) {
		t.Errorf("Accounts = %q, want %q", got, want)
	}
	if n := s.calls.Load(); n != 2 {
		t.Errorf("the team service got %d calls, want one per role", n)
	}
}

func TestTeamServiceConfiguredRoles(t *testing.T) {
	s := newTeamServer(t, memberAccounts, nil)
	ts := newTestTeamService(t, s, TeamServiceConfig{Roles: []string{" Deployer ", ""}})
	got, err := ts.Accounts(context.Background(), member)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"000000000042", "210987654321"}; !slices.Equal(got, want) {
		t.Errorf("Accounts = %q, want %q", got, want)
	}
}

func TestTeamServiceTeamsTrimmed(t *testing.T) {
	s := newTeamServer(t, nil, memberTeams)
	got, err := newTestTeamService(t, s, TeamServiceConfig{}).Teams(context.Background(), member)
	if err != nil {
		t.Fatalf("Teams: %v", err)
	}
	if want := []string{"team-a", "team-b"}; !slices.Equal(got, want) {
		t.Errorf("Teams = %q, want %q", got, want)
	}
}

func TestTeamServiceNotFoundIsEmpty(t *testing.T) {
	s := newTeamServer(t, nil, nil)
	ts := newTestTeamService(t, s, TeamServiceConfig{})
	accounts, err := ts.Accounts(context.Background(), "nobody")
	if err != nil || len(accounts) != 0 {
		t.Errorf("Accounts of an unknown uid = %q, %v; want none", accounts, err)
	}
	teams, err := ts.Teams(context.Background(), "nobody")
	if err != nil || len(teams) != 0 {
		t.Errorf("Teams of an unknown uid = %q, %v; want none", teams, err)
	}
}

func TestTeamServiceBlankUID(t *testing.T) {
	s := newTeamServer(t, memberAccounts, memberTeams)
	ts := newTestTeamService(t, s, TeamServiceConfig{})
	accounts, err := ts.Accounts(context.Background(), " ")
	if err != nil || len(accounts) != 0 {
		t.Errorf("Accounts of a blank uid = %q, %v", accounts, err)
	}
	teams, err := ts.Teams(context.Background(), "")
	if err != nil || len(teams) != 0 {
		t.Errorf("Teams of a blank uid = %q, %v", teams, err)
	}
	if n := s.calls.Load(); n != 0 {
		t.Errorf("the team service got %d calls for blank uids", n)
	}
}

func TestTeamServiceUnavailable(t *testing.T) {
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "oops", code) }
	}
	for name, tc := range map[string]struct {
		handler http.HandlerFunc
		says    string
	}{
		"500":      {status(http.StatusInternalServerError), "HTTP 500"},
		"503":      {status(http.StatusServiceUnavailable), "HTTP 503"},
		"401":      {status(http.StatusUnauthorized), "HTTP 401"},
		"bad JSON": {func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `[{"id":`) }, "JSON"},
		"object":   {func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"id":"x"}`) }, "JSON"},
		"slow": {func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, "did not answer"},
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int64
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				tc.handler(w, r)
			}))
			t.Cleanup(s.Close)
			ts, err := NewTeamService(TeamServiceConfig{URL: s.URL, Client: &http.Client{Timeout: 100 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				_, err = ts.Accounts(context.Background(), "jdoe")
				wantTeamServiceErr(t, err, tc.says)
				_, err = ts.Teams(context.Background(), "jdoe")
				wantTeamServiceErr(t, err, tc.says)
			}
			if n := calls.Load(); n != 4 {
				t.Errorf("the team service got %d calls for 4 failing questions, want 4 (errors are not cached)", n)
			}
		})
	}
}

// wantTeamServiceErr fails unless err wraps ErrUnavailable, names the team
// service and says says.
func wantTeamServiceErr(t *testing.T, err error, says string) {
	t.Helper()
	wantErr(t, err, ErrUnavailable, "")
	if !strings.Contains(err.Error(), "team service") || !strings.Contains(err.Error(), says) {
		t.Errorf("error %q does not name the team service and say %q", err, says)
	}
}

func TestTeamServiceDown(t *testing.T) {
	s := newTeamServer(t, memberAccounts, memberTeams)
	ts := newTestTeamService(t, s, TeamServiceConfig{})
	s.Close()
	_, err := ts.Accounts(context.Background(), member)
	wantTeamServiceErr(t, err, "did not answer")
	_, err = ts.MayEditWhitelist(context.Background(), Principal{UID: member}, []string{"team-a"})
	wantTeamServiceErr(t, err, "did not answer")
}

func TestTeamServiceCache(t *testing.T) {
	s := newTeamServer(t, memberAccounts, memberTeams)
	ts := newTestTeamService(t, s, TeamServiceConfig{CacheTTL: 200 * time.Millisecond})
	ctx := context.Background()
	for range 3 {
		if _, err := ts.Accounts(ctx, member); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.Teams(ctx, member); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.calls.Load(); n != 3 {
		t.Fatalf("the team service got %d calls, want 3 (two roles, one team question)", n)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := ts.Teams(ctx, member); err != nil {
		t.Fatal(err)
	}
	if n := s.calls.Load(); n != 4 {
		t.Errorf("the team service got %d calls after the TTL, want 4", n)
	}
}

func TestTeamServiceCacheReturnsCopies(t *testing.T) {
	s := newTeamServer(t, nil, memberTeams)
	ts := newTestTeamService(t, s, TeamServiceConfig{})
	teams, err := ts.Teams(context.Background(), member)
	if err != nil {
		t.Fatal(err)
	}
	teams[0] = "tampered"
	if teams, _ = ts.Teams(context.Background(), member); teams[0] != "team-a" {
		t.Errorf("Teams after changing a returned list = %q", teams)
	}
}

func TestTeamServiceCacheBounded(t *testing.T) {
	s := newTeamServer(t, nil, nil)
	ts := newTestTeamService(t, s, TeamServiceConfig{CacheSize: 2})
	for i := range 10 {
		if _, err := ts.Teams(context.Background(), fmt.Sprint("user", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := ts.teams.len(); n > 2 {
		t.Errorf("the cache holds %d entries, want at most 2", n)
	}
}

func TestTeamServiceSendsServiceToken(t *testing.T) {
	s := newTeamServer(t, memberAccounts, memberTeams)
	ts := newTestTeamService(t, s, TeamServiceConfig{Token: StaticToken(" svc-token-1 \n")})
	if _, err := ts.Accounts(context.Background(), member); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Teams(context.Background(), member); err != nil {
		t.Fatal(err)
	}
	want := []string{"Bearer svc-token-1", "Bearer svc-token-1", "Bearer svc-token-1"}
	if got := s.authorizations(); !slices.Equal(got, want) {
		t.Errorf("Authorization headers %q, want %q", got, want)
	}
}

func TestTeamServiceWithoutToken(t *testing.T) {
	s := newTeamServer(t, nil, memberTeams)
	if _, err := newTestTeamService(t, s, TeamServiceConfig{}).Teams(context.Background(), member); err != nil {
		t.Fatal(err)
	}
	if got := s.authorizations(); !slices.Equal(got, []string{""}) {
		t.Errorf("Authorization headers %q, want none", got)
	}
}

func TestTeamServiceTokenFailure(t *testing.T) {
	s := newTeamServer(t, nil, memberTeams)
	ts := newTestTeamService(t, s, TeamServiceConfig{Token: StaticToken("  ")})
	_, err := ts.Teams(context.Background(), member)
	wantTeamServiceErr(t, err, "service token")
	if n := s.calls.Load(); n != 0 {
		t.Errorf("the team service got %d calls without a token", n)
	}
}

func TestTeamServiceFileToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	writeFile(t, path, "file-token-1\n")
	s := newTeamServer(t, nil, memberTeams)
	ts := newTestTeamService(t, s, TeamServiceConfig{Token: FileToken(path), CacheTTL: time.Nanosecond})
	if _, err := ts.Teams(context.Background(), member); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "file-token-22\n")
	if _, err := ts.Teams(context.Background(), member); err != nil {
		t.Fatal(err)
	}
	want := []string{"Bearer file-token-1", "Bearer file-token-22"}
	if got := s.authorizations(); !slices.Equal(got, want) {
		t.Errorf("Authorization headers %q, want %q", got, want)
	}
}

// writeFile writes content to path.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestMayResolve(t *testing.T) {
	s := newTeamServer(t, memberAccounts, nil)
	ts := newTestTeamService(t, s, TeamServiceConfig{})
	ctx := context.Background()
	for _, tc := range []struct {
		p       Principal
		account string
		want    bool
	}{
		{Principal{UID: member}, "123456789012", true},
		{Principal{UID: member}, " 000000000042 ", true},
		{Principal{UID: member}, "999999999999", false},
		{Principal{UID: member}, "", false},
		{Principal{UID: "stranger"}, "123456789012", false},
		{Principal{UID: "local", All: true}, "999999999999", true},
	} {
		got, err := ts.MayResolve(ctx, tc.p, tc.account)
		if err != nil || got != tc.want {
			t.Errorf("MayResolve(%q, %q) = %v, %v; want %v", tc.p.UID, tc.account, got, err, tc.want)
		}
	}
}

func TestMayEditWhitelist(t *testing.T) {
	s := newTeamServer(t, nil, memberTeams)
	ts := newTestTeamService(t, s, TeamServiceConfig{})
	ctx := context.Background()
	for _, tc := range []struct {
		p       Principal
		allowed []string
		want    bool
	}{
		{Principal{UID: member}, []string{" team-b "}, true},
		{Principal{UID: member}, []string{"team-c", "team-a"}, true},
		{Principal{UID: member}, []string{"team-c"}, false},
		{Principal{UID: member}, []string{"Team-A"}, false},
		{Principal{UID: member}, nil, false},
		{Principal{UID: member}, []string{" "}, false},
		{Principal{UID: "stranger"}, []string{"team-a"}, false},
		{Principal{UID: "local", All: true}, nil, true},
	} {
		got, err := ts.MayEditWhitelist(ctx, tc.p, tc.allowed)
		if err != nil || got != tc.want {
			t.Errorf("MayEditWhitelist(%q, %q) = %v, %v; want %v", tc.p.UID, tc.allowed, got, err, tc.want)
		}
	}
}

func TestNewTeamServiceRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]TeamServiceConfig{
		"no URL":       {},
		"no host":      {URL: "http://"},
		"blank roles":  {URL: "https://teams.example.org", Roles: []string{" ", ""}},
		"negative TTL": {URL: "https://teams.example.org", CacheTTL: -time.Second},
	} {
		if _, err := NewTeamService(cfg); err == nil {
			t.Errorf("%s: NewTeamService accepted %+v", name, cfg)
		}
	}
}

func TestTeamServiceBaseURLWithPath(t *testing.T) {
	var path string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		fmt.Fprint(w, `[{"id":"team-a"}]`)
	}))
	t.Cleanup(s.Close)
	ts, err := NewTeamService(TeamServiceConfig{URL: s.URL + "/teams/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Teams(context.Background(), "jdoe"); err != nil {
		t.Fatal(err)
	}
	if path != "/teams/api/teams" {
		t.Errorf("request path %q, want /teams/api/teams", path)
	}
}
