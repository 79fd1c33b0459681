package pierone_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const secret = "s3cr3t-token"

// reply is a fake Pier One's answer to one escaped path.
type reply struct {
	status int
	body   string
	delay  time.Duration // wait before answering, or until the request is given up
}

// registry is a fake Pier One answering the escaped paths of replies (404
// otherwise) and recording the escaped path and Authorization header of
// each request.
type registry struct {
	*httptest.Server
	replies map[string]reply

	mu    sync.Mutex
	paths []string
	auths []string
}

func newRegistry(t *testing.T, replies map[string]reply) *registry {
	t.Helper()
	r := &registry{replies: replies}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.EscapedPath())
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		r.mu.Unlock()
		rep, ok := r.replies[req.URL.EscapedPath()]
		if !ok || req.Method != http.MethodGet {
			rep = reply{status: http.StatusNotFound, body: `{"detail":"not found"}`}
		}
		if rep.delay > 0 {
			select {
			case <-time.After(rep.delay):
			case <-req.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		fmt.Fprint(w, rep.body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *registry) requests() (paths, auths []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...), append([]string(nil), r.auths...)
}

// hostClient returns an HTTP client that connects to the server of each
// host name in servers, whatever port the URL names.
func hostClient(t *testing.T, servers map[string]*registry) *http.Client {
	t.Helper()
	addrs := make(map[string]string, len(servers))
	for host, s := range servers {
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		addrs[host] = u.Host
	}
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			to, ok := addrs[host]
			if !ok {
				return nil, fmt.Errorf("no test server for %q", host)
			}
			return d.DialContext(ctx, network, to)
		},
	}}
}

type errTokenSource struct{}

func (errTokenSource) Token() (*oauth2.Token, error) {
	return nil, errors.New("credentials unreadable")
}

var staticToken = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: secret})
