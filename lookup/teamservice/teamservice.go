// Package teamservice lists the AWS accounts of the organisation from the
// team service (GET {base}/api/accounts/aws), for the scheduled scans: the
// ids of the accounts that are not disabled, cached for a minute as in the
// reference.
package teamservice

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/fullstop-audit/fullstop/lookup/httpjson"
)

// DefaultTTL is how long the account list is kept.
const DefaultTTL = time.Minute

// Config configures Accounts.
type Config struct {
	BaseURL    string             // FULLSTOP_TEAM_SERVICE_URL
	Token      oauth2.TokenSource // the service token; nil sends none
	HTTPClient *http.Client       // nil: httpjson's default client
	TTL        time.Duration      // default DefaultTTL
}

// Accounts is the team service's list of AWS accounts.
type Accounts struct {
	cfg  Config
	http httpjson.Client
	base *url.URL

	mu  sync.Mutex
	ids []string
	at  time.Time
	now func() time.Time
}

// New returns Accounts for cfg; it does not contact the team service.
func New(cfg Config) (*Accounts, error) {
	base, err := httpjson.ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("team service: base URL: %w", err)
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = httpjson.NewDefaultClient()
	}
	return &Accounts{cfg: cfg, http: httpjson.Client{Name: "team service", Token: cfg.Token, HTTP: hc},
		base: base, now: time.Now}, nil
}

type account struct {
	ID       string `json:"id"`
	Disabled bool   `json:"disabled"`
}

// Accounts returns the ids of the enabled AWS accounts, sorted.
func (a *Accounts) Accounts(ctx context.Context) ([]string, error) {
	a.mu.Lock()
	if a.ids != nil && a.now().Sub(a.at) < a.cfg.TTL {
		defer a.mu.Unlock()
		return slices.Clone(a.ids), nil
	}
	a.mu.Unlock()
	var list []account
	u := httpjson.JoinPath(a.base, "api", "accounts", "aws")
	found, err := a.http.Get(ctx, u, &list)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("team service: GET %s: not found", u.Redacted())
	}
	ids := []string{}
	for _, acc := range list {
		if id := strings.TrimSpace(acc.ID); id != "" && !acc.Disabled && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	a.mu.Lock()
	a.ids, a.at = ids, a.now()
	a.mu.Unlock()
	return slices.Clone(ids), nil
}
