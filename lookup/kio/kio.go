package kio

import (
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/fullstop-audit/fullstop/lookup/httpjson"
)

// DefaultTimeout bounds a whole request of the client New creates when
// Config.HTTPClient is nil, as the reference's circuit breaker does (3 s).
const DefaultTimeout = httpjson.DefaultTimeout

// MaxBodyBytes bounds the response body read; a larger body is an error.
const MaxBodyBytes = httpjson.MaxBodyBytes

// StatusError is the error of a request Kio answered with a status other
// than 2xx and 404; callers may tell a 4xx from a 5xx with errors.As.
type StatusError = httpjson.StatusError

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
	base *url.URL
	http httpjson.Client
}

// New returns a Client for cfg; it fails on an invalid base URL and does
// not contact Kio.
func New(cfg Config) (*Client, error) {
	base, err := httpjson.ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("kio: base URL: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = httpjson.NewDefaultClient()
	}
	return &Client{base: base, http: httpjson.Client{Name: "kio", Token: cfg.Token, HTTP: hc}}, nil
}
