package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// probeKID is a key id no identity provider uses: reading it makes jwkset
// fetch the key set again (rate limited), for tokens without a "kid".
const probeKID = "fullstop-auth-probe"

// Verify checks the signature and the claims of token and returns the
// principal it names, with the scopes of its "scope" and "scp" claims.
func (j *JWT) Verify(ctx context.Context, token string) (Principal, error) {
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		return Principal{}, fmt.Errorf("%w: no bearer token", ErrUnauthorized)
	case len(token) > maxJWTLength:
		return Principal{}, fmt.Errorf("%w: token too long", ErrUnauthorized)
	}
	claims := jwt.MapClaims{}
	parsed, err := j.parser.ParseWithClaims(token, claims, j.keyfunc(ctx))
	if err != nil {
		return Principal{}, j.refusal(parsed, err)
	}
	uid, _ := claims[j.principalClaim].(string)
	uid = strings.TrimSpace(uid) // as token-info's uid, and the team service's lookups
	if uid == "" {
		return Principal{}, fmt.Errorf("%w: the token has no principal claim %q", ErrUnauthorized, j.principalClaim)
	}
	scope, err := parseScopes(claims["scope"])
	if err != nil {
		return Principal{}, fmt.Errorf("%w: bad claim \"scope\": %w", ErrUnauthorized, err)
	}
	scp, err := parseScopes(claims["scp"])
	if err != nil {
		return Principal{}, fmt.Errorf("%w: bad claim \"scp\": %w", ErrUnauthorized, err)
	}
	return Principal{UID: uid, Scopes: unionScopes(scope, scp)}, nil
}

// keyfunc returns the key lookup of one verification. A token without a
// key id is checked against every key of the set, which fetches nothing;
// so when the set is not known, it first asks for the probe key id, which
// fetches the set if the rate limit allows.
func (j *JWT) keyfunc(ctx context.Context) jwt.Keyfunc {
	lookup := j.keys.KeyfuncCtx(ctx)
	return func(t *jwt.Token) (any, error) {
		if _, ok := t.Header[jwkset.HeaderKID]; !ok && j.health.problem() != nil {
			_, _ = j.storage.KeyRead(ctx, probeKID)
		}
		return lookup(t)
	}
}

// refusal turns a failed parse into the error returned: ErrUnavailable
// when no key was found for the token while the key set is not known,
// else ErrUnauthorized with a short reason.
func (j *JWT) refusal(parsed *jwt.Token, err error) error {
	var reason string
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		reason = "malformed token"
	case parsed == nil || parsed.Method == nil || !slices.Contains(jwtAlgorithms, parsed.Method.Alg()):
		reason = "signing algorithm not allowed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// The algorithm is known and allowed: the key lookup failed.
		if problem := j.health.problem(); problem != nil {
			return fmt.Errorf("%w: cannot fetch the identity provider's key set: %w", ErrUnavailable, problem)
		}
		reason = "unknown signing key"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		reason = "signature invalid"
	case errors.Is(err, jwt.ErrTokenExpired):
		reason = "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		reason = "token not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		reason = "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		reason = "wrong audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		reason = "the token lacks exp, iss or aud"
	case errors.Is(err, jwt.ErrInvalidType):
		reason = "a claim has the wrong type"
	default:
		reason = "invalid token"
	}
	return fmt.Errorf("%w: %s", ErrUnauthorized, reason)
}
