// Package httpjson is the GET-a-JSON-document client that fullstop's
// lookups of Zalando services (Kio, Pier One) share: the outgoing service
// token, bounded bodies, 404 as "not found", errors naming the request
// but never the token, and escaped path segments.
package httpjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// StatusError is the error of a request answered with a status other
// than 2xx and 404; callers may tell a 4xx from a 5xx with errors.As.
type StatusError struct {
	Method     string // the request method, GET
	URL        string // the request URL, password redacted
	StatusCode int    // the HTTP status code
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// Client sends the requests of one service. Name starts its errors.
type Client struct {
	Name  string
	Token oauth2.TokenSource // nil: no Authorization header
	HTTP  *http.Client       // nil: NewDefaultClient's
}

// Get sends GET u and decodes a 2xx body into v. It reports false, and no
// error, on a 404.
func (c *Client) Get(ctx context.Context, u *url.URL, v any) (bool, error) {
	where := http.MethodGet + " " + u.Redacted()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf(c.Name+": %s: %w", where, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != nil {
		tok, err := c.Token.Token()
		if err != nil {
			return false, fmt.Errorf(c.Name+": %s: no service token: %w", where, err)
		}
		if tok == nil || tok.AccessToken == "" {
			return false, fmt.Errorf(c.Name+": %s: the service token is empty", where)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, fmt.Errorf(c.Name+": %s: %w", where, unwrapURLError(err))
	}
	defer drainAndClose(resp)

	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return false, fmt.Errorf("%s: %w", c.Name, &StatusError{Method: http.MethodGet, URL: u.Redacted(), StatusCode: resp.StatusCode})
	}
	if err := decodeBody(resp.Body, v); err != nil {
		return false, fmt.Errorf(c.Name+": %s: HTTP %d: %w", where, resp.StatusCode, err)
	}
	return true, nil
}

// decodeBody reads at most MaxBodyBytes of body and decodes them as one
// JSON value into v.
func decodeBody(body io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(body, MaxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("reading the body: %w", unwrapURLError(err))
	}
	if len(b) > MaxBodyBytes {
		return fmt.Errorf("the body is larger than %d bytes", MaxBodyBytes)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("undecodable JSON body: %w", err)
	}
	return nil
}

// drainAndClose discards a bounded rest of a response body, so that the
// connection can be reused, and closes it.
func drainAndClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBodyBytes))
	_ = resp.Body.Close()
}

// unwrapURLError returns the cause of a *url.Error, whose text repeats
// the request the caller already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// JoinPath returns base with the path segments segs appended, each
// path-escaped; base's trailing slashes are dropped first.
func JoinPath(base *url.URL, segs ...string) *url.URL {
	escaped := strings.TrimRight(base.EscapedPath(), "/")
	for _, s := range segs {
		escaped += "/" + url.PathEscape(s)
	}
	u := *base
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	u.Path, u.RawPath = unescapePath(escaped), escaped
	return &u
}

// unescapePath unescapes a path built by JoinPath; it cannot fail on
// one, and returns p unchanged if it did.
func unescapePath(p string) string {
	s, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return s
}

// ValidSegments reports whether every one of segs can name a resource in
// a path: not empty, "." or "..".
func ValidSegments(segs ...string) bool {
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return false
		}
	}
	return true
}

// ParseBaseURL checks that raw is an absolute http or https URL with a
// host and neither query nor fragment.
func ParseBaseURL(raw string) (*url.URL, error) {
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

// NewDefaultClient returns a client with a timeout of DefaultTimeout and
// bounded dial, TLS and response-header waits.
func NewDefaultClient() *http.Client {
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

var defaultClient = NewDefaultClient()

// DefaultTimeout bounds a whole request of NewDefaultClient's client, as
// the reference's circuit breaker does (3 s).
const DefaultTimeout = 3 * time.Second

// MaxBodyBytes bounds the response body read; a larger body is an error.
const MaxBodyBytes = 1 << 20
