package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// validToken is a token long enough to be sent to token-info.
const validToken = "tok-0123456789abcdefghijklmnopqrstuvwxyz"

// tokenInfoServer is a token-info endpoint answering with answer and
// counting its calls.
type tokenInfoServer struct {
	*httptest.Server
	calls atomic.Int64
}

// newTokenInfoServer starts a token-info endpoint; answer writes the
// response for the bearer token of a request.
func newTokenInfoServer(t *testing.T, answer func(w http.ResponseWriter, token string)) *tokenInfoServer {
	t.Helper()
	s := &tokenInfoServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		if r.Method != http.MethodGet || r.URL.RawQuery != "" {
			http.Error(w, "want a GET without query", http.StatusMethodNotAllowed)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		answer(w, token)
	}))
	t.Cleanup(s.Close)
	return s
}

// employeeAnswer answers like Zalando's token-info for an employee token.
func employeeAnswer(w http.ResponseWriter, token string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"uid":"jdoe","scope":["uid","fullstop.violation.write"],"realm":"/employees",`+
		`"expires_in":3599,"token_type":"Bearer","access_token":%q,"grant_type":"password"}`, token)
}

// newTestTokenInfo returns a TokenInfo for s with cfg's other settings.
func newTestTokenInfo(t *testing.T, s *tokenInfoServer, cfg TokenInfoConfig) *TokenInfo {
	t.Helper()
	cfg.URL = s.URL + "/oauth2/tokeninfo"
	ti, err := NewTokenInfo(cfg)
	if err != nil {
		t.Fatalf("NewTokenInfo: %v", err)
	}
	return ti
}

// wantErr fails unless err wraps want, and if its text shows token.
func wantErr(t *testing.T, err, want error, token string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want one wrapping %v", err, want)
	}
	for _, other := range []error{ErrUnauthorized, ErrForbidden, ErrUnavailable} {
		if other != want && errors.Is(err, other) {
			t.Errorf("error %v wraps %v besides %v", err, other, want)
		}
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("error %q shows the token", err)
	}
}

func TestTokenInfoRefusesWithoutAsking(t *testing.T) {
	s := newTokenInfoServer(t, employeeAnswer)
	ti := newTestTokenInfo(t, s, TokenInfoConfig{})
	for _, token := range []string{
		"", "   ", "None", "none", "NONE",
		"short-token",
		strings.Repeat("x", minTokenLength-1),
		"tok-0123456789 abcdefghijklmnopqrstuvwxyz", // a space inside
		"tok-0123456789abcdefghijklmnopqrstuvwxyz\r\nX-Injected: 1",
	} {
		_, err := ti.Verify(context.Background(), token)
		wantErr(t, err, ErrUnauthorized, strings.TrimSpace(token))
	}
	if n := s.calls.Load(); n != 0 {
		t.Errorf("token-info got %d calls, want none", n)
	}
}

func TestTokenInfoValidToken(t *testing.T) {
	s := newTokenInfoServer(t, func(w http.ResponseWriter, token string) {
		if token != validToken {
			http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
			return
		}
		employeeAnswer(w, token)
	})
	ti := newTestTokenInfo(t, s, TokenInfoConfig{})
	p, err := ti.Verify(context.Background(), " "+validToken+" ")
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := Principal{UID: "jdoe", Realm: "/employees", Scopes: []string{"uid", "fullstop.violation.write"}}
	if p.UID != want.UID || p.Realm != want.Realm || !slices.Equal(p.Scopes, want.Scopes) || p.All {
		t.Errorf("Verify = %+v, want %+v", p, want)
	}
}

func TestTokenInfoServiceRealm(t *testing.T) {
	s := newTokenInfoServer(t, func(w http.ResponseWriter, _ string) {
		fmt.Fprint(w, `{"uid":"stups_fullstop","scope":["uid"],"realm":"/services","expires_in":600}`)
	})
	p, err := newTestTokenInfo(t, s, TokenInfoConfig{}).Verify(context.Background(), validToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p.UID != "stups_fullstop" || p.Realm != "/services" {
		t.Errorf("Verify = %+v", p)
	}
}

func TestTokenInfoForbidden(t *testing.T) {
	for name, body := range map[string]string{
		"no uid scope": `{"uid":"jdoe","scope":["fullstop.read"],"realm":"/employees","expires_in":3599}`,
		"no scope":     `{"uid":"jdoe","realm":"/employees","expires_in":3599}`,
		"wrong realm":  `{"uid":"jdoe","scope":["uid"],"realm":"/customers","expires_in":3599}`,
		"no realm":     `{"uid":"jdoe","scope":["uid"],"expires_in":3599}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := newTokenInfoServer(t, func(w http.ResponseWriter, _ string) { fmt.Fprint(w, body) })
			_, err := newTestTokenInfo(t, s, TokenInfoConfig{}).Verify(context.Background(), validToken)
			wantErr(t, err, ErrForbidden, validToken)
		})
	}
}

func TestTokenInfoUnauthorized(t *testing.T) {
	for name, answer := range map[string]func(http.ResponseWriter, string){
		"401": func(w http.ResponseWriter, _ string) {
			http.Error(w, `{"error":"invalid_token","error_description":"Access Token not valid"}`, http.StatusUnauthorized)
		},
		"400": func(w http.ResponseWriter, _ string) {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		},
		"403": func(w http.ResponseWriter, _ string) { http.Error(w, `{"error":"forbidden"}`, http.StatusForbidden) },
		"200 without uid": func(w http.ResponseWriter, _ string) {
			fmt.Fprint(w, `{"scope":["uid"],"realm":"/employees","expires_in":3599}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := newTokenInfoServer(t, answer)
			ti := newTestTokenInfo(t, s, TokenInfoConfig{})
			for range 3 {
				_, err := ti.Verify(context.Background(), validToken)
				wantErr(t, err, ErrUnauthorized, validToken)
			}
			if n := s.calls.Load(); n != 1 {
				t.Errorf("token-info got %d calls for a rejected token asked thrice, want 1 (the rejection is cached)", n)
			}
		})
	}
}

func TestTokenInfoUnavailable(t *testing.T) {
	status := func(code int) func(http.ResponseWriter, string) {
		return func(w http.ResponseWriter, _ string) { http.Error(w, "oops", code) }
	}
	for name, answer := range map[string]func(http.ResponseWriter, string){
		"500":          status(http.StatusInternalServerError),
		"502":          status(http.StatusBadGateway),
		"503":          status(http.StatusServiceUnavailable),
		"429":          status(http.StatusTooManyRequests),
		"404":          status(http.StatusNotFound),
		"bad JSON":     func(w http.ResponseWriter, _ string) { fmt.Fprint(w, `{"uid":"jdoe","scope":[`) },
		"not JSON":     func(w http.ResponseWriter, _ string) { fmt.Fprint(w, `<html>login</html>`) },
		"empty body":   func(http.ResponseWriter, string) {},
		"scope number": func(w http.ResponseWriter, _ string) { fmt.Fprint(w, `{"uid":"jdoe","scope":7}`) },
		"echoes token": func(w http.ResponseWriter, token string) { fmt.Fprintf(w, `{"uid":"jdoe","scope":%q`, token) },
	} {
		t.Run(name, func(t *testing.T) {
			s := newTokenInfoServer(t, answer)
			ti := newTestTokenInfo(t, s, TokenInfoConfig{})
			for range 2 {
				_, err := ti.Verify(context.Background(), validToken)
				wantErr(t, err, ErrUnavailable, validToken)
			}
			if n := s.calls.Load(); n != 2 {
				t.Errorf("token-info got %d calls for two failures, want 2 (failures are not cached)", n)
			}
		})
	}
}

func TestTokenInfoServerDown(t *testing.T) {
	s := newTokenInfoServer(t, employeeAnswer)
	ti := newTestTokenInfo(t, s, TokenInfoConfig{})
	s.Close()
	_, err := ti.Verify(context.Background(), validToken)
	wantErr(t, err, ErrUnavailable, validToken)
}

func TestTokenInfoTimeout(t *testing.T) {
	release := make(chan struct{})
	s := newTokenInfoServer(t, func(w http.ResponseWriter, token string) {
		<-release
		employeeAnswer(w, token)
	})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	ti := newTestTokenInfo(t, s, TokenInfoConfig{Client: &http.Client{Timeout: 100 * time.Millisecond}})
	start := time.Now()
	_, err := ti.Verify(context.Background(), validToken)
	wantErr(t, err, ErrUnavailable, validToken)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Verify took %s despite the 100ms timeout", d)
	}
}

func TestTokenInfoDefaultClientTimeout(t *testing.T) {
	ti, err := NewTokenInfo(TokenInfoConfig{URL: "https://tokeninfo.example.org/oauth2/tokeninfo"})
	if err != nil {
		t.Fatal(err)
	}
	if ti.client.Timeout != DefaultTokenInfoTimeout {
		t.Errorf("default client timeout %s, want %s", ti.client.Timeout, DefaultTokenInfoTimeout)
	}
}

func TestTokenInfoCache(t *testing.T) {
	s := newTokenInfoServer(t, employeeAnswer)
	ti := newTestTokenInfo(t, s, TokenInfoConfig{CacheTTL: 200 * time.Millisecond})
	ctx := context.Background()
	for range 2 {
		if _, err := ti.Verify(ctx, validToken); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("token-info got %d calls for two Verify, want 1", n)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := ti.Verify(ctx, validToken); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if n := s.calls.Load(); n != 2 {
		t.Errorf("token-info got %d calls after the TTL, want 2", n)
	}
}

func TestTokenInfoCacheHonoursExpiresIn(t *testing.T) {
	s := newTokenInfoServer(t, func(w http.ResponseWriter, _ string) {
		fmt.Fprint(w, `{"uid":"jdoe","scope":["uid"],"realm":"/employees","expires_in":0}`)
	})
	ti := newTestTokenInfo(t, s, TokenInfoConfig{})
	for range 2 {
		if _, err := ti.Verify(context.Background(), validToken); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	if n := s.calls.Load(); n != 2 {
		t.Errorf("token-info got %d calls for a token expiring now, want 2 (not cached)", n)
	}
}

func TestTokenInfoCacheReturnsCopies(t *testing.T) {
	s := newTokenInfoServer(t, employeeAnswer)
	ti := newTestTokenInfo(t, s, TokenInfoConfig{})
	p, err := ti.Verify(context.Background(), validToken)
	if err != nil {
		t.Fatal(err)
	}
	p.Scopes[0] = "tampered"
	p, err = ti.Verify(context.Background(), validToken)
	if err != nil || p.Scopes[0] != "uid" {
		t.Errorf("Verify after changing a returned principal = %+v, %v", p, err)
	}
}

func TestTokenInfoCacheBounded(t *testing.T) {
	s := newTokenInfoServer(t, employeeAnswer)
	ti := newTestTokenInfo(t, s, TokenInfoConfig{CacheSize: 3})
	for i := range 20 {
		if _, err := ti.Verify(context.Background(), fmt.Sprintf("%s-%02d", validToken, i)); err != nil {
			t.Fatal(err)
		}
		if n := ti.cache.len(); n > 3 {
			t.Fatalf("the cache holds %d entries, want at most 3", n)
		}
	}
}

func TestTokenInfoCacheTTLBounded(t *testing.T) {
	ti, err := NewTokenInfo(TokenInfoConfig{URL: "https://tokeninfo.example.org/", CacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if ti.cache.ttl != MaxTokenInfoCacheTTL {
		t.Errorf("cache TTL %s, want at most %s", ti.cache.ttl, MaxTokenInfoCacheTTL)
	}
}

func TestNewTokenInfoRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]TokenInfoConfig{
		"no URL":        {},
		"relative URL":  {URL: "/oauth2/tokeninfo"},
		"other scheme":  {URL: "ftp://tokeninfo.example.org/"},
		"negative TTL":  {URL: "https://tokeninfo.example.org/", CacheTTL: -time.Second},
		"negative size": {URL: "https://tokeninfo.example.org/", CacheSize: -1},
	} {
		if _, err := NewTokenInfo(cfg); err == nil {
			t.Errorf("%s: NewTokenInfo accepted %+v", name, cfg)
		}
	}
}

func TestTokenInfoConcurrentVerify(t *testing.T) {
	s := newTokenInfoServer(t, employeeAnswer)
	ti := newTestTokenInfo(t, s, TokenInfoConfig{CacheSize: 4, CacheTTL: 20 * time.Millisecond})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				token := fmt.Sprintf("%s-%d-%d", validToken, g, i%6)
				if p, err := ti.Verify(context.Background(), token); err != nil || p.UID != "jdoe" {
					t.Errorf("Verify = %+v, %v", p, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
