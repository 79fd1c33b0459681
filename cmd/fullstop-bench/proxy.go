package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// Request kinds counted by countingProxy.
const (
	reqList  = "LIST"  // GET of a bucket with list-type (ListObjectsV2)
	reqGet   = "GET"   // GET of an object
	reqOther = "other" // anything else (HEAD, PUT, bucket location ...)
)

// countingProxy is a reverse proxy in front of an S3 server that counts
// the requests passing through it.
type countingProxy struct {
	url    string
	srv    *http.Server
	mu     sync.Mutex
	counts map[string]int
}

// startProxy starts a counting proxy to target on a free local port.
func startProxy(target string) (*countingProxy, error) {
	to, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("proxy target %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &countingProxy{url: "http://" + ln.Addr().String(), counts: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(to)
			// The client signed the request for the proxy's host: keep it,
			// or the server's signature check fails.
			r.Out.Host = r.In.Host
		},
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count(r)
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// kind classifies an S3 request (path-style addressing).
func kind(r *http.Request) string {
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Has("list-type"):
		return reqList
	case r.Method == http.MethodGet && hasObjectKey(r.URL.Path):
		return reqGet
	}
	return reqOther
}

// hasObjectKey reports whether a path-style path names an object
// (/bucket/key), not only a bucket (/bucket or /bucket/).
func hasObjectKey(p string) bool {
	_, key, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return key != ""
}

func (p *countingProxy) count(r *http.Request) {
	k := kind(r)
	p.mu.Lock()
	p.counts[k]++
	p.mu.Unlock()
}

// take returns the counts so far and starts counting from zero.
func (p *countingProxy) take() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts
	p.counts = map[string]int{}
	return c
}

func (p *countingProxy) close() { _ = p.srv.Close() }
