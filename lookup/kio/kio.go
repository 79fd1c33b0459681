package kio

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DefaultTimeout bounds a whole request of the client New creates when
// Config.HTTPClient is nil, as the reference's circuit breaker does (3 s).
const DefaultTimeout = 3 * time.Second

// MaxBodyBytes bounds the response body read; a larger body is an error.
const MaxBodyBytes = 1 << 20

// Config configures a Client.
type Config struct {
	// BaseURL is Kio's base URL (FULLSTOP_KIO_URL), an absolute http or
	// https URL without query or fragment; a path is kept as a prefix.
	BaseURL string
	// Token provides the service token sent as "Authorization: Bearer";
	// nil sends no Authorization header.
	Token oauth2.TokenSource
	// HTTPClient sends the requests; nil means a client with a timeout of
	// DefaultTimeout and bounded dial, TLS and response-header waits.
	HTTPClient *http.Client
}

// Client asks Kio for applications. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token oauth2.TokenSource
	http  *http.Client
}

// New returns a Client for cfg; it fails on an invalid base URL and does
// not contact Kio.
func New(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("kio: base URL: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = newDefaultClient()
	}
	return &Client{base: base, token: cfg.Token, http: hc}, nil
}

// parseBaseURL checks that raw is an absolute http or https URL with a
// host and neither query nor fragment.
func parseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("not set")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: the scheme must be http or https", u.Redacted())
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q: no host", u.Redacted())
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("%q: a base URL has no query or fragment", u.Redacted())
	}
	return u, nil
}

// newDefaultClient returns the client used when none is configured.
func newDefaultClient() *http.Client {
	dialer := &net.Dialer{Timeout: DefaultTimeout, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: DefaultTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   DefaultTimeout,
			ResponseHeaderTimeout: DefaultTimeout,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   10,
		},
	}
}
