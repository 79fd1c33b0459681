package auth

import "errors"

// The classes of failure. Every error this package returns from a
// Verifier or a TeamService method wraps exactly one of them (test with
// errors.Is); the HTTP handlers map them to a status code.
var (
	// ErrUnauthorized means the token is missing, malformed, invalid or
	// expired (HTTP 401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden means the token is valid but lacks the base rights of
	// the API (HTTP 403).
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable means the identity provider or the team service did
	// not answer usefully; retrying later may succeed (HTTP 503).
	ErrUnavailable = errors.New("unavailable")
)
