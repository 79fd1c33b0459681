package auth

import "slices"

// Principal is who made a request.
type Principal struct {
	// UID is the principal's id: the "uid" of a token-info answer, or the
	// configured claim of a JWT.
	UID string
	// Realm is the token-info realm ("/employees", "/services"); it is
	// empty for a JWT.
	Realm string
	// Scopes are the token's scopes.
	Scopes []string
	// All grants every right (the API runs with --auth none).
	All bool
}

// HasScope reports whether the principal holds scope s; it is always true
// when the principal has every right.
func (p Principal) HasScope(s string) bool {
	return p.All || slices.Contains(p.Scopes, s)
}
