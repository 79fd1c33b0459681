package s3_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl/s3"
)

// hangCeiling is far above how long a request to a server that does not
// answer may take with the short timeouts of these tests; passing it means
// the request did not hang. It is no benchmark.
const hangCeiling = 10 * time.Second

const shortTimeout = 300 * time.Millisecond

// newLocalSource returns a source over the S3 server at endpoint, with
// static credentials and short timeouts.
func newLocalSource(t *testing.T, endpoint string, mod func(*s3.Config)) *s3.Source {
	t.Helper()
	staticCredentials(t)
	cfg := s3.Config{
		Bucket: "bucket", Region: "us-east-1", Endpoint: endpoint, PathStyle: true,
		ConnectTimeout: shortTimeout, RequestTimeout: shortTimeout,
	}
	if mod != nil {
		mod(&cfg)
	}
	src, err := s3.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

// TestSource_silentServer lists and opens on a server that accepts
// connections and never answers: each fails within a bound, retries
// included.
func TestSource_silentServer(t *testing.T) {
	src := newLocalSource(t, "http://"+silentServer(t), nil)
	ctx := context.Background()

	start := time.Now()
	_, err := src.List(ctx, "logs/", "/")
	elapsed := time.Since(start)
	t.Logf("List after %v: %v", elapsed.Round(time.Millisecond), err)
	if err == nil {
		t.Error("List on a silent server succeeded")
	}
	if elapsed > hangCeiling {
		t.Errorf("List took %v, want well below %v", elapsed, hangCeiling)
	}

	start = time.Now()
	r, err := src.Open(ctx, "logs/a.json.gz")
	elapsed = time.Since(start)
	t.Logf("Open after %v: %v", elapsed.Round(time.Millisecond), err)
	if err == nil {
		r.Close()
		t.Error("Open on a silent server succeeded")
	}
	if elapsed > hangCeiling {
		t.Errorf("Open took %v, want well below %v", elapsed, hangCeiling)
	}
	if lists, gets := src.Requests(); lists != 1 || gets != 1 {
		t.Errorf("requests: %d lists, %d gets; want 1 and 1", lists, gets)
	}
}

// objectServer is an HTTP server answering every GET with the headers of
// an object of size bytes, then the first len(head) bytes of it; the rest
// follows only once release is closed, or never.
func objectServer(t *testing.T, size int, head string, release <-chan struct{}) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "not implemented", http.StatusNotImplemented)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, head)
		w.(http.Flusher).Flush()
		select {
		case <-release:
			io.WriteString(w, strings.Repeat("x", size-len(head)))
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() {
		close(done)
		srv.Close()
	})
	return srv
}

// TestSource_stalledBody opens an object whose body stops coming after the
// first bytes: reading it fails within a bound.
func TestSource_stalledBody(t *testing.T) {
	srv := objectServer(t, 1000, "first bytes", nil)
	src := newLocalSource(t, srv.URL, nil)

	start := time.Now()
	r, err := src.Open(context.Background(), "logs/a.json.gz")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	elapsed := time.Since(start)
	t.Logf("read %q, after %v: %v", b, elapsed.Round(time.Millisecond), err)
	if err == nil {
		t.Error("reading a stalled body succeeded")
	}
	if string(b) != "first bytes" {
		t.Errorf("read %q before the stall, want %q", b, "first bytes")
	}
	if elapsed > hangCeiling {
		t.Errorf("reading took %v, want well below %v", elapsed, hangCeiling)
	}
}

// TestSource_bodyOutlivesOpen reads a body well after the bound on Open
// has passed, and slowly: it stays readable until closed.
func TestSource_bodyOutlivesOpen(t *testing.T) {
	release := make(chan struct{})
	srv := objectServer(t, 1000, "first bytes", release)
	src := newLocalSource(t, srv.URL, func(c *s3.Config) {
		c.MaxRetries = -1 // Open is bounded by one RequestTimeout
		c.ReadTimeout = 5 * time.Second
	})
	r, err := src.Open(context.Background(), "logs/a.json.gz")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	time.Sleep(3 * shortTimeout) // past Open's bound, within ReadTimeout
	close(release)
	b, err := io.ReadAll(r)
	if err != nil || len(b) != 1000 || !strings.HasPrefix(string(b), "first bytes") {
		t.Errorf("read %d bytes, %v; want 1000", len(b), err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
