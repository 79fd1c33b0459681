package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestStaticToken(t *testing.T) {
	tok, err := StaticToken(" svc-token \n").Token()
	if err != nil || tok.AccessToken != "svc-token" || tok.Type() != "Bearer" {
		t.Errorf("Token = %+v, %v", tok, err)
	}
	if _, err := StaticToken("  ").Token(); err == nil {
		t.Error("an empty static token is no error")
	}
}

// tokenOf returns the access token of src, failing the test on an error.
func tokenOf(t *testing.T, src oauth2.TokenSource) string {
	t.Helper()
	tok, err := src.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok.AccessToken
}

func TestFileTokenRereadsChangedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	writeFile(t, path, "  token-one\n")
	src := FileToken(path)
	if got := tokenOf(t, src); got != "token-one" {
		t.Fatalf("token %q, want token-one", got)
	}
	// Another size.
	writeFile(t, path, "token-two-longer\n")
	if got := tokenOf(t, src); got != "token-two-longer" {
		t.Fatalf("token %q after the file grew, want token-two-longer", got)
	}
	// The same size, another modification time.
	writeFile(t, path, "token-TWO-longer\n")
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if got := tokenOf(t, src); got != "token-TWO-longer" {
		t.Fatalf("token %q after the file changed, want token-TWO-longer", got)
	}
}

func TestFileTokenRotatedSymlink(t *testing.T) {
	// Kubernetes swaps a symlink to a new directory when a secret rotates.
	dir := t.TempDir()
	for _, v := range []string{"v1", "v2"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, v, "token"), "token-"+v+"-"+v)
	}
	link := filepath.Join(dir, "token")
	if err := os.Symlink(filepath.Join(dir, "v1", "token"), link); err != nil {
		t.Fatalf("symlink: %v", err)
	}
	src := FileToken(link)
	if got := tokenOf(t, src); got != "token-v1-v1" {
		t.Fatalf("token %q", got)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(dir, "v2", "token"), later, later); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "token.tmp")
	if err := os.Symlink(filepath.Join(dir, "v2", "token"), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
	if got := tokenOf(t, src); got != "token-v2-v2" {
		t.Errorf("token %q after the rotation, want token-v2-v2", got)
	}
}

func TestFileTokenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := FileToken(filepath.Join(dir, "missing")).Token(); err == nil {
		t.Error("a missing token file is no error")
	}
	if _, err := FileToken(dir).Token(); err == nil {
		t.Error("a directory is no error")
	}
	path := filepath.Join(dir, "token")
	writeFile(t, path, " \n")
	if _, err := FileToken(path).Token(); err == nil {
		t.Error("an empty token file is no error")
	}
	// A file emptied after a good read is an error too, not the old token.
	writeFile(t, path, "token-one")
	src := FileToken(path)
	tokenOf(t, src)
	writeFile(t, path, "")
	if tok, err := src.Token(); err == nil {
		t.Errorf("an emptied token file gave %q", tok.AccessToken)
	}
}

// tokenEndpoint is an OAuth2 token endpoint for the password grant with
// one client and one user, counting the tokens it issues.
type tokenEndpoint struct {
	*httptest.Server
	issued atomic.Int64

	mu        sync.Mutex
	password  string // the user's current password
	expiresIn int    // of the tokens issued
	scope     string // the scope parameter of the last request
}

// newTokenEndpoint starts a token endpoint for client "fullstop" (secret
// "client-secret") and user "stups_fullstop".
func newTokenEndpoint(t *testing.T, password string, expiresIn int) *tokenEndpoint {
	t.Helper()
	e := &tokenEndpoint{password: password, expiresIn: expiresIn}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.Close)
	return e
}

func (e *tokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	if !ok || id != "fullstop" || secret != "client-secret" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	if r.PostForm.Get("grant_type") != "password" ||
		r.PostForm.Get("username") != "stups_fullstop" || r.PostForm.Get("password") != e.password {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
		return
	}
	e.scope = r.PostForm.Get("scope")
	n := e.issued.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": fmt.Sprintf("service-token-%d", n),
		"token_type":   "Bearer",
		"expires_in":   e.expiresIn,
		"scope":        r.PostForm.Get("scope"),
	})
}

// setPassword changes the user's password at the endpoint.
func (e *tokenEndpoint) setPassword(p string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.password = p
}

// writeCredentials writes the STUPS credential files to dir.
func writeCredentials(t *testing.T, dir, clientSecret, password string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "client.json"),
		fmt.Sprintf(`{"client_id":"fullstop","client_secret":%q}`, clientSecret))
	writeFile(t, filepath.Join(dir, "user.json"),
		fmt.Sprintf(`{"application_username":"stups_fullstop","application_password":%q}`, password))
}

func TestCredentialsTokenPasswordGrant(t *testing.T) {
	e := newTokenEndpoint(t, "pw-1", 3600)
	dir := t.TempDir()
	writeCredentials(t, dir, "client-secret", "pw-1")
	src := CredentialsToken(context.Background(), e.URL+"/oauth2/access_token?realm=/services", dir, []string{"uid", "fullstop.read"})
	for range 3 {
		if got := tokenOf(t, src); got != "service-token-1" {
			t.Fatalf("token %q, want service-token-1", got)
		}
	}
	if n := e.issued.Load(); n != 1 {
		t.Errorf("the endpoint issued %d tokens, want 1 (reused until it expires)", n)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.scope != "uid fullstop.read" {
		t.Errorf("scope parameter %q, want \"uid fullstop.read\"", e.scope)
	}
}

func TestCredentialsTokenRereadsFiles(t *testing.T) {
	e := newTokenEndpoint(t, "pw-1", 1) // expires within oauth2's 10 s margin: renewed every time
	dir := t.TempDir()
	writeCredentials(t, dir, "client-secret", "pw-1")
	src := CredentialsToken(context.Background(), e.URL, dir, nil)
	if got := tokenOf(t, src); got != "service-token-1" {
		t.Fatalf("token %q", got)
	}
	e.setPassword("pw-2")
	writeCredentials(t, dir, "client-secret", "pw-2")
	if got := tokenOf(t, src); got != "service-token-2" {
		t.Fatalf("token %q after the password rotated, want service-token-2", got)
	}
}

func TestCredentialsTokenThroughTeamService(t *testing.T) {
	e := newTokenEndpoint(t, "pw-1", 3600)
	dir := t.TempDir()
	writeCredentials(t, dir, "client-secret", "pw-1")
	s := newTeamServer(t, nil, memberTeams)
	ts := newTestTeamService(t, s, TeamServiceConfig{Token: CredentialsToken(context.Background(), e.URL, dir, nil)})
	if _, err := ts.Teams(context.Background(), member); err != nil {
		t.Fatal(err)
	}
	if got := s.authorizations(); len(got) != 1 || got[0] != "Bearer service-token-1" {
		t.Errorf("Authorization headers %q", got)
	}
}

func TestCredentialsTokenErrors(t *testing.T) {
	e := newTokenEndpoint(t, "pw-1", 3600)
	for name, setup := range map[string]func(dir string){
		"no files":     func(string) {},
		"wrong secret": func(dir string) { writeCredentials(t, dir, "other-secret", "pw-1") },
		"wrong password": func(dir string) {
			writeCredentials(t, dir, "client-secret", "pw-0")
		},
		"no user.json": func(dir string) {
			writeCredentials(t, dir, "client-secret", "pw-1")
			_ = os.Remove(filepath.Join(dir, "user.json"))
		},
		"bad client.json": func(dir string) {
			writeCredentials(t, dir, "client-secret", "pw-1")
			writeFile(t, filepath.Join(dir, "client.json"), `{"client_id":`)
		},
		"empty password": func(dir string) { writeCredentials(t, dir, "client-secret", "") },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			setup(dir)
			if tok, err := CredentialsToken(context.Background(), e.URL, dir, nil).Token(); err == nil {
				t.Errorf("got token %q", tok.AccessToken)
			}
		})
	}
	if n := e.issued.Load(); n != 0 {
		t.Errorf("the endpoint issued %d tokens", n)
	}
}
