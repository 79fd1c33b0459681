package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// The defaults of TeamServiceConfig.
const (
	// DefaultTeamServiceTimeout is the timeout of the client TeamService
	// creates when none is configured.
	DefaultTeamServiceTimeout = 3 * time.Second
	// DefaultTeamServiceCacheTTL is how long answers are cached by
	// default.
	DefaultTeamServiceCacheTTL = 60 * time.Second
	// DefaultTeamServiceCacheSize is the default number of principals
	// cached, per question.
	DefaultTeamServiceCacheSize = 10000
)

// DefaultTeamServiceRoles are the account roles that let a principal
// resolve the violations of an account, as in the reference.
var DefaultTeamServiceRoles = []string{"PowerUser", "Deployer"}

// TeamServiceConfig configures TeamService.
type TeamServiceConfig struct {
	// URL is the team service's base URL (FULLSTOP_TEAM_SERVICE_URL).
	URL string
	// Roles are the account roles asked for; empty means
	// DefaultTeamServiceRoles.
	Roles []string
	// Token provides the service token sent as "Authorization: Bearer";
	// nil sends no Authorization header.
	Token oauth2.TokenSource
	// Client sends the requests; nil means a client with a timeout of
	// DefaultTeamServiceTimeout.
	Client *http.Client
	// CacheTTL is how long an answer is cached; zero means
	// DefaultTeamServiceCacheTTL.
	CacheTTL time.Duration
	// CacheSize bounds the number of principals cached; zero means
	// DefaultTeamServiceCacheSize.
	CacheSize int
}

// TeamService asks a team service which AWS accounts and teams a
// principal belongs to. Answers are cached per principal; errors are not.
// Its errors wrap ErrUnavailable.
type TeamService struct {
	base     *url.URL
	roles    []string
	token    oauth2.TokenSource
	client   *http.Client
	ttl      time.Duration
	accounts *ttlCache[string, []string]
	teams    *ttlCache[string, []string]
}

// NewTeamService returns a TeamService for cfg; it fails on an invalid
// configuration and does not contact the service.
func NewTeamService(cfg TeamServiceConfig) (*TeamService, error) {
	base, err := parseServiceURL("team service URL", cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	ttl, size, err := cacheSettings("team service", cfg.CacheTTL, DefaultTeamServiceCacheTTL, cfg.CacheSize, DefaultTeamServiceCacheSize)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	roles := cfg.Roles
	if len(roles) == 0 {
		roles = DefaultTeamServiceRoles
	}
	roles = distinctSorted(roles)
	if len(roles) == 0 {
		return nil, fmt.Errorf("auth: the team service roles are all blank")
	}
	return &TeamService{
		base:     base,
		roles:    roles,
		token:    cfg.Token,
		client:   clientOr(cfg.Client, DefaultTeamServiceTimeout),
		ttl:      ttl,
		accounts: newTTLCache[string, []string](size, ttl),
		teams:    newTTLCache[string, []string](size, ttl),
	}, nil
}

// Accounts returns the sorted ids of the AWS accounts in which uid holds
// one of the configured roles: the union of
// GET {URL}/api/accounts/aws?member={uid}&role={role} over the roles.
func (t *TeamService) Accounts(ctx context.Context, uid string) ([]string, error) {
	uid = strings.TrimSpace(uid)
	if uid == "" {
		return []string{}, nil
	}
	if ids, ok := t.accounts.get(uid); ok {
		return slices.Clone(ids), nil
	}
	var all []string
	for _, role := range t.roles {
		ids, err := t.getIDs(ctx, "api/accounts/aws", url.Values{"member": {uid}, "role": {role}})
		if err != nil {
			return nil, err
		}
		all = append(all, ids...)
	}
	all = distinctSorted(all)
	t.accounts.add(uid, all, t.ttl)
	return slices.Clone(all), nil
}

// Teams returns the sorted ids of the teams uid is a member of:
// GET {URL}/api/teams?member={uid}.
func (t *TeamService) Teams(ctx context.Context, uid string) ([]string, error) {
	uid = strings.TrimSpace(uid)
	if uid == "" {
		return []string{}, nil
	}
	if ids, ok := t.teams.get(uid); ok {
		return slices.Clone(ids), nil
	}
	ids, err := t.getIDs(ctx, "api/teams", url.Values{"member": {uid}})
	if err != nil {
		return nil, err
	}
	ids = distinctSorted(ids)
	t.teams.add(uid, ids, t.ttl)
	return slices.Clone(ids), nil
}

// distinctSorted returns the distinct non-blank values of ids, trimmed
// and sorted; never nil.
func distinctSorted(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
