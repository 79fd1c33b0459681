package auth

import (
	"errors"
	"strings"

	"golang.org/x/oauth2"
)

// StaticToken returns a token source that always provides token
// (FULLSTOP_SERVICE_TOKEN), trimmed; an empty token is an error when it is
// asked for.
func StaticToken(token string) oauth2.TokenSource {
	return staticToken(strings.TrimSpace(token))
}

// staticToken is the token source of StaticToken.
type staticToken string

// Token returns the token.
func (s staticToken) Token() (*oauth2.Token, error) {
	if s == "" {
		return nil, errors.New("the service token is empty")
	}
	return &oauth2.Token{AccessToken: string(s), TokenType: "Bearer"}, nil
}
