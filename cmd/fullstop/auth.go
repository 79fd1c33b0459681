package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/oauth2"

	"github.com/fullstop-audit/fullstop/api"
	"github.com/fullstop-audit/fullstop/api/auth"
)

// The authentication modes of serve.
const (
	authTokenInfo = "tokeninfo"
	authJWT       = "jwt"
	authNone      = "none"
)

func authFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "auth", EnvVars: []string{"FULLSTOP_AUTH"}, Usage: "how API callers are authenticated: tokeninfo, jwt or none (loopback --listen only); required"},
		&cli.StringFlag{Name: "token-info-url", EnvVars: []string{"TOKEN_INFO_URI"}, Usage: "token-info endpoint that validates bearer tokens (--auth tokeninfo)"},
		&cli.StringFlag{Name: "jwks-url", EnvVars: []string{"FULLSTOP_JWKS_URL"}, Usage: "JSON Web Key Set of the identity provider (--auth jwt)"},
		&cli.StringFlag{Name: "jwt-issuer", EnvVars: []string{"FULLSTOP_JWT_ISSUER"}, Usage: "required iss of tokens (--auth jwt)"},
		&cli.StringFlag{Name: "jwt-audience", EnvVars: []string{"FULLSTOP_JWT_AUDIENCE"}, Usage: "required aud of tokens (--auth jwt)"},
		&cli.StringFlag{Name: "jwt-principal-claim", Value: auth.DefaultPrincipalClaim, EnvVars: []string{"FULLSTOP_JWT_PRINCIPAL_CLAIM"}, Usage: "claim naming the caller (--auth jwt)"},
		&cli.StringFlag{Name: "team-service-url", EnvVars: []string{"FULLSTOP_TEAM_SERVICE_URL"}, Usage: "team service that says which accounts and teams a caller has (resolving, whitelisting rules)"},
		&cli.StringFlag{Name: "team-service-roles", Value: strings.Join(auth.DefaultTeamServiceRoles, ","), EnvVars: []string{"FULLSTOP_TEAM_SERVICE_AWS_MEMBERSHIP_ROLES"}, Usage: "account roles that may resolve violations of the account"},
		&cli.StringFlag{Name: "whitelist-allowed-teams", Value: "stups", EnvVars: []string{"FULLSTOP_WHITELIST_ALLOWED_TEAMS"}, Usage: "comma list of teams that may manage whitelisting rules"},
	}
}

// serviceTokenFlags are the outgoing service token's flags, on every
// command that calls the team service, Kio or Pier One.
func serviceTokenFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "service-token", EnvVars: []string{"FULLSTOP_SERVICE_TOKEN"}, Usage: "bearer token fullstop sends to the team service, Kio and Pier One"},
		&cli.StringFlag{Name: "service-token-file", EnvVars: []string{"FULLSTOP_SERVICE_TOKEN_FILE"}, Usage: "file holding that token, read again when it changes"},
		&cli.StringFlag{Name: "access-token-url", EnvVars: []string{"ACCESS_TOKEN_URI"}, Usage: "OAuth2 token endpoint for the service token, with --credentials-dir (the reference's scheme)"},
		&cli.StringFlag{Name: "credentials-dir", EnvVars: []string{"CREDENTIALS_DIR"}, Usage: "folder with client.json and user.json for --access-token-url"},
	}
}

// authSetup is the authentication configuration of serve.
type authSetup struct {
	mode         string
	tokenInfo    auth.TokenInfoConfig
	jwt          auth.JWTConfig
	teams        *auth.TeamServiceConfig
	allowedTeams []string
}

// readAuth reads and checks the authentication flags.
func readAuth(c *cli.Context) (*authSetup, error) {
	as := &authSetup{mode: strings.ToLower(strings.TrimSpace(c.String("auth"))), allowedTeams: splitList(c.String("whitelist-allowed-teams"))}
	switch as.mode {
	case "":
		return nil, usagef("serve needs --auth (FULLSTOP_AUTH): tokeninfo, jwt, or none for local use")
	case authTokenInfo:
		as.tokenInfo = auth.TokenInfoConfig{URL: c.String("token-info-url")}
		if as.tokenInfo.URL == "" {
			return nil, usagef("--auth tokeninfo needs --token-info-url (TOKEN_INFO_URI)")
		}
	case authJWT:
		as.jwt = auth.JWTConfig{JWKSURL: c.String("jwks-url"), Issuer: c.String("jwt-issuer"),
			Audience: c.String("jwt-audience"), PrincipalClaim: c.String("jwt-principal-claim")}
		for _, f := range []struct{ v, name string }{{as.jwt.JWKSURL, "--jwks-url (FULLSTOP_JWKS_URL)"},
			{as.jwt.Issuer, "--jwt-issuer (FULLSTOP_JWT_ISSUER)"}, {as.jwt.Audience, "--jwt-audience (FULLSTOP_JWT_AUDIENCE)"}} {
			if f.v == "" {
				return nil, usagef("--auth jwt needs %s", f.name)
			}
		}
	case authNone:
	default:
		return nil, usagef("--auth (FULLSTOP_AUTH) must be tokeninfo, jwt or none, not %q", c.String("auth"))
	}
	token, err := serviceToken(c)
	if err != nil {
		return nil, err
	}
	if u := c.String("team-service-url"); u != "" {
		as.teams = &auth.TeamServiceConfig{URL: u, Roles: splitList(c.String("team-service-roles")), Token: token}
	}
	return as, nil
}

// serviceToken returns the token source of outgoing calls, nil for none.
func serviceToken(c *cli.Context) (oauth2.TokenSource, error) {
	static, file, uri, dir := c.String("service-token"), c.String("service-token-file"), c.String("access-token-url"), c.String("credentials-dir")
	given := 0
	for _, v := range []string{static, file, uri} {
		if v != "" {
			given++
		}
	}
	switch {
	case given > 1:
		return nil, usagef("give one of --service-token, --service-token-file and --access-token-url")
	case static != "":
		return auth.StaticToken(static), nil
	case file != "":
		return auth.FileToken(file), nil
	case uri != "":
		if dir == "" {
			return nil, usagef("--access-token-url (ACCESS_TOKEN_URI) needs --credentials-dir (CREDENTIALS_DIR)")
		}
		return auth.CredentialsToken(c.Context, uri, dir, []string{"uid"}), nil
	}
	return nil, nil
}

// open builds the verifier and the rights checker.
func (as *authSetup) open(ctx context.Context) (api.Verifier, api.Rights, error) {
	var rights api.Rights
	if as.teams != nil {
		ts, err := auth.NewTeamService(*as.teams)
		if err != nil {
			return nil, nil, usagef("--team-service-url (FULLSTOP_TEAM_SERVICE_URL): %v", err)
		}
		rights = ts
	}
	switch as.mode {
	case authTokenInfo:
		v, err := auth.NewTokenInfo(as.tokenInfo)
		if err != nil {
			return nil, nil, usagef("--token-info-url (TOKEN_INFO_URI): %v", err)
		}
		return v, rights, nil
	case authJWT:
		v, err := auth.NewJWT(ctx, as.jwt)
		if err != nil {
			return nil, nil, usagef("--auth jwt: %v", err)
		}
		return v, rights, nil
	case authNone:
		return auth.None{}, rights, nil
	}
	return nil, nil, fmt.Errorf("unknown auth mode %q", as.mode)
}
