// Package client is a typed Go client of fullstop's REST API (package api):
// the violation, violation-type, count and whitelisting-rule endpoints,
// with the wire types of package api.
//
// A non-2xx answer is an *Error carrying the server's problem details; a
// server that cannot be reached or does not answer in time is an error
// naming the URL and wrapping the cause. The bearer token is never logged
// nor put in an error.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/api"
)

// DefaultTimeout is the per-request timeout when Config.Timeout is 0, as
// the reference's client.
const DefaultTimeout = 30 * time.Second

// MaxPageSize is the largest page the server gives.
const MaxPageSize = 1000

// maxBody bounds the answer read into memory.
const maxBody = 256 << 20

// timeLayout is how times are sent: RFC 3339, UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Config configures a Client.
type Config struct {
	URL string // base URL, e.g. https://fullstop.example.org (a path prefix is kept)
	// Token returns the bearer token sent with every request; nil sends
	// no Authorization header. It is called once per request.
	Token   func(ctx context.Context) (string, error)
	HTTP    *http.Client  // nil: a client with Timeout
	Timeout time.Duration // per request, the answer's body included; default DefaultTimeout
}

// Client speaks fullstop's REST API. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	token   func(ctx context.Context) (string, error)
	http    *http.Client
	timeout time.Duration
}

// New returns a client of the API at cfg.URL: an http or https URL with a
// host, without query or fragment.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, errors.New("fullstop client: the URL is empty")
	}
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil {
		return nil, fmt.Errorf("fullstop client: URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("fullstop client: URL %s: the scheme must be http or https", u.Redacted())
	case u.Host == "":
		return nil, fmt.Errorf("fullstop client: URL %s has no host", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("fullstop client: URL %s: a base URL has no query or fragment", u.Redacted())
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("fullstop client: negative timeout %v", cfg.Timeout)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: timeout}
	}
	return &Client{base: u, token: cfg.Token, http: hc, timeout: timeout}, nil
}

// Error is a non-2xx answer of the server.
type Error struct {
	Status int // the HTTP status
	// Message is the problem's Detail, else its Title, else (the answer is
	// no problem) the body's first 200 bytes.
	Message string
	Problem *api.Problem // nil when the body is not a problem
}

// Error returns "status text: message", e.g. "404 Not Found: violation 7
// does not exist".
func (e *Error) Error() string {
	s := strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// request is one call of the API.
type request struct {
	method string
	path   string // below the base URL, escaped: /api/violations/7
	query  url.Values
	body   []byte
	ctype  string // the body's content type
}

// do sends req and decodes a 2xx answer into out (nil: the body is
// ignored).
func (c *Client) do(ctx context.Context, req request, out any) error {
	u := *c.base
	u.RawPath = c.base.EscapedPath() + req.path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return fmt.Errorf("fullstop client: path %s: %w", u.RawPath, err)
	}
	u.Path = p
	u.RawQuery = req.query.Encode()
	where := req.method + " " + u.Redacted()

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return fmt.Errorf("fullstop API %s: %w", where, err)
	}
	hr.Header.Set("Accept", "application/json, application/problem+json")
	hr.Header.Set("User-Agent", "fullstop-client")
	if req.ctype != "" {
		hr.Header.Set("Content-Type", req.ctype)
	}
	if c.token != nil {
		tok, err := c.token(ctx)
		if err != nil {
			return fmt.Errorf("fullstop API %s: get a token: %w", where, err)
		}
		if tok == "" {
			return fmt.Errorf("fullstop API %s: the token is empty", where)
		}
		hr.Header.Set("Authorization", "Bearer "+tok)
	}

	resp, err := c.http.Do(hr)
	if err != nil {
		return c.transportError(parent, where, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return c.transportError(parent, where, err)
	}
	if len(b) > maxBody {
		return fmt.Errorf("fullstop API %s: answer %d is larger than %d MiB", where, resp.StatusCode, maxBody>>20)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errorOf(resp, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("fullstop API %s: answer %d is not the JSON expected (%s): %w", where, resp.StatusCode, excerpt(b, 80), err)
	}
	return nil
}

// transportError is the error of a request that got no (complete)
// answer; parent is the caller's context.
func (c *Client) transportError(parent context.Context, where string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // it repeats the URL, unredacted
	}
	var te interface{ Timeout() bool }
	if parent.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &te) && te.Timeout()) {
		return fmt.Errorf("fullstop API %s: no answer within %v: %w", where, c.timeout, err)
	}
	return fmt.Errorf("fullstop API %s: %w", where, err)
}

// errorOf is the *Error of a non-2xx answer.
func errorOf(resp *http.Response, b []byte) *Error {
	e := &Error{Status: resp.StatusCode}
	var p api.Problem
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && json.Unmarshal(b, &p) == nil && (p.Title != "" || p.Detail != "") {
		e.Problem = &p
		e.Message = p.Detail
		if e.Message == "" {
			e.Message = p.Title
		}
		return e
	}
	e.Message = excerpt(b, 200)
	return e
}

// excerpt is the first n bytes of b as text, trimmed, valid UTF-8.
func excerpt(b []byte, n int) string {
	cut := len(b) > n
	if cut {
		b = b[:n]
	}
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), ""))
	if cut {
		s += "…"
	}
	return s
}

// jsonBody is v as a request body.
func jsonBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("fullstop client: encode the body: %w", err)
	}
	return b, nil
}

// formatTime is t as the API reads it.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// setList sets a list parameter, comma-separated; an empty list sets none.
func setList(q url.Values, name string, list []string) {
	if len(list) > 0 {
		q.Set(name, strings.Join(list, ","))
	}
}

func setTime(q url.Values, name string, t *time.Time) {
	if t != nil {
		q.Set(name, formatTime(*t))
	}
}

func setBool(q url.Values, name string, b *bool) {
	if b != nil {
		q.Set(name, strconv.FormatBool(*b))
	}
}

func setInt(q url.Values, name string, n *int) {
	if n != nil {
		q.Set(name, strconv.Itoa(*n))
	}
}

func idPath(prefix string, id int64, suffix string) string {
	return prefix + "/" + strconv.FormatInt(id, 10) + suffix
}
