package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// tokenInfoBody is the JSON of a token-info answer, e.g.
// {"uid":"jdoe","scope":["uid"],"realm":"/employees","expires_in":3599,...}.
type tokenInfoBody struct {
	UID       string   `json:"uid"`
	Scope     any      `json:"scope"`
	Realm     string   `json:"realm"`
	ExpiresIn *float64 `json:"expires_in"`
}

// ask sends token to the endpoint. It returns the answer with how long it
// may be cached, or an error wrapping ErrUnavailable when the endpoint
// gave no usable answer.
func (t *TokenInfo) ask(ctx context.Context, token string) (tokenInfoAnswer, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return tokenInfoAnswer{}, 0, fmt.Errorf("%w: token-info request: %w", ErrUnavailable, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return tokenInfoAnswer{}, 0, fmt.Errorf("%w: token-info did not answer: %w", ErrUnavailable, err)
	}
	defer drainAndClose(resp)

	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return t.rejected(fmt.Sprintf("token-info rejected the token (HTTP %d)", resp.StatusCode))
	default:
		return tokenInfoAnswer{}, 0, fmt.Errorf("%w: token-info answered HTTP %d", ErrUnavailable, resp.StatusCode)
	}

	var body tokenInfoBody
	if err := decodeJSON(resp, &body); err != nil {
		return tokenInfoAnswer{}, 0, fmt.Errorf("%w: token-info answered HTTP 200 with %w", ErrUnavailable, err)
	}
	scopes, err := parseScopes(body.Scope)
	if err != nil {
		return tokenInfoAnswer{}, 0, fmt.Errorf("%w: token-info answered HTTP 200 with bad scopes: %w", ErrUnavailable, err)
	}
	uid := strings.TrimSpace(body.UID)
	if uid == "" {
		return t.rejected("token-info knows no uid for the token")
	}
	ttl := t.cache.ttl
	if body.ExpiresIn != nil && *body.ExpiresIn < ttl.Seconds() {
		ttl = time.Duration(*body.ExpiresIn * float64(time.Second))
	}
	p := Principal{UID: uid, Realm: strings.TrimSpace(body.Realm), Scopes: scopes}
	return tokenInfoAnswer{principal: p}, ttl, nil
}

// rejected is the cacheable answer for a token the endpoint refused.
func (t *TokenInfo) rejected(reason string) (tokenInfoAnswer, time.Duration, error) {
	return tokenInfoAnswer{err: fmt.Errorf("%w: %s", ErrUnauthorized, reason)}, t.rejectTTL, nil
}
