package pierone

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/fullstop-audit/fullstop/lookup/httpjson"
)

// DefaultTimeout bounds a whole request of the client New creates when
// Config.HTTPClient is nil, as the reference's circuit breaker does (3 s).
const DefaultTimeout = httpjson.DefaultTimeout

// MaxBodyBytes bounds a response body read; a larger body is an error.
const MaxBodyBytes = httpjson.MaxBodyBytes

// StatusError is the error of a request a Pier One answered with a status
// other than 2xx and 404; callers may tell a 4xx from a 5xx with
// errors.As.
type StatusError = httpjson.StatusError

// Config configures Clients.
type Config struct {
	// URLs are the registries' base URLs (FULLSTOP_PIERONE_URLS split at
	// commas), absolute http or https URLs without query or fragment, of
	// distinct host names; blank entries are skipped and a path is kept
	// as a prefix. None at all is allowed: every registry is then unknown.
	URLs []string
	// Token provides the service token sent as "Authorization: Bearer" to
	// every registry; nil sends no Authorization header.
	Token oauth2.TokenSource
	// HTTPClient sends the requests; nil means a client with a timeout of
	// DefaultTimeout and bounded dial, TLS and response-header waits.
	HTTPClient *http.Client
}

// Clients asks the configured Pier One registries. It is safe for
// concurrent use.
type Clients struct {
	byHost map[string]*url.URL // lower-case host name → base URL
	http   httpjson.Client
}

// New returns Clients for cfg; it fails on an invalid or duplicate base
// URL and contacts no registry.
func New(cfg Config) (*Clients, error) {
	byHost := make(map[string]*url.URL, len(cfg.URLs))
	for i, raw := range cfg.URLs {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		base, err := httpjson.ParseBaseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("pierone: base URL #%d: %w", i+1, err)
		}
		host := strings.ToLower(base.Hostname())
		if prev, dup := byHost[host]; dup {
			return nil, fmt.Errorf("pierone: base URLs %q and %q have the same host %q", prev.Redacted(), base.Redacted(), host)
		}
		byHost[host] = base
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = httpjson.NewDefaultClient()
	}
	return &Clients{byHost: byHost, http: httpjson.Client{Name: "pierone", Token: cfg.Token, HTTP: hc}}, nil
}

// Registry reports whether registry (e.g. "registry.opensource.zalan.do"
// or "pierone.example.org:443") names a configured Pier One: its host
// name, without port, equals a base URL's host name, ignoring case.
func (c *Clients) Registry(registry string) bool {
	return c.base(registry) != nil
}

// base returns the base URL registry names, or nil.
func (c *Clients) base(registry string) *url.URL {
	host := registryHost(registry)
	if host == "" {
		return nil
	}
	return c.byHost[host]
}

// registryHost returns the lower-case host name of a registry string
// "host" or "host:port" ("[v6]" and "[v6]:port" too), or "" when it is
// none.
func registryHost(registry string) string {
	if registry == "" || strings.ContainsAny(registry, "/?#@ \t\r\n\\") {
		return ""
	}
	return strings.ToLower((&url.URL{Host: registry}).Hostname())
}
