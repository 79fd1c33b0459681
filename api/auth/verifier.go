package auth

import "context"

// Verifier turns the bearer token of a request into its Principal.
//
// Verify returns an error wrapping ErrUnauthorized, ErrForbidden or
// ErrUnavailable when the token does not identify a principal with the
// base rights of the API. The token is given without the "Bearer " prefix
// and may be empty when the request carried none.
type Verifier interface {
	Verify(ctx context.Context, token string) (Principal, error)
}

// The verifiers of this package.
var (
	_ Verifier = (*TokenInfo)(nil)
	_ Verifier = (*JWT)(nil)
	_ Verifier = None{}
)
