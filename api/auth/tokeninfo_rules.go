package auth

import (
	"fmt"
	"strings"
)

// minTokenLength is the length below which the reference refuses a token
// without asking token-info.
const minTokenLength = 30

// uidScope is the scope every principal of the API needs.
const uidScope = "uid"

// apiRealms are the token-info realms whose principals may use the API.
var apiRealms = []string{"/employees", "/services"}

// checkOpaqueToken refuses, with an error wrapping ErrUnauthorized, a
// token that the reference would not send to token-info (blank, "None" or
// shorter than 30 characters) and one that cannot be sent in a header.
func checkOpaqueToken(token string) error {
	switch {
	case token == "" || strings.EqualFold(token, "None"):
		return fmt.Errorf("%w: no bearer token", ErrUnauthorized)
	case len(token) < minTokenLength:
		return fmt.Errorf("%w: bearer token too short", ErrUnauthorized)
	}
	for i := range len(token) {
		if c := token[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("%w: malformed bearer token", ErrUnauthorized)
		}
	}
	return nil
}

// checkBaseRights applies the access rule of /api/**: scope "uid" and
// realm "/employees" or "/services"; it returns an error wrapping
// ErrForbidden otherwise.
func checkBaseRights(p Principal) error {
	if !p.HasScope(uidScope) {
		return fmt.Errorf("%w: the token lacks the scope %q", ErrForbidden, uidScope)
	}
	for _, r := range apiRealms {
		if p.Realm == r {
			return nil
		}
	}
	return fmt.Errorf("%w: the realm %q may not use the API", ErrForbidden, p.Realm)
}
