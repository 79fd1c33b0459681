package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// maxAnswerBytes bounds the body read from the token-info endpoint and
// the team service.
const maxAnswerBytes = 4 << 20

// clientOr returns c, or when it is nil a new client with the given
// timeout.
func clientOr(c *http.Client, timeout time.Duration) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: timeout}
}

// parseServiceURL checks that raw is an absolute http or https URL; what
// names the setting in the error.
func parseServiceURL(what, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s is not set", what)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s %q: the scheme must be http or https", what, u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s %q: no host", what, u.Redacted())
	}
	return u, nil
}

// decodeJSON decodes the body of resp into v, reading at most
// maxAnswerBytes.
func decodeJSON(resp *http.Response, v any) error {
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxAnswerBytes))
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("truncated or empty JSON: %w", err)
		}
		return fmt.Errorf("unparsable JSON: %w", err)
	}
	return nil
}

// drainAndClose discards what is left of a response body, so that the
// connection can be reused, and closes it.
func drainAndClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
	_ = resp.Body.Close()
}
