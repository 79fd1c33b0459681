package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/oauth2"
)

// The limits of CredentialsToken.
const (
	// credentialsTimeout is the timeout of the client asking for tokens
	// when the context carries none.
	credentialsTimeout = 10 * time.Second
	// credentialsTokenLifetime is how long a token answered without
	// expires_in is used.
	credentialsTokenLifetime = time.Hour
	// maxCredentialsFileBytes bounds the size of client.json and user.json.
	maxCredentialsFileBytes = 64 << 10
)

// CredentialsToken returns a token source for the reference's STUPS
// scheme: it obtains tokens from tokenURI (ACCESS_TOKEN_URI) with the
// OAuth2 resource-owner password grant, the client credentials of
// credentialsDir/client.json ({"client_id":…, "client_secret":…}, sent in
// a Basic Authorization header) and the user of credentialsDir/user.json
// ({"application_username":…, "application_password":…}).
//
// The files are read again for every new token (they rotate); a token is
// reused until shortly before it expires, an hour at most when the
// endpoint gives no expires_in. ctx must outlive the token source; it
// carries the HTTP client (oauth2.HTTPClient), which defaults to one with
// a 10 s timeout.
func CredentialsToken(ctx context.Context, tokenURI, credentialsDir string, scopes []string) oauth2.TokenSource {
	if _, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); !ok {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: credentialsTimeout})
	}
	return oauth2.ReuseTokenSource(nil, &credentialsSource{
		ctx:      ctx,
		tokenURI: tokenURI,
		dir:      credentialsDir,
		scopes:   scopes,
	})
}

// credentialsSource obtains one new token per call of Token.
type credentialsSource struct {
	ctx      context.Context
	tokenURI string
	dir      string
	scopes   []string
}

// clientCredentials is credentialsDir/client.json.
type clientCredentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// userCredentials is credentialsDir/user.json.
type userCredentials struct {
	Username string `json:"application_username"`
	Password string `json:"application_password"`
}

// Token reads the credentials and asks the token endpoint for a token.
func (s *credentialsSource) Token() (*oauth2.Token, error) {
	var client clientCredentials
	if err := readCredentials(filepath.Join(s.dir, "client.json"), &client); err != nil {
		return nil, err
	}
	if client.ClientID == "" || client.ClientSecret == "" {
		return nil, fmt.Errorf("service credentials %s: client_id or client_secret is missing", filepath.Join(s.dir, "client.json"))
	}
	var user userCredentials
	if err := readCredentials(filepath.Join(s.dir, "user.json"), &user); err != nil {
		return nil, err
	}
	if user.Username == "" || user.Password == "" {
		return nil, fmt.Errorf("service credentials %s: application_username or application_password is missing", filepath.Join(s.dir, "user.json"))
	}
	cfg := oauth2.Config{
		ClientID:     client.ClientID,
		ClientSecret: client.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: s.tokenURI, AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:       s.scopes,
	}
	tok, err := cfg.PasswordCredentialsToken(s.ctx, user.Username, user.Password)
	if err != nil {
		return nil, fmt.Errorf("service token from %s: %w", redactedURL(s.tokenURI), err)
	}
	if tok.Expiry.IsZero() {
		tok.Expiry = time.Now().Add(credentialsTokenLifetime)
	}
	return tok, nil
}

// readCredentials decodes the JSON file at path into v.
func readCredentials(path string, v any) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("service credentials: %w", err)
	}
	if fi.Size() > maxCredentialsFileBytes {
		return fmt.Errorf("service credentials %s: larger than %d bytes", path, maxCredentialsFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("service credentials: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("service credentials %s: %w", path, err)
	}
	return nil
}

// redactedURL is raw with any password replaced, for error messages.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the configured token URI"
	}
	return u.Redacted()
}
