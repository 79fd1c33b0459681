package api

// Integration tests of the API's authentication and rights: the real
// verifiers (auth.TokenInfo, auth.JWT) and rights (auth.TeamService) talk
// to local token-info, JWKS and team-service servers speaking their JSON.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/api/auth"
	"github.com/fullstop-audit/fullstop/store"
)

// ---------------------------------------------------------------------
// token-info

// authTIAnswer is what the test token-info endpoint answers for a token;
// status 0 closes the connection without an answer.
type authTIAnswer struct {
	status int
	body   string
}

// authTIPrincipal is token-info's answer for a valid token.
func authTIPrincipal(uid, realm string, scopes ...string) authTIAnswer {
	sc, _ := json.Marshal(append([]string{}, scopes...))
	return authTIAnswer{status: http.StatusOK,
		body: fmt.Sprintf(`{"uid":%q,"scope":%s,"realm":%q,"expires_in":3600}`, uid, sc, realm)}
}

// authEmployee is token-info's answer for an employee token of uid.
func authEmployee(uid string, scopes ...string) authTIAnswer {
	return authTIPrincipal(uid, "/employees", append([]string{"uid"}, scopes...)...)
}

// authTokenInfo is a token-info endpoint answering by token, counting its
// calls; a token it does not know gets a 401 as the real one answers.
type authTokenInfo struct {
	*httptest.Server
	calls   atomic.Int64
	answers map[string]authTIAnswer // read-only once started
}

const authTokenInfoPath = "/oauth2/tokeninfo"

func newAuthTokenInfo(t *testing.T, answers map[string]authTIAnswer) *authTokenInfo {
	t.Helper()
	s := &authTokenInfo{answers: answers}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		token, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		a, known := s.answers[token]
		switch {
		case r.Method != http.MethodGet || r.URL.Path != authTokenInfoPath:
			http.Error(w, `{"error":"not_found"}`, http.StatusNotFound)
			return
		case !isBearer:
			http.Error(w, `{"error":"invalid_request","error_description":"Access token not provided"}`, http.StatusBadRequest)
			return
		case !known:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_token","error_description":"Access Token not valid"}`)
			return
		case a.status == 0:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(s.Close)
	return s
}

// authTokenInfoVerifier is the real token-info verifier for base.
func authTokenInfoVerifier(t *testing.T, base string) *auth.TokenInfo {
	t.Helper()
	ti, err := auth.NewTokenInfo(auth.TokenInfoConfig{URL: base + authTokenInfoPath})
	if err != nil {
		t.Fatalf("NewTokenInfo: %v", err)
	}
	return ti
}

// authToken returns a distinctive opaque token (longer than 30 chars).
func authToken(name string) string {
	return "SeCrEtToKeN-" + name + "-0123456789abcdefghijklmnopqrstuvwxyz"
}

// authBearer is the header pair of a bearer token.
func authBearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// ---------------------------------------------------------------------
// team service

// authTeams is a team service: accounts by "uid/role", teams by uid; a
// uid it does not know has none; uid broken gets HTTP 500.
type authTeams struct {
	*httptest.Server
	accounts map[string][]string
	teams    map[string][]string
	broken   string

	mu    sync.Mutex
	asked []url.Values // the query of each /api/accounts/aws request
}

func newAuthTeams(t *testing.T, accounts, teams map[string][]string) *authTeams {
	t.Helper()
	s := &authTeams{accounts: accounts, teams: teams, broken: "broken"}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("member") == s.broken {
			http.Error(w, "team service exploded at "+r.Host, http.StatusInternalServerError)
			return
		}
		var ids []string
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/accounts/aws":
			s.mu.Lock()
			s.asked = append(s.asked, q)
			s.mu.Unlock()
			ids = s.accounts[q.Get("member")+"/"+q.Get("role")]
		case r.Method == http.MethodGet && r.URL.Path == "/api/teams":
			ids = s.teams[q.Get("member")]
		default:
			http.Error(w, `{"message":"not found"}`, http.StatusNotFound)
			return
		}
		out := []map[string]string{}
		for _, id := range ids {
			out = append(out, map[string]string{"id": id, "name": "name of " + id})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(s.Close)
	return s
}

// rolesAsked returns the distinct roles of the account questions, sorted.
func (s *authTeams) rolesAsked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var roles []string
	for _, q := range s.asked {
		roles = append(roles, q["role"]...)
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// authTeamService is the real team-service client for base.
func authTeamService(t *testing.T, base string) *auth.TeamService {
	t.Helper()
	ts, err := auth.NewTeamService(auth.TeamServiceConfig{URL: base})
	if err != nil {
		t.Fatalf("NewTeamService: %v", err)
	}
	return ts
}

// authClosedURL returns the URL of a server that is no longer listening.
func authClosedURL() string {
	s := httptest.NewServer(http.NotFoundHandler())
	u := s.URL
	s.Close()
	return u
}

// authOpts configures the env's verifier and, when ts is not nil, its
// rights.
func authOpts(v Verifier, ts *auth.TeamService) func(*Config) {
	return func(c *Config) {
		c.Verifier = v
		if ts != nil {
			c.Rights = ts
		}
	}
}

// ---------------------------------------------------------------------
// JWT

const (
	authIssuer   = "https://idp.example.org/"
	authAudience = "fullstop-api"
)

// authRSAKeys are two RSA keys, generated once for all tests.
var authRSAKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

// newAuthJWKS serves the public keys, by kid, as a JWKS.
func newAuthJWKS(t *testing.T, keys map[string]*rsa.PrivateKey) *httptest.Server {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	set := struct {
		Keys []map[string]string `json:"keys"`
	}{Keys: []map[string]string{}}
	for kid, k := range keys {
		set.Keys = append(set.Keys, map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())})
	}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// authJWTVerifier is the real JWT verifier for the JWKS at jwksURL; claim
// is the principal claim ("" for the default sub).
func authJWTVerifier(t *testing.T, jwksURL, claim string) *auth.JWT {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	j, err := auth.NewJWT(ctx, auth.JWTConfig{JWKSURL: jwksURL, Issuer: authIssuer, Audience: authAudience, PrincipalClaim: claim})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return j
}

// authClaims are valid claims for jdoe, changed by edit.
func authClaims(edit func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": authIssuer, "aud": authAudience, "sub": "jdoe",
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		"scope": "uid",
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// authJWT returns the claims as a compact JWS with header hdr: RS256 with
// key, HS256 with secret, or unsigned (alg none) when both are nil.
func authJWT(t *testing.T, hdr map[string]any, claims map[string]any, key *rsa.PrivateKey, secret []byte) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	h, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := enc(h) + "." + enc(c)
	switch {
	case key != nil:
		sum := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return input + "." + enc(sig)
	case secret != nil:
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return input + "." + enc(m.Sum(nil))
	}
	return input + "."
}

// authRS256 signs claims with key under kid.
func authRS256(t *testing.T, kid string, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	return authJWT(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}, claims, key, nil)
}

// ---------------------------------------------------------------------
// checks and fixtures

// authWant checks an answer's status and, for 401, 403 and 503, its
// problem body and the WWW-Authenticate challenge (on 401 only).
func authWant(t *testing.T, what string, r reply, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, want, r.body)
	}
	switch want {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable:
		r.problem(t)
		challenge := r.header.Get("WWW-Authenticate")
		if want == http.StatusUnauthorized && !strings.HasPrefix(challenge, "Bearer") {
			t.Errorf("%s: 401 with WWW-Authenticate %q, want a Bearer challenge", what, challenge)
		}
		if want != http.StatusUnauthorized && challenge != "" {
			t.Errorf("%s: %d with WWW-Authenticate %q", what, want, challenge)
		}
	}
}

// authNoAddress fails if an answer shows the address of a dependency.
func authNoAddress(t *testing.T, what string, r reply, addrs ...string) {
	t.Helper()
	for _, a := range append(addrs, "127.0.0.1", "dial tcp", "connection refused") {
		if a != "" && bytes.Contains(r.body, []byte(a)) {
			t.Errorf("%s: the answer shows %q: %s", what, a, r.body)
		}
	}
}

// hostOf returns the host:port of a URL.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}

// authViolationIDs stores gen(0..3) (accounts 100000000000 to
// 100000000003) and returns their ids by account.
func authViolationIDs(t *testing.T, e *env) map[string]int64 {
	t.Helper()
	e.store(t, gen(0), gen(1), gen(2), gen(3))
	vs, _, err := e.st.ViolationPage(context.Background(), store.ViolationFilter{State: store.StateAny}, nil, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, v := range vs {
		out[*v.AccountID] = v.ID
	}
	if len(out) != 4 {
		t.Fatalf("stored violations by account: %v", out)
	}
	return out
}

// authNewViolation is a POST /api/violations body.
func authNewViolation(account, event string) map[string]any {
	return map[string]any{"event_id": event, "account_id": account, "region": "eu-west-1",
		"violation_type": "WRONG_REGION", "meta_info": map[string]any{"reason": "test"}}
}

// authCreatedBy returns the created_by of the one violation of account.
func authCreatedBy(t *testing.T, e *env, account string, header ...string) string {
	t.Helper()
	r := e.do(t, http.MethodGet, "/api/violations?state=any&accounts="+account, nil, header...)
	authWant(t, "list "+account, r, http.StatusOK)
	var p Page[Violation]
	r.decode(t, &p)
	if len(p.Content) != 1 {
		t.Fatalf("account %s has %d violations, want 1: %s", account, len(p.Content), r.body)
	}
	if p.Content[0].CreatedBy == nil {
		return "<nil>"
	}
	return *p.Content[0].CreatedBy
}

// authViolation returns violation id as the API shows it.
func authViolation(t *testing.T, e *env, id int64, header ...string) Violation {
	t.Helper()
	r := e.do(t, http.MethodGet, fmt.Sprintf("/api/violations/%d", id), nil, header...)
	authWant(t, "get violation", r, http.StatusOK)
	var v Violation
	r.decode(t, &v)
	return v
}

func authStr(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// ---------------------------------------------------------------------
// token-info mode

func TestAuthTokenInfo(t *testing.T) {
	t.Parallel()
	thirty := "x" + strings.Repeat("0", 29) // 30 characters: long enough to be sent
	ti := newAuthTokenInfo(t, map[string]authTIAnswer{
		authToken("employee"):  authEmployee("jdoe"),
		authToken("service"):   authTIPrincipal("stups_fullstop-cli", "/services", "uid"),
		authToken("employee2"): authEmployee("jdoe"),
		thirty:                 authEmployee("jdoe"),
		authToken("no-uid"):    authTIPrincipal("jdoe", "/employees", "fullstop.violation.write"),
		authToken("customer"):  authTIPrincipal("jdoe", "/customers", "uid"),
		authToken("no-realm"):  authTIPrincipal("jdoe", "", "uid"),
		authToken("500"):       {status: http.StatusInternalServerError, body: `{"error":"server_error"}`},
		authToken("502"):       {status: http.StatusBadGateway, body: `bad gateway`},
		authToken("hangup"):    {status: 0},
		authToken("no-uid-field"): {status: http.StatusOK,
			body: `{"scope":["uid"],"realm":"/employees","expires_in":3600}`},
	})
	e := newEnv(t, authOpts(authTokenInfoVerifier(t, ti.URL), nil))
	for _, tc := range []struct {
		name  string
		auth  string // the Authorization header; "" sends none
		want  int
		asked bool // token-info is called
	}{
		{"no Authorization header", "", http.StatusUnauthorized, false},
		{"Basic scheme", "Basic abc", http.StatusUnauthorized, false},
		{"Basic with a long secret", "Basic " + authToken("employee"), http.StatusUnauthorized, false},
		{"token without scheme", authToken("employee"), http.StatusUnauthorized, false},
		{"Bearer alone", "Bearer", http.StatusUnauthorized, false},
		{"short token", "Bearer short-token", http.StatusUnauthorized, false},
		{"29 characters", "Bearer " + thirty[1:], http.StatusUnauthorized, false},
		{"None", "Bearer None", http.StatusUnauthorized, false},
		{"none lower case", "Bearer none", http.StatusUnauthorized, false},
		{"None padded", "Bearer   None  ", http.StatusUnauthorized, false},
		{"30 characters", "Bearer " + thirty, http.StatusOK, true},
		{"valid employee", "Bearer " + authToken("employee"), http.StatusOK, true},
		{"bearer lower case", "bearer " + authToken("employee2"), http.StatusOK, true},
		{"valid service", "Bearer " + authToken("service"), http.StatusOK, true},
		{"without scope uid", "Bearer " + authToken("no-uid"), http.StatusForbidden, true},
		{"realm /customers", "Bearer " + authToken("customer"), http.StatusForbidden, true},
		{"no realm", "Bearer " + authToken("no-realm"), http.StatusForbidden, true},
		{"token-info answers 401", "Bearer " + authToken("unknown"), http.StatusUnauthorized, true},
		{"token-info knows no uid", "Bearer " + authToken("no-uid-field"), http.StatusUnauthorized, true},
		{"token-info answers 500", "Bearer " + authToken("500"), http.StatusServiceUnavailable, true},
		{"token-info answers 502", "Bearer " + authToken("502"), http.StatusServiceUnavailable, true},
		{"token-info hangs up", "Bearer " + authToken("hangup"), http.StatusServiceUnavailable, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ti.calls.Load()
			var h []string
			if tc.auth != "" {
				h = []string{"Authorization", tc.auth}
			}
			r := e.do(t, http.MethodGet, "/api/violations", nil, h...)
			authWant(t, tc.name, r, tc.want)
			calls := ti.calls.Load() - before
			if tc.asked && calls == 0 || !tc.asked && calls != 0 {
				t.Errorf("token-info got %d calls, want them: %v", calls, tc.asked)
			}
			if tc.want == http.StatusServiceUnavailable {
				authNoAddress(t, tc.name, r, hostOf(ti.URL), authTokenInfoPath)
			}
			if tc.want == http.StatusOK {
				var p Page[Violation]
				r.decode(t, &p)
			}
		})
	}
}

func TestAuthTokenInfoDown(t *testing.T) {
	t.Parallel()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "token-info at "+r.Host+" is down for maintenance", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	for _, tc := range []struct {
		name string
		url  string
	}{
		{"closed", authClosedURL()},
		{"answers 500", failing.URL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, authOpts(authTokenInfoVerifier(t, tc.url), nil))
			for _, path := range []string{"/api/violations", "/api/violation-types", "/api/whitelisting-rules"} {
				r := e.do(t, http.MethodGet, path, nil, authBearer(authToken("employee"))...)
				authWant(t, path, r, http.StatusServiceUnavailable)
				authNoAddress(t, path, r, hostOf(tc.url), authTokenInfoPath)
			}
			// A token refused before asking is still a 401, not a 503.
			authWant(t, "short", e.do(t, http.MethodGet, "/api/violations", nil, authBearer("short")...), http.StatusUnauthorized)
			authWant(t, "none", e.do(t, http.MethodGet, "/api/violations", nil), http.StatusUnauthorized)
		})
	}
}

func TestAuthTokenInfoOpenEndpoints(t *testing.T) {
	t.Parallel()
	ti := newAuthTokenInfo(t, nil)
	e := newEnv(t, authOpts(authTokenInfoVerifier(t, ti.URL), nil))
	for _, tc := range []struct {
		method, path string
		header       []string
	}{
		{http.MethodOptions, "/api/violations", nil},
		{http.MethodOptions, "/api/violations/1/resolution", nil},
		{http.MethodOptions, "/api/whitelisting-rules/1", []string{"Origin", "https://ui.example.org",
			"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization"}},
		{http.MethodOptions, "/api/violations", []string{"Authorization", "Basic abc"}},
		{http.MethodGet, "/health", nil},
		{http.MethodGet, "/metrics", nil},
		{http.MethodGet, "/api/openapi.yaml", nil},
	} {
		r := e.do(t, tc.method, tc.path, nil, tc.header...)
		what := tc.method + " " + tc.path
		authWant(t, what, r, http.StatusOK)
		if r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS headers: %v", what, r.header)
		}
	}
	if n := ti.calls.Load(); n != 0 {
		t.Errorf("token-info got %d calls for endpoints that need no token", n)
	}
}

// ---------------------------------------------------------------------
// JWT mode

func TestAuthJWT(t *testing.T) {
	t.Parallel()
	keys := authRSAKeys()
	key, other := keys[0], keys[1]
	j := authJWTVerifier(t, newAuthJWKS(t, map[string]*rsa.PrivateKey{"k1": key}).URL, "")
	e := newEnv(t, authOpts(j, nil))
	hour := time.Hour
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for _, tc := range []struct {
		name  string
		token string // "" sends no Authorization header
		want  int
	}{
		{"valid RS256", authRS256(t, "k1", key, authClaims(nil)), http.StatusOK},
		{"valid without kid", authJWT(t, map[string]any{"alg": "RS256", "typ": "JWT"}, authClaims(nil), key, nil), http.StatusOK},
		{"audience list", authRS256(t, "k1", key, authClaims(func(c map[string]any) { c["aud"] = []string{"x", authAudience} })), http.StatusOK},
		{"no token", "", http.StatusUnauthorized},
		{"garbage", "not.a.jwt", http.StatusUnauthorized},
		{"expired", authRS256(t, "k1", key, authClaims(func(c map[string]any) { c["exp"] = time.Now().Add(-hour).Unix() })), http.StatusUnauthorized},
		{"no exp", authRS256(t, "k1", key, authClaims(func(c map[string]any) { delete(c, "exp") })), http.StatusUnauthorized},
		{"nbf in the future", authRS256(t, "k1", key, authClaims(func(c map[string]any) { c["nbf"] = time.Now().Add(hour).Unix() })), http.StatusUnauthorized},
		{"signed by another key, same kid", authRS256(t, "k1", other, authClaims(nil)), http.StatusUnauthorized},
		{"signed by another key, unknown kid", authRS256(t, "k2", other, authClaims(nil)), http.StatusUnauthorized},
		{"tampered claims", func() string {
			parts := strings.Split(authRS256(t, "k1", key, authClaims(nil)), ".")
			forged := strings.Split(authRS256(t, "k1", other, authClaims(func(c map[string]any) { c["sub"] = "admin" })), ".")
			return parts[0] + "." + forged[1] + "." + parts[2]
		}(), http.StatusUnauthorized},
		{"wrong audience", authRS256(t, "k1", key, authClaims(func(c map[string]any) { c["aud"] = "other-api" })), http.StatusUnauthorized},
		{"no audience", authRS256(t, "k1", key, authClaims(func(c map[string]any) { delete(c, "aud") })), http.StatusUnauthorized},
		{"wrong issuer", authRS256(t, "k1", key, authClaims(func(c map[string]any) { c["iss"] = "https://evil.example.org/" })), http.StatusUnauthorized},
		{"no issuer", authRS256(t, "k1", key, authClaims(func(c map[string]any) { delete(c, "iss") })), http.StatusUnauthorized},
		{"no sub", authRS256(t, "k1", key, authClaims(func(c map[string]any) { delete(c, "sub") })), http.StatusUnauthorized},
		{"alg none", authJWT(t, map[string]any{"alg": "none", "typ": "JWT", "kid": "k1"}, authClaims(nil), nil, nil), http.StatusUnauthorized},
		{"alg None", authJWT(t, map[string]any{"alg": "None", "kid": "k1"}, authClaims(nil), nil, nil), http.StatusUnauthorized},
		{"HS256 keyed with the public key", authJWT(t, map[string]any{"alg": "HS256", "kid": "k1"}, authClaims(nil), nil, pubPEM), http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.token != "" {
				h = authBearer(tc.token)
			}
			authWant(t, tc.name, e.do(t, http.MethodGet, "/api/violations", nil, h...), tc.want)
		})
	}
	// The scheme must be Bearer, even for a valid JWT.
	authWant(t, "Basic", e.do(t, http.MethodGet, "/api/violations", nil, "Authorization", "Basic "+authRS256(t, "k1", key, authClaims(nil))), http.StatusUnauthorized)
}

func TestAuthJWTKeySetDown(t *testing.T) {
	t.Parallel()
	key := authRSAKeys()[0]
	jwks := authClosedURL()
	e := newEnv(t, authOpts(authJWTVerifier(t, jwks, ""), nil))
	for _, tc := range []struct {
		name  string
		token string
		want  int
	}{
		{"with kid", authRS256(t, "k1", key, authClaims(nil)), http.StatusServiceUnavailable},
		{"again (refresh rate limited)", authRS256(t, "k1", key, authClaims(nil)), http.StatusServiceUnavailable},
		{"without kid", authJWT(t, map[string]any{"alg": "RS256"}, authClaims(nil), key, nil), http.StatusServiceUnavailable},
		{"alg none", authJWT(t, map[string]any{"alg": "none", "kid": "k1"}, authClaims(nil), nil, nil), http.StatusUnauthorized},
		{"garbage", "not.a.jwt", http.StatusUnauthorized},
		{"no token", "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.token != "" {
				h = authBearer(tc.token)
			}
			r := e.do(t, http.MethodGet, "/api/violations", nil, h...)
			authWant(t, tc.name, r, tc.want)
			authNoAddress(t, tc.name, r, hostOf(jwks))
		})
	}
}

func TestAuthJWTScopes(t *testing.T) {
	t.Parallel()
	key := authRSAKeys()[0]
	e := newEnv(t, authOpts(authJWTVerifier(t, newAuthJWKS(t, map[string]*rsa.PrivateKey{"k1": key}).URL, ""), nil))
	reader := authBearer(authRS256(t, "k1", key, authClaims(nil)))
	for i, tc := range []struct {
		name string
		edit func(map[string]any)
		want int
	}{
		{"scope string", func(c map[string]any) { c["scope"] = "uid fullstop.violation.write" }, http.StatusAccepted},
		{"scope array", func(c map[string]any) { c["scope"] = []string{"uid", ScopeViolationWrite} }, http.StatusAccepted},
		{"scp array", func(c map[string]any) { delete(c, "scope"); c["scp"] = []string{ScopeViolationWrite} }, http.StatusAccepted},
		{"scp string", func(c map[string]any) { delete(c, "scope"); c["scp"] = "openid " + ScopeViolationWrite }, http.StatusAccepted},
		{"scope and scp", func(c map[string]any) { c["scope"] = "uid"; c["scp"] = []string{ScopeViolationWrite} }, http.StatusAccepted},
		{"scope uid only", nil, http.StatusForbidden},
		{"no scopes", func(c map[string]any) { delete(c, "scope") }, http.StatusForbidden},
		{"a longer scope", func(c map[string]any) { c["scope"] = ScopeViolationWrite + ".all" }, http.StatusForbidden},
		{"a shorter scope", func(c map[string]any) { c["scp"] = "fullstop.violation" }, http.StatusForbidden},
		{"scope as one comma list", func(c map[string]any) { c["scope"] = "uid," + ScopeViolationWrite }, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := fmt.Sprintf("user-%d", i)
			account := fmt.Sprintf("2000000000%02d", i)
			tok := authRS256(t, "k1", key, authClaims(func(c map[string]any) {
				c["sub"] = sub
				if tc.edit != nil {
					tc.edit(c)
				}
			}))
			r := e.do(t, http.MethodPost, "/api/violations", authNewViolation(account, fmt.Sprintf("ev-%d", i)), authBearer(tok)...)
			authWant(t, tc.name, r, tc.want)
			if tc.want == http.StatusForbidden {
				if p := r.problem(t); !strings.Contains(p.Detail, ScopeViolationWrite) {
					t.Errorf("403 detail %q does not name the scope", p.Detail)
				}
				return
			}
			if got := authCreatedBy(t, e, account, reader...); got != sub {
				t.Errorf("created_by %q, want the sub %q", got, sub)
			}
		})
	}
}

func TestAuthJWTPrincipalClaim(t *testing.T) {
	t.Parallel()
	key := authRSAKeys()[0]
	e := newEnv(t, authOpts(authJWTVerifier(t, newAuthJWKS(t, map[string]*rsa.PrivateKey{"k1": key}).URL, "uid"), nil))
	tok := authRS256(t, "k1", key, authClaims(func(c map[string]any) {
		c["sub"] = "00u1a2b3c4"
		c["uid"] = "jane"
		c["scope"] = "uid " + ScopeViolationWrite
	}))
	authWant(t, "create", e.do(t, http.MethodPost, "/api/violations", authNewViolation("300000000000", "ev-claim"), authBearer(tok)...), http.StatusAccepted)
	if got := authCreatedBy(t, e, "300000000000", authBearer(tok)...); got != "jane" {
		t.Errorf("created_by %q, want the uid claim jane", got)
	}
	// Without the configured claim (only sub) the token names nobody.
	noUID := authRS256(t, "k1", key, authClaims(nil))
	authWant(t, "without uid", e.do(t, http.MethodGet, "/api/violations", nil, authBearer(noUID)...), http.StatusUnauthorized)
	blank := authRS256(t, "k1", key, authClaims(func(c map[string]any) { c["uid"] = "  " }))
	authWant(t, "blank uid", e.do(t, http.MethodGet, "/api/violations", nil, authBearer(blank)...), http.StatusUnauthorized)
}

// TestAuthJWTPrincipalTrimmed: the principal whose rights the team service
// is asked about (auth.TeamService trims the uid) is the one written to
// created_by and last_modified_by, as in token-info mode (which trims the
// uid): a sub with surrounding blanks is the trimmed id.
func TestAuthJWTPrincipalTrimmed(t *testing.T) {
	t.Parallel()
	key := authRSAKeys()[0]
	teams := newAuthTeams(t, map[string][]string{"jdoe/PowerUser": {"100000000000"}}, nil)
	e := newEnv(t, authOpts(authJWTVerifier(t, newAuthJWKS(t, map[string]*rsa.PrivateKey{"k1": key}).URL, ""),
		authTeamService(t, teams.URL)))
	ids := authViolationIDs(t, e)
	padded := authBearer(authRS256(t, "k1", key, authClaims(func(c map[string]any) {
		c["sub"] = " jdoe "
		c["scope"] = "uid " + ScopeViolationWrite
	})))
	authWant(t, "create", e.do(t, http.MethodPost, "/api/violations", authNewViolation("800000000000", "ev-pad"), padded...), http.StatusAccepted)
	if got := authCreatedBy(t, e, "800000000000", padded...); got != "jdoe" {
		t.Errorf("created_by %q, want jdoe", got)
	}
	r := e.do(t, http.MethodPost, fmt.Sprintf("/api/violations/%d/resolution", ids["100000000000"]), "fixed", padded...)
	authWant(t, "resolve", r, http.StatusOK) // the rights of jdoe
	var v Violation
	r.decode(t, &v)
	if got := authStr(v.LastModifiedBy); got != "jdoe" {
		t.Errorf("last_modified_by %q: the rights of jdoe were checked, another id was recorded", got)
	}
}

// ---------------------------------------------------------------------
// POST /api/violations in token-info mode

func TestAuthTokenInfoCreateViolation(t *testing.T) {
	t.Parallel()
	ti := newAuthTokenInfo(t, map[string]authTIAnswer{
		authToken("reader"):  authEmployee("jdoe"),
		authToken("writer"):  authEmployee("jdoe", ScopeViolationWrite),
		authToken("service"): authTIPrincipal("stups_robot", "/services", "uid", ScopeViolationWrite),
		authToken("no-uid"):  authTIPrincipal("jdoe", "/employees", ScopeViolationWrite),
	})
	e := newEnv(t, authOpts(authTokenInfoVerifier(t, ti.URL), nil))
	for i, tc := range []struct {
		name, token string
		want        int
		createdBy   string
	}{
		{"without the write scope", "reader", http.StatusForbidden, ""},
		{"write scope without uid", "no-uid", http.StatusForbidden, ""},
		{"no token", "", http.StatusUnauthorized, ""},
		{"employee with the write scope", "writer", http.StatusAccepted, "jdoe"},
		{"service with the write scope", "service", http.StatusAccepted, "stups_robot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			account := fmt.Sprintf("4000000000%02d", i)
			var h []string
			if tc.token != "" {
				h = authBearer(authToken(tc.token))
			}
			r := e.do(t, http.MethodPost, "/api/violations", authNewViolation(account, fmt.Sprintf("ev-ti-%d", i)), h...)
			authWant(t, tc.name, r, tc.want)
			if tc.want == http.StatusAccepted {
				if len(bytes.TrimSpace(r.body)) != 0 {
					t.Errorf("202 with a body: %s", r.body)
				}
				if got := authCreatedBy(t, e, account, authBearer(authToken("reader"))...); got != tc.createdBy {
					t.Errorf("created_by %q, want %q", got, tc.createdBy)
				}
				return
			}
			// Nothing was stored.
			var p Page[Violation]
			e.do(t, http.MethodGet, "/api/violations?state=any&accounts="+account, nil, authBearer(authToken("reader"))...).decode(t, &p)
			if len(p.Content) != 0 {
				t.Errorf("a refused submission stored %+v", p.Content)
			}
		})
	}
}

// ---------------------------------------------------------------------
// resolution rights

func TestRightsResolve(t *testing.T) {
	t.Parallel()
	ti := newAuthTokenInfo(t, map[string]authTIAnswer{
		authToken("jdoe"):    authEmployee("jdoe"),
		authToken("mallory"): authEmployee("mallory"),
	})
	teams := newAuthTeams(t, map[string][]string{
		"jdoe/PowerUser": {"100000000000"},
		"jdoe/Deployer":  {"100000000001"},
		"jdoe/ReadOnly":  {"100000000002"}, // a role that gives no right: never asked
		"mallory/Viewer": {"100000000000"},
	}, nil)
	e := newEnv(t, authOpts(authTokenInfoVerifier(t, ti.URL), authTeamService(t, teams.URL)))
	ids := authViolationIDs(t, e)
	jdoe, mallory := authBearer(authToken("jdoe")), authBearer(authToken("mallory"))

	for _, tc := range []struct {
		name    string
		method  string
		account string // the violation's; "" for an unknown id
		who     []string
		want    int
	}{
		{"PowerUser account", http.MethodPost, "100000000000", jdoe, http.StatusOK},
		{"Deployer account", http.MethodPost, "100000000001", jdoe, http.StatusOK},
		{"ReadOnly account", http.MethodPost, "100000000002", jdoe, http.StatusForbidden},
		{"no role in the account", http.MethodPost, "100000000003", jdoe, http.StatusForbidden},
		{"user without accounts", http.MethodPost, "100000000000", mallory, http.StatusForbidden},
		{"unknown violation", http.MethodPost, "", jdoe, http.StatusNotFound},
		{"reopen: user without accounts", http.MethodDelete, "100000000001", mallory, http.StatusForbidden},
		{"reopen: other account", http.MethodDelete, "100000000002", jdoe, http.StatusForbidden},
		{"reopen: PowerUser account", http.MethodDelete, "100000000000", jdoe, http.StatusOK},
		{"reopen: no token", http.MethodDelete, "100000000001", nil, http.StatusUnauthorized},
		{"resolve: no token", http.MethodPost, "100000000003", nil, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := int64(987654321)
			if tc.account != "" {
				id = ids[tc.account]
			}
			var before Violation
			if tc.account != "" {
				before = authViolation(t, e, id, jdoe...)
			}
			var body any
			if tc.method == http.MethodPost {
				body = "fixed by " + tc.name
			}
			r := e.do(t, tc.method, fmt.Sprintf("/api/violations/%d/resolution", id), body, tc.who...)
			authWant(t, tc.name, r, tc.want)
			if tc.account == "" {
				return
			}
			after := authViolation(t, e, id, jdoe...)
			if tc.want != http.StatusOK {
				if after.Version != before.Version || authStr(after.Comment) != authStr(before.Comment) {
					t.Errorf("a refused change changed the violation: %+v -> %+v", before, after)
				}
				return
			}
			var v Violation
			r.decode(t, &v)
			if authStr(v.LastModifiedBy) != "jdoe" || authStr(after.LastModifiedBy) != "jdoe" {
				t.Errorf("last_modified_by %q (stored %q), want jdoe", authStr(v.LastModifiedBy), authStr(after.LastModifiedBy))
			}
			wantComment := "<nil>"
			if tc.method == http.MethodPost {
				wantComment = "fixed by " + tc.name
			}
			if authStr(after.Comment) != wantComment {
				t.Errorf("comment %q, want %q", authStr(after.Comment), wantComment)
			}
		})
	}
	if got, want := teams.rolesAsked(), []string{"Deployer", "PowerUser"}; !slices.Equal(got, want) {
		t.Errorf("the team service was asked for roles %q, want %q", got, want)
	}
}

func TestRightsResolveTeamServiceDown(t *testing.T) {
	t.Parallel()
	ti := newAuthTokenInfo(t, map[string]authTIAnswer{authToken("jdoe"): authEmployee("jdoe")})
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "team service at "+r.Host+" is down", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	for _, tc := range []struct {
		name string
		url  string
	}{
		{"closed", authClosedURL()},
		{"answers 500", failing.URL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, authOpts(authTokenInfoVerifier(t, ti.URL), authTeamService(t, tc.url)))
			ids := authViolationIDs(t, e)
			id := ids["100000000000"]
			jdoe := authBearer(authToken("jdoe"))
			before := authViolation(t, e, id, jdoe...)
			for _, m := range []string{http.MethodPost, http.MethodDelete} {
				var body any
				if m == http.MethodPost {
					body = "fixed"
				}
				r := e.do(t, m, fmt.Sprintf("/api/violations/%d/resolution", id), body, jdoe...)
				authWant(t, m, r, http.StatusServiceUnavailable)
				authNoAddress(t, m, r, hostOf(tc.url))
			}
			if v := authViolation(t, e, id, jdoe...); v.Comment != nil || v.Version != before.Version {
				t.Errorf("the violation changed while the team service was down: %+v -> %+v", before, v)
			}
		})
	}
}

func TestRightsNotConfigured(t *testing.T) {
	t.Parallel()
	ti := newAuthTokenInfo(t, map[string]authTIAnswer{authToken("jdoe"): authEmployee("jdoe", ScopeViolationWrite)})
	e := newEnv(t, authOpts(authTokenInfoVerifier(t, ti.URL), nil)) // Config.Rights nil
	ids := authViolationIDs(t, e)
	jdoe := authBearer(authToken("jdoe"))
	id := ids["100000000000"]
	rule := map[string]any{"account_id": "100000000000", "reason": "test"}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, fmt.Sprintf("/api/violations/%d/resolution", id), "fixed"},
		{http.MethodDelete, fmt.Sprintf("/api/violations/%d/resolution", id), nil},
		{http.MethodGet, "/api/whitelisting-rules", nil},
		{http.MethodPost, "/api/whitelisting-rules", rule},
		{http.MethodGet, "/api/whitelisting-rules/1", nil},
		{http.MethodPut, "/api/whitelisting-rules/1", rule},
		{http.MethodDelete, "/api/whitelisting-rules/1", nil},
		{http.MethodPost, "/api/whitelisting-rules/1/apply", nil},
	} {
		what := tc.method + " " + tc.path
		r := e.do(t, tc.method, tc.path, tc.body, jdoe...)
		authWant(t, what, r, http.StatusForbidden)
		if p := r.problem(t); !strings.Contains(p.Detail, "FULLSTOP_TEAM_SERVICE_URL") {
			t.Errorf("%s: 403 detail %q does not name FULLSTOP_TEAM_SERVICE_URL", what, p.Detail)
		}
	}
	// Reading and submitting need no team service.
	authWant(t, "list", e.do(t, http.MethodGet, "/api/violations", nil, jdoe...), http.StatusOK)
	authWant(t, "submit", e.do(t, http.MethodPost, "/api/violations", authNewViolation("500000000000", "ev-nr"), jdoe...), http.StatusAccepted)

	// A principal with every right (auth.None) needs no team service.
	local := newEnv(t)
	lids := authViolationIDs(t, local)
	r := local.do(t, http.MethodPost, fmt.Sprintf("/api/violations/%d/resolution", lids["100000000000"]), "fixed")
	authWant(t, "auth none", r, http.StatusOK)
	var v Violation
	r.decode(t, &v)
	if authStr(v.LastModifiedBy) != "local" {
		t.Errorf("last_modified_by %q, want local", authStr(v.LastModifiedBy))
	}
	authWant(t, "auth none rules", local.do(t, http.MethodGet, "/api/whitelisting-rules", nil), http.StatusOK)
}

// ---------------------------------------------------------------------
// whitelisting rights

// authRuleCalls are the calls of every whitelisting-rule endpoint on rule
// id, in an order that leaves the rule replaced and expired.
func authRuleCalls(id int64) []struct {
	name, method, path string
	body               any
	ok                 int
} {
	rule := map[string]any{"account_id": "100000000000", "region": "eu-west-1", "reason": "replaced"}
	return []struct {
		name, method, path string
		body               any
		ok                 int
	}{
		{"list", http.MethodGet, "/api/whitelisting-rules", nil, http.StatusOK},
		{"get", http.MethodGet, fmt.Sprintf("/api/whitelisting-rules/%d", id), nil, http.StatusOK},
		{"create", http.MethodPost, "/api/whitelisting-rules", map[string]any{"account_id": "100000000003", "reason": "x"}, http.StatusCreated},
		{"apply", http.MethodPost, fmt.Sprintf("/api/whitelisting-rules/%d/apply?dry_run=true", id), nil, http.StatusOK},
		{"replace", http.MethodPut, fmt.Sprintf("/api/whitelisting-rules/%d", id), rule, http.StatusOK},
		{"expire", http.MethodDelete, fmt.Sprintf("/api/whitelisting-rules/%d", id+1), nil, http.StatusNoContent},
	}
}

func TestRightsWhitelist(t *testing.T) {
	t.Parallel()
	ti := newAuthTokenInfo(t, map[string]authTIAnswer{
		authToken("jdoe"):    authEmployee("jdoe"),
		authToken("mallory"): authEmployee("mallory"),
		authToken("nobody"):  authEmployee("nobody"),
	})
	teams := newAuthTeams(t, nil, map[string][]string{
		"jdoe":    {"stups", "other"},
		"mallory": {"stups-alumni", "Stups", "other"},
	})
	e := newEnv(t, authOpts(authTokenInfoVerifier(t, ti.URL), authTeamService(t, teams.URL)))
	authViolationIDs(t, e)
	jdoe := authBearer(authToken("jdoe"))

	r := e.do(t, http.MethodPost, "/api/whitelisting-rules", map[string]any{"account_id": "100000000000", "reason": "test"}, jdoe...)
	authWant(t, "create", r, http.StatusCreated)
	var created Rule
	r.decode(t, &created)
	if created.CreatedBy != "jdoe" {
		t.Errorf("created_by %q, want jdoe", created.CreatedBy)
	}
	r = e.do(t, http.MethodGet, "/api/whitelisting-rules", nil, jdoe...)
	authWant(t, "list", r, http.StatusOK)
	var before []Rule
	r.decode(t, &before)
	if len(before) != 1 || before[0].ID != created.ID {
		t.Fatalf("rules %+v, want the one created", before)
	}

	for _, who := range []string{"mallory", "nobody"} {
		for _, c := range authRuleCalls(created.ID) {
			t.Run(who+" "+c.name, func(t *testing.T) {
				r := e.do(t, c.method, c.path, c.body, authBearer(authToken(who))...)
				authWant(t, c.name, r, http.StatusForbidden)
				if p := r.problem(t); !strings.Contains(p.Detail, "stups") {
					t.Errorf("403 detail %q does not name the allowed team", p.Detail)
				}
			})
		}
		t.Run(who+" without token", func(t *testing.T) {
			for _, c := range authRuleCalls(created.ID) {
				authWant(t, c.name, e.do(t, c.method, c.path, c.body), http.StatusUnauthorized)
			}
		})
	}
	var after []Rule
	e.do(t, http.MethodGet, "/api/whitelisting-rules", nil, jdoe...).decode(t, &after)
	if len(after) != 1 || after[0].Version != before[0].Version || !time.Time(after[0].ExpiryDate).Equal(time.Time(before[0].ExpiryDate)) {
		t.Errorf("refused calls changed the rules: %+v -> %+v", before, after)
	}

	for _, c := range authRuleCalls(created.ID) {
		t.Run("jdoe "+c.name, func(t *testing.T) {
			r := e.do(t, c.method, c.path, c.body, jdoe...)
			authWant(t, c.name, r, c.ok)
			if c.method == http.MethodPost && c.ok == http.StatusCreated || c.method == http.MethodPut {
				var x Rule
				r.decode(t, &x)
				if x.CreatedBy != "jdoe" {
					t.Errorf("created_by %q, want jdoe", x.CreatedBy)
				}
			}
		})
	}
}

func TestRightsWhitelistAllowedTeams(t *testing.T) {
	t.Parallel()
	ti := newAuthTokenInfo(t, map[string]authTIAnswer{
		authToken("olga"): authEmployee("olga"),
		authToken("sam"):  authEmployee("sam"),
		authToken("sue"):  authEmployee("sue"),
	})
	teams := newAuthTeams(t, nil, map[string][]string{
		"olga": {"ops"},
		"sam":  {"stups"}, // the default team, not allowed here
		"sue":  {" sec "},
	})
	e := newEnv(t, authOpts(authTokenInfoVerifier(t, ti.URL), authTeamService(t, teams.URL)),
		func(c *Config) { c.AllowedTeams = []string{"sec", "ops"} })
	body := map[string]any{"account_id": "100000000000", "reason": "test"}
	for _, tc := range []struct {
		who  string
		want int
	}{{"olga", http.StatusCreated}, {"sue", http.StatusCreated}, {"sam", http.StatusForbidden}} {
		t.Run(tc.who, func(t *testing.T) {
			h := authBearer(authToken(tc.who))
			r := e.do(t, http.MethodPost, "/api/whitelisting-rules", body, h...)
			authWant(t, "create", r, tc.want)
			listWant := http.StatusOK
			if tc.want == http.StatusForbidden {
				listWant = http.StatusForbidden
				if p := r.problem(t); !strings.Contains(p.Detail, "ops") || !strings.Contains(p.Detail, "sec") {
					t.Errorf("403 detail %q does not name the allowed teams", p.Detail)
				}
			} else {
				var x Rule
				r.decode(t, &x)
				if x.CreatedBy != tc.who {
					t.Errorf("created_by %q, want %q", x.CreatedBy, tc.who)
				}
			}
			authWant(t, "list", e.do(t, http.MethodGet, "/api/whitelisting-rules", nil, h...), listWant)
		})
	}
}

func TestRightsWhitelistTeamServiceDown(t *testing.T) {
	t.Parallel()
	ti := newAuthTokenInfo(t, map[string]authTIAnswer{authToken("jdoe"): authEmployee("jdoe")})
	down := authClosedURL()
	e := newEnv(t, authOpts(authTokenInfoVerifier(t, ti.URL), authTeamService(t, down)))
	for _, c := range authRuleCalls(1) {
		r := e.do(t, c.method, c.path, c.body, authBearer(authToken("jdoe"))...)
		authWant(t, c.name, r, http.StatusServiceUnavailable)
		authNoAddress(t, c.name, r, hostOf(down))
	}
	rs, err := e.st.WhitelistRules(context.Background())
	if err != nil || len(rs) != 0 {
		t.Errorf("rules after refused calls: %v, %v", rs, err)
	}
}

// ---------------------------------------------------------------------
// the access log

// authLog is a log output safe for concurrent use.
type authLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *authLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *authLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// logger returns a logger writing every level to l.
func (l *authLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// authLogFields parses one line of slog's text format.
func authLogFields(line string) map[string]string {
	m := map[string]string{}
	for s := strings.TrimSpace(line); s != ""; s = strings.TrimLeft(s, " ") {
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				break
			}
			v, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		m[k] = v
		s = rest
	}
	return m
}

// authLogRequest is a request of the access-log test and the line it must
// log.
type authLogRequest struct {
	method, path string
	body         any
	header       []string
	route        string
	status       int
	principal    string
}

// authCheckLog sends the requests and checks the log's request lines, and
// that no secret (nor the words Authorization and Bearer) is logged.
func authCheckLog(t *testing.T, e *env, log *authLog, reqs []authLogRequest, secrets []string) {
	t.Helper()
	for _, q := range reqs {
		r := e.do(t, q.method, q.path, q.body, q.header...)
		if r.status != q.status {
			t.Fatalf("%s %s: %d, want %d: %s", q.method, q.path, r.status, q.status, r.body)
		}
	}
	out := log.String()
	var lines []map[string]string
	for _, l := range strings.Split(out, "\n") {
		if f := authLogFields(l); f["msg"] == "request" {
			lines = append(lines, f)
		}
	}
	if len(lines) != len(reqs) {
		t.Fatalf("%d request lines for %d requests:\n%s", len(lines), len(reqs), out)
	}
	for i, q := range reqs {
		f := lines[i]
		want := map[string]string{"level": "INFO", "method": q.method, "route": q.route,
			"status": strconv.Itoa(q.status), "principal": q.principal}
		for k, v := range want {
			if got, ok := f[k]; !ok || got != v {
				t.Errorf("request %d (%s %s): %s=%q, want %q; line %v", i, q.method, q.path, k, got, v, f)
			}
		}
		if d, err := time.ParseDuration(f["duration"]); err != nil || d < 0 {
			t.Errorf("request %d (%s %s): duration %q", i, q.method, q.path, f["duration"])
		}
	}
	lower := strings.ToLower(out)
	for _, s := range append(secrets, "Authorization", "Bearer") {
		if strings.Contains(lower, strings.ToLower(s)) {
			t.Errorf("the log shows %q:\n%s", s, out)
		}
	}
	// Nor do the metrics, whose labels are route patterns.
	metrics := strings.ToLower(string(e.get(t, metricsPath, http.StatusOK).body))
	for _, s := range secrets {
		if strings.Contains(metrics, strings.ToLower(s)) {
			t.Errorf("the metrics show %q", s)
		}
	}
}

func TestAuthAccessLogTokenInfo(t *testing.T) {
	t.Parallel()
	tok := map[string]string{}
	for _, n := range []string{"jdoe", "reader", "no-uid", "unknown", "500", "hangup", "broken", "basic"} {
		tok[n] = authToken("log-" + n)
	}
	ti := newAuthTokenInfo(t, map[string]authTIAnswer{
		tok["jdoe"]:   authEmployee("jdoe", ScopeViolationWrite),
		tok["reader"]: authEmployee("reader"),
		tok["no-uid"]: authTIPrincipal("jdoe", "/employees"),
		tok["500"]:    {status: http.StatusInternalServerError, body: `{"error":"server_error"}`},
		tok["hangup"]: {status: 0},
		tok["broken"]: authEmployee("broken"),
	})
	teams := newAuthTeams(t, map[string][]string{"jdoe/PowerUser": {"100000000000"}}, map[string][]string{"jdoe": {"stups"}})
	log := &authLog{}
	e := newEnv(t, authOpts(authTokenInfoVerifier(t, ti.URL), authTeamService(t, teams.URL)),
		func(c *Config) { c.Log = log.logger() })
	ids := authViolationIDs(t, e)
	own, foreign := ids["100000000000"], ids["100000000001"]
	b := func(n string) []string { return authBearer(tok[n]) }
	reqs := []authLogRequest{
		{"GET", "/api/violations?size=5", nil, b("jdoe"), "GET /api/violations", 200, "jdoe"},
		{"GET", fmt.Sprintf("/api/violations/%d", own), nil, b("jdoe"), "GET /api/violations/{id}", 200, "jdoe"},
		{"GET", "/api/violations", nil, nil, "GET /api/violations", 401, ""},
		{"GET", "/api/violations", nil, []string{"Authorization", "Basic " + tok["basic"]}, "GET /api/violations", 401, ""},
		{"GET", "/api/violations", nil, b("unknown"), "GET /api/violations", 401, ""},
		{"GET", "/api/violation-types", nil, b("no-uid"), "GET /api/violation-types", 403, ""},
		{"GET", "/api/violations", nil, b("500"), "GET /api/violations", 503, ""},
		{"GET", "/api/violations", nil, b("hangup"), "GET /api/violations", 503, ""},
		{"POST", "/api/violations", authNewViolation("600000000000", "ev-log"), b("reader"), "POST /api/violations", 403, "reader"},
		{"POST", "/api/violations", authNewViolation("600000000000", "ev-log"), b("jdoe"), "POST /api/violations", 202, "jdoe"},
		{"POST", fmt.Sprintf("/api/violations/%d/resolution", foreign), "no", b("jdoe"), "POST /api/violations/{id}/resolution", 403, "jdoe"},
		{"POST", fmt.Sprintf("/api/violations/%d/resolution", own), "yes", b("jdoe"), "POST /api/violations/{id}/resolution", 200, "jdoe"},
		{"DELETE", fmt.Sprintf("/api/violations/%d/resolution", own), nil, b("jdoe"), "DELETE /api/violations/{id}/resolution", 200, "jdoe"},
		{"GET", "/api/whitelisting-rules", nil, b("reader"), "GET /api/whitelisting-rules", 403, "reader"},
		{"GET", "/api/whitelisting-rules", nil, b("broken"), "GET /api/whitelisting-rules", 503, "broken"},
		{"GET", "/api/whitelisting-rules", nil, b("jdoe"), "GET /api/whitelisting-rules", 200, "jdoe"},
		{"GET", "/api/whitelisting-rules/77", nil, b("jdoe"), "GET /api/whitelisting-rules/{id}", 404, "jdoe"},
		{"OPTIONS", "/api/violations", nil, b("jdoe"), "OPTIONS", 200, ""},
		{"GET", "/api/openapi.yaml", nil, b("jdoe"), "GET /api/openapi.yaml", 200, ""},
	}
	secrets := []string{"SeCrEtToKeN"}
	for _, v := range tok {
		secrets = append(secrets, v)
	}
	authCheckLog(t, e, log, reqs, secrets)
}

func TestAuthAccessLogJWT(t *testing.T) {
	t.Parallel()
	keys := authRSAKeys()
	key, other := keys[0], keys[1]
	log := &authLog{}
	e := newEnv(t, authOpts(authJWTVerifier(t, newAuthJWKS(t, map[string]*rsa.PrivateKey{"k1": key}).URL, ""), nil),
		func(c *Config) { c.Log = log.logger() })
	valid := authRS256(t, "k1", key, authClaims(func(c map[string]any) { c["sub"] = "jwt-user" }))
	expired := authRS256(t, "k1", key, authClaims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }))
	forged := authRS256(t, "k1", other, authClaims(nil))
	unsigned := authJWT(t, map[string]any{"alg": "none", "kid": "k1"}, authClaims(nil), nil, nil)
	reqs := []authLogRequest{
		{"GET", "/api/violations", nil, authBearer(valid), "GET /api/violations", 200, "jwt-user"},
		{"POST", "/api/violations", authNewViolation("700000000000", "ev-jwt"), authBearer(valid), "POST /api/violations", 403, "jwt-user"},
		{"GET", "/api/violations/1/resolution", nil, authBearer(valid), "/api/violations/{id}/resolution", 405, ""},
		{"GET", "/api/violations", nil, authBearer(expired), "GET /api/violations", 401, ""},
		{"GET", "/api/violations", nil, authBearer(forged), "GET /api/violations", 401, ""},
		{"GET", "/api/violations", nil, authBearer(unsigned), "GET /api/violations", 401, ""},
		{"GET", "/api/whitelisting-rules", nil, authBearer(valid), "GET /api/whitelisting-rules", 403, "jwt-user"},
	}
	secrets := []string{valid, expired, forged, unsigned}
	for _, s := range slices.Clone(secrets) {
		secrets = append(secrets, strings.Split(s, ".")[2]) // the signatures alone
	}
	secrets = slices.DeleteFunc(secrets, func(s string) bool { return s == "" })
	authCheckLog(t, e, log, reqs, secrets)

	// The identity provider down: 503, still nothing secret logged.
	downLog := &authLog{}
	down := newEnv(t, authOpts(authJWTVerifier(t, authClosedURL(), ""), nil), func(c *Config) { c.Log = downLog.logger() })
	authCheckLog(t, down, downLog, []authLogRequest{
		{"GET", "/api/violations", nil, authBearer(valid), "GET /api/violations", 503, ""},
	}, secrets)
}
