package auth

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "https://idp.example.org/"
	testAudience = "fullstop-api"
)

// newTestJWT returns a JWT for the JWKS at url with cfg's other settings;
// its refresh ends with the test.
func newTestJWT(t *testing.T, url string, cfg JWTConfig) *JWT {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg.JWKSURL = url
	if cfg.Issuer == "" {
		cfg.Issuer = testIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = testAudience
	}
	j, err := NewJWT(ctx, cfg)
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return j
}

// claims are valid claims for the test's issuer and audience, changed by
// edit.
func claims(edit func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"iss":   testIssuer,
		"aud":   testAudience,
		"sub":   "jdoe",
		"iat":   now.Unix(),
		"nbf":   now.Add(-time.Minute).Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"scope": "uid fullstop.violation.write",
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// sign returns c signed with k, its kid in the header.
func sign(t *testing.T, k testKey, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), c)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.signer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// verifyOK verifies token and fails the test on an error.
func verifyOK(t *testing.T, j *JWT, token string) Principal {
	t.Helper()
	p, err := j.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return p
}

// verifyFails verifies token and wants an error wrapping want whose text
// contains reason.
func verifyFails(t *testing.T, j *JWT, token string, want error, reason string) {
	t.Helper()
	_, err := j.Verify(context.Background(), token)
	wantErr(t, err, want, token)
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("error %q does not say %q", err, reason)
	}
}

func TestJWTValid(t *testing.T) {
	key := newRSAKey(t, "rsa-1")
	j := newTestJWT(t, newJWKSServer(t, key).URL, JWTConfig{})
	p := verifyOK(t, j, sign(t, key, claims(nil)))
	if p.UID != "jdoe" || p.Realm != "" || p.All || !slices.Equal(p.Scopes, []string{"uid", "fullstop.violation.write"}) {
		t.Errorf("Verify = %+v", p)
	}
}

func TestJWTValidECDSA(t *testing.T) {
	rsaKey, ecKey := newRSAKey(t, "rsa-1"), newECKey(t, "ec-1")
	j := newTestJWT(t, newJWKSServer(t, rsaKey, ecKey).URL, JWTConfig{})
	if p := verifyOK(t, j, sign(t, ecKey, claims(nil))); p.UID != "jdoe" {
		t.Errorf("Verify = %+v", p)
	}
}

func TestJWTAudienceList(t *testing.T) {
	key := newRSAKey(t, "rsa-1")
	j := newTestJWT(t, newJWKSServer(t, key).URL, JWTConfig{})
	verifyOK(t, j, sign(t, key, claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", testAudience} })))
}

func TestJWTLeeway(t *testing.T) {
	key := newRSAKey(t, "rsa-1")
	j := newTestJWT(t, newJWKSServer(t, key).URL, JWTConfig{})
	verifyOK(t, j, sign(t, key, claims(func(c jwt.MapClaims) {
		c["exp"] = time.Now().Add(-10 * time.Second).Unix()
		c["nbf"] = time.Now().Add(10 * time.Second).Unix()
	})))
}

func TestJWTRefused(t *testing.T) {
	key, other := newRSAKey(t, "rsa-1"), newRSAKey(t, "rsa-2")
	j := newTestJWT(t, newJWKSServer(t, key).URL, JWTConfig{})
	hour := time.Hour
	for name, tc := range map[string]struct {
		token, reason string
	}{
		"expired": {sign(t, key, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-hour).Unix() })), "token expired"},
		"no exp":  {sign(t, key, claims(func(c jwt.MapClaims) { delete(c, "exp") })), "lacks exp"},
		"nbf in the future": {
			sign(t, key, claims(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(hour).Unix() })), "not valid yet",
		},
		"wrong issuer":   {sign(t, key, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.org/" })), "wrong issuer"},
		"no issuer":      {sign(t, key, claims(func(c jwt.MapClaims) { delete(c, "iss") })), "lacks exp, iss or aud"},
		"wrong audience": {sign(t, key, claims(func(c jwt.MapClaims) { c["aud"] = []string{"other-api"} })), "wrong audience"},
		"exp a string":   {sign(t, key, claims(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })), "wrong type"},
		"no principal":   {sign(t, key, claims(func(c jwt.MapClaims) { delete(c, "sub") })), `principal claim "sub"`},
		"blank principal": {
			sign(t, key, claims(func(c jwt.MapClaims) { c["sub"] = "  " })), `principal claim "sub"`,
		},
		"principal a number": {sign(t, key, claims(func(c jwt.MapClaims) { c["sub"] = 42 })), `principal claim "sub"`},
		"scope a number":     {sign(t, key, claims(func(c jwt.MapClaims) { c["scope"] = 42 })), `bad claim "scope"`},
		"signed by a key not in the JWKS": {
			sign(t, testKey{kid: "rsa-2", alg: "RS256", signer: other.signer}, claims(nil)), "unknown signing key",
		},
		"known kid, other key": {
			sign(t, testKey{kid: "rsa-1", alg: "RS256", signer: other.signer}, claims(nil)), "signature invalid",
		},
		"alg none":     {noneToken(t, "rsa-1", claims(nil)), "signing algorithm not allowed"},
		"HS256 pubkey": {hs256WithPublicKey(t, key, claims(nil)), "signing algorithm not allowed"},
		"unknown alg":  {unknownAlgToken(t), "signing algorithm not allowed"},
		"garbage":      {"not.a.jwt", "malformed token"},
		"two parts":    {"eyJhbGciOiJSUzI1NiJ9.e30", "malformed token"},
		"empty":        {"", "no bearer token"},
		"huge":         {strings.Repeat("a", maxJWTLength+1), "too long"},
	} {
		t.Run(name, func(t *testing.T) { verifyFails(t, j, tc.token, ErrUnauthorized, tc.reason) })
	}
}

// noneToken returns an unsigned token (alg "none") with the kid of a key
// of the set.
func noneToken(t *testing.T, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unknownAlgToken returns a token whose alg no library knows.
func unknownAlgToken(t *testing.T) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	body, err := json.Marshal(claims(nil))
	if err != nil {
		t.Fatal(err)
	}
	return enc([]byte(`{"alg":"XYZ512","kid":"rsa-1","typ":"JWT"}`)) + "." + enc(body) + "." + enc([]byte("sig"))
}

// hs256WithPublicKey returns a token signed with HS256 keyed with the PEM
// of k's public key: the algorithm confusion attack.
func hs256WithPublicKey(t *testing.T, k testKey, c jwt.MapClaims) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWTScopes(t *testing.T) {
	key := newRSAKey(t, "rsa-1")
	j := newTestJWT(t, newJWKSServer(t, key).URL, JWTConfig{})
	for name, tc := range map[string]struct {
		edit func(jwt.MapClaims)
		want []string
	}{
		"scope string": {func(c jwt.MapClaims) { c["scope"] = "uid  fullstop.read" }, []string{"uid", "fullstop.read"}},
		"scp array": {func(c jwt.MapClaims) {
			delete(c, "scope")
			c["scp"] = []string{"uid", "fullstop.read"}
		}, []string{"uid", "fullstop.read"}},
		"scp string": {func(c jwt.MapClaims) {
			delete(c, "scope")
			c["scp"] = "uid fullstop.read"
		}, []string{"uid", "fullstop.read"}},
		"both": {func(c jwt.MapClaims) {
			c["scope"] = "uid"
			c["scp"] = []string{"uid", "fullstop.read"}
		}, []string{"uid", "fullstop.read"}},
		"none": {func(c jwt.MapClaims) { delete(c, "scope") }, nil},
	} {
		t.Run(name, func(t *testing.T) {
			p := verifyOK(t, j, sign(t, key, claims(tc.edit)))
			if !slices.Equal(p.Scopes, tc.want) {
				t.Errorf("scopes %q, want %q", p.Scopes, tc.want)
			}
		})
	}
}

func TestJWTCustomPrincipalClaim(t *testing.T) {
	key := newRSAKey(t, "rsa-1")
	j := newTestJWT(t, newJWKSServer(t, key).URL, JWTConfig{PrincipalClaim: "preferred_username"})
	p := verifyOK(t, j, sign(t, key, claims(func(c jwt.MapClaims) { c["preferred_username"] = "jane.doe" })))
	if p.UID != "jane.doe" {
		t.Errorf("UID %q, want the preferred_username", p.UID)
	}
	verifyFails(t, j, sign(t, key, claims(nil)), ErrUnauthorized, `principal claim "preferred_username"`)
}

func TestJWTKeyRotation(t *testing.T) {
	oldKey, newKey := newRSAKey(t, "2024"), newECKey(t, "2025")
	s := newJWKSServer(t, oldKey)
	j := newTestJWT(t, s.URL, JWTConfig{})
	verifyOK(t, j, sign(t, oldKey, claims(nil)))
	s.serve(newKey)
	verifyOK(t, j, sign(t, newKey, claims(nil)))
	verifyFails(t, j, sign(t, oldKey, claims(nil)), ErrUnauthorized, "unknown signing key")
	if n := s.fetches.Load(); n != 2 {
		t.Errorf("the JWKS was fetched %d times, want 2 (start, unknown kid)", n)
	}
}

func TestJWTPeriodicRefresh(t *testing.T) {
	oldKey, newKey := newRSAKey(t, "old"), newRSAKey(t, "new")
	s := newJWKSServer(t, oldKey)
	j := newTestJWT(t, s.URL, JWTConfig{RefreshInterval: 50 * time.Millisecond})
	s.serve(newKey)
	deadline := time.Now().Add(5 * time.Second)
	for s.fetches.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.fetches.Load(); n < 3 {
		t.Fatalf("the JWKS was fetched %d times in 5s with a 50ms refresh interval", n)
	}
	// The old key is gone without any token asking for an unknown kid.
	verifyFails(t, j, sign(t, oldKey, claims(nil)), ErrUnauthorized, "unknown signing key")
}

func TestJWTJWKSDownFromStart(t *testing.T) {
	key := newRSAKey(t, "rsa-1")
	s := newJWKSServer(t, key)
	url := s.URL
	s.Close()
	j := newTestJWT(t, url, JWTConfig{}) // starts all the same
	verifyFails(t, j, sign(t, key, claims(nil)), ErrUnavailable, "key set")
	// A second token finds the unknown-kid refresh rate limited: still 503.
	verifyFails(t, j, sign(t, key, claims(nil)), ErrUnavailable, "key set")
	// So does a token without a kid, checked against every key.
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(nil))
	noKID, err := tok.SignedString(key.signer)
	if err != nil {
		t.Fatal(err)
	}
	verifyFails(t, j, noKID, ErrUnavailable, "key set")
	// Tokens that fail before any key is needed are still refused.
	verifyFails(t, j, "not.a.jwt", ErrUnauthorized, "malformed")
	verifyFails(t, j, noneToken(t, "rsa-1", claims(nil)), ErrUnauthorized, "algorithm")
	verifyFails(t, j, unknownAlgToken(t), ErrUnauthorized, "algorithm")
}

func TestJWTJWKSBrokenFromStart(t *testing.T) {
	key := newRSAKey(t, "rsa-1")
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(s.Close)
	j := newTestJWT(t, s.URL, JWTConfig{})
	verifyFails(t, j, sign(t, key, claims(nil)), ErrUnavailable, "key set")
}

func TestJWTJWKSDownLater(t *testing.T) {
	key, rotated := newRSAKey(t, "rsa-1"), newRSAKey(t, "rsa-2")
	s := newJWKSServer(t, key)
	j := newTestJWT(t, s.URL, JWTConfig{})
	s.Close()
	// The loaded key still verifies its tokens.
	verifyOK(t, j, sign(t, key, claims(nil)))
	// A token of a key the set lacks needs a refresh, which fails: 503.
	verifyFails(t, j, sign(t, rotated, claims(nil)), ErrUnavailable, "key set")
}

func TestJWTKeyWithoutUseOrAlg(t *testing.T) {
	key := newRSAKey(t, "bare")
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		jwk := key.jwk()
		delete(jwk, "use")
		delete(jwk, "alg")
		_ = jsonEncode(w, map[string]any{"keys": []any{jwk}})
	}))
	t.Cleanup(s.Close)
	j := newTestJWT(t, s.URL, JWTConfig{})
	verifyOK(t, j, sign(t, key, claims(nil)))
}

func TestJWTEncryptionKeyRefused(t *testing.T) {
	key := newRSAKey(t, "enc-1")
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		jwk := key.jwk()
		jwk["use"] = "enc"
		delete(jwk, "alg")
		_ = jsonEncode(w, map[string]any{"keys": []any{jwk}})
	}))
	t.Cleanup(s.Close)
	j := newTestJWT(t, s.URL, JWTConfig{})
	verifyFails(t, j, sign(t, key, claims(nil)), ErrUnauthorized, "unknown signing key")
}

func TestNewJWTRejectsBadConfig(t *testing.T) {
	ok := JWTConfig{JWKSURL: "https://idp.example.org/keys", Issuer: testIssuer, Audience: testAudience}
	for name, edit := range map[string]func(*JWTConfig){
		"no JWKS URL":        func(c *JWTConfig) { c.JWKSURL = "" },
		"relative JWKS URL":  func(c *JWTConfig) { c.JWKSURL = "/keys" },
		"no issuer":          func(c *JWTConfig) { c.Issuer = " " },
		"no audience":        func(c *JWTConfig) { c.Audience = "" },
		"negative leeway":    func(c *JWTConfig) { c.Leeway = -time.Second },
		"negative refreshes": func(c *JWTConfig) { c.RefreshInterval = -time.Second },
	} {
		cfg := ok
		edit(&cfg)
		if _, err := NewJWT(context.Background(), cfg); err == nil {
			t.Errorf("%s: NewJWT accepted %+v", name, cfg)
		}
	}
}

func TestJWTConcurrentVerify(t *testing.T) {
	key, rotated := newRSAKey(t, "rsa-1"), newECKey(t, "ec-1")
	s := newJWKSServer(t, key)
	j := newTestJWT(t, s.URL, JWTConfig{RefreshInterval: 5 * time.Millisecond})
	good, late := sign(t, key, claims(nil)), sign(t, rotated, claims(nil))
	s.serve(key, rotated)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := j.Verify(context.Background(), good); err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
				_, _ = j.Verify(context.Background(), late) // valid once a refresh brought its key
			}
		})
	}
	wg.Wait()
}
