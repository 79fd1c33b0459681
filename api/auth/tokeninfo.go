package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The defaults and bounds of TokenInfoConfig.
const (
	// DefaultTokenInfoTimeout is the timeout of the client TokenInfo
	// creates when none is configured.
	DefaultTokenInfoTimeout = 3 * time.Second
	// MaxTokenInfoCacheTTL is the default and the longest time a
	// token-info answer is cached.
	MaxTokenInfoCacheTTL = 60 * time.Second
	// DefaultTokenInfoCacheSize is the default number of tokens cached.
	DefaultTokenInfoCacheSize = 10000
	// tokenInfoRejectTTL is how long a rejected token stays rejected
	// without asking again, so that a client repeating a bad token does
	// not hammer the server.
	tokenInfoRejectTTL = 10 * time.Second
)

// TokenInfoConfig configures TokenInfo.
type TokenInfoConfig struct {
	// URL is the token-info endpoint (TOKEN_INFO_URI), e.g.
	// https://info.services.example.org/oauth2/tokeninfo.
	URL string
	// Client sends the requests; nil means a client with a timeout of
	// DefaultTokenInfoTimeout.
	Client *http.Client
	// CacheTTL is how long an answer is cached; zero means
	// MaxTokenInfoCacheTTL, longer values are shortened to it. An answer
	// is never cached beyond the token's expires_in.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached tokens; zero means
	// DefaultTokenInfoCacheSize.
	CacheSize int
}

// TokenInfo verifies opaque OAuth2 tokens with a token-info endpoint, as
// the reference's Spring configuration does, and applies the API's base
// rule: scope "uid" and realm "/employees" or "/services".
//
// Answers are cached under the SHA-256 of the token, never the token
// itself: valid tokens for min(CacheTTL, expires_in), rejected ones for
// ten seconds at most; failures to reach the endpoint are not cached.
type TokenInfo struct {
	url       string
	client    *http.Client
	cache     *ttlCache[[sha256.Size]byte, tokenInfoAnswer]
	rejectTTL time.Duration
}

// tokenInfoAnswer is what the endpoint said of a token: its principal, or
// why it refused it (an error wrapping ErrUnauthorized).
type tokenInfoAnswer struct {
	principal Principal
	err       error
}

// NewTokenInfo returns a TokenInfo for cfg; it fails on an invalid
// configuration and does not contact the endpoint.
func NewTokenInfo(cfg TokenInfoConfig) (*TokenInfo, error) {
	u, err := parseServiceURL("token-info URL", cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	ttl, size, err := cacheSettings("token-info", cfg.CacheTTL, MaxTokenInfoCacheTTL, cfg.CacheSize, DefaultTokenInfoCacheSize)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	ttl = min(ttl, MaxTokenInfoCacheTTL)
	return &TokenInfo{
		url:       u.String(),
		client:    clientOr(cfg.Client, DefaultTokenInfoTimeout),
		cache:     newTTLCache[[sha256.Size]byte, tokenInfoAnswer](size, ttl),
		rejectTTL: min(tokenInfoRejectTTL, ttl),
	}, nil
}

// Verify asks the token-info endpoint (or its cache) who token belongs to
// and checks the base rule of the API. A token that is blank, "None" or
// shorter than 30 characters is refused without asking.
func (t *TokenInfo) Verify(ctx context.Context, token string) (Principal, error) {
	token = strings.TrimSpace(token)
	if err := checkOpaqueToken(token); err != nil {
		return Principal{}, err
	}
	key := sha256.Sum256([]byte(token))
	answer, ok := t.cache.get(key)
	if !ok {
		var ttl time.Duration
		var err error
		answer, ttl, err = t.ask(ctx, token)
		if err != nil {
			return Principal{}, err
		}
		t.cache.add(key, answer, ttl)
	}
	if answer.err != nil {
		return Principal{}, answer.err
	}
	p := answer.principal
	p.Scopes = slices.Clone(p.Scopes)
	if err := checkBaseRights(p); err != nil {
		return Principal{}, err
	}
	return p, nil
}
