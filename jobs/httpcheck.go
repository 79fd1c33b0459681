package jobs

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// UserAgent is what the HTTP root check sends, as the reference did.
const UserAgent = "fullstop-job (https://github.com/zalando-stups/fullstop)"

// RootCheckTimeout bounds connecting to and reading the answer of one HTTP
// root check (the reference's 1 s).
const RootCheckTimeout = time.Second

// NewRootCheckClient is the client of the HTTP root checks: no redirects
// followed, no cookies, no keep-alive, TLS certificates not checked (an
// endpoint with a bad certificate is as open as one with a good one),
// bounded dial and answer, no proxy.
func NewRootCheckClient() *http.Client {
	return &http.Client{
		Timeout: 2 * RootCheckTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: RootCheckTimeout}).DialContext,
			TLSHandshakeTimeout:   RootCheckTimeout,
			ResponseHeaderTimeout: RootCheckTimeout,
			TLSClientConfig:       &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the check asks whether it answers, not whom
			DisableKeepAlives:     true,
		},
	}
}

// CheckRoot GETs the root of host on port (https on 443, else http) and
// reports whether it is open (reference §5.2), with why: it is not when it
// answers 401 or 403 or a 5xx, or a 3xx on http to an https location, nor
// when it cannot be reached (refused, timed out).
func CheckRoot(ctx context.Context, client *http.Client, host string, port int) (open bool, message string) {
	scheme := "http"
	if port == 443 {
		scheme = "https"
	}
	uri := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return false, ""
	}
	req.Header.Set("User-Agent", UserAgent)
	resp, err := client.Do(req)
	if err != nil {
		return false, ""
	}
	resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden || code >= 500:
		return false, ""
	case code >= 300 && code < 400 && scheme == "http":
		loc := resp.Header.Get("Location")
		if strings.HasPrefix(loc, "https") {
			return false, ""
		}
		return true, fmt.Sprintf("Call to %s redirects (status %d) to location with unsafe protocol (%s)", uri, code, loc)
	}
	return true, fmt.Sprintf("%s returned status code %d, which means it is unsecured", uri, code)
}
