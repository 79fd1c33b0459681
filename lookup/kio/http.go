package kio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// StatusError is the error of a request Kio answered with a status other
// than 2xx and 404; callers may tell a 4xx from a 5xx with errors.As.
type StatusError struct {
	Method     string // the request method, GET
	URL        string // the request URL, password redacted
	StatusCode int    // the HTTP status code
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// get sends GET u and decodes a 2xx body into v. It reports false, and no
// error, on a 404.
func (c *Client) get(ctx context.Context, u *url.URL, v any) (bool, error) {
	where := http.MethodGet + " " + u.Redacted()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("kio: %s: %w", where, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != nil {
		tok, err := c.token.Token()
		if err != nil {
			return false, fmt.Errorf("kio: %s: no service token: %w", where, err)
		}
		if tok == nil || tok.AccessToken == "" {
			return false, fmt.Errorf("kio: %s: the service token is empty", where)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return false, fmt.Errorf("kio: %s: %w", where, unwrapURLError(err))
	}
	defer drainAndClose(resp)

	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return false, fmt.Errorf("kio: %w", &StatusError{Method: http.MethodGet, URL: u.Redacted(), StatusCode: resp.StatusCode})
	}
	if err := decodeBody(resp.Body, v); err != nil {
		return false, fmt.Errorf("kio: %s: HTTP %d: %w", where, resp.StatusCode, err)
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

// joinPath returns base with the path segments segs appended, each
// path-escaped; base's trailing slashes are dropped first.
func joinPath(base *url.URL, segs ...string) *url.URL {
	escaped := strings.TrimRight(base.EscapedPath(), "/")
	for _, s := range segs {
		escaped += "/" + url.PathEscape(s)
	}
	u := *base
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	u.Path, u.RawPath = unescapePath(escaped), escaped
	return &u
}

// unescapePath unescapes a path built by joinPath; it cannot fail on
// one, and returns p unchanged if it did.
func unescapePath(p string) string {
	s, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return s
}

// validSegment reports whether s can name a resource in a path: not
// empty, "." or "..".
func validSegment(s string) bool {
	return s != "" && s != "." && s != ".."
}
