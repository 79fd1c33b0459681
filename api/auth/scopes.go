package auth

import (
	"errors"
	"slices"
	"strings"
)

// errScopeType says a scope claim or field is neither a string nor an
// array of strings.
var errScopeType = errors.New("scopes are neither a space-separated string nor an array of strings")

// parseScopes reads a scope value as JSON decodes it: a space-separated
// string ("uid fullstop.read") or an array of strings. A missing value
// (nil) has no scopes.
func parseScopes(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.Fields(v), nil
	case []any:
		scopes := make([]string, 0, len(v))
		for _, s := range v {
			str, ok := s.(string)
			if !ok {
				return nil, errScopeType
			}
			scopes = append(scopes, strings.Fields(str)...)
		}
		return scopes, nil
	default:
		return nil, errScopeType
	}
}

// unionScopes returns the distinct scopes of all lists, in order of first
// appearance.
func unionScopes(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
