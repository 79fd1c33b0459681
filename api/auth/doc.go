// Package auth authenticates the requests of fullstop's REST API and checks
// the rights of their principals.
//
// Every request carries "Authorization: Bearer <token>". A Verifier turns
// the token into a Principal: TokenInfo asks a Zalando-style token-info
// endpoint (the reference's scheme), JWT checks a signed JSON Web Token
// against the key set of an identity provider (Okta, Entra ID, Keycloak,
// Auth0, ...), and None lets every request through with every right, for
// local use.
//
// TeamService answers which AWS accounts and which teams a principal
// belongs to, which decides who may resolve a violation of an account and
// who may edit a whitelist. StaticToken, FileToken and CredentialsToken
// provide the service token it sends.
//
// Every error returned by a Verifier or by TeamService wraps exactly one of
// ErrUnauthorized, ErrForbidden and ErrUnavailable; its text may be shown
// to the client and never contains a token.
package auth
