// Package s3test runs a MinIO server for integration tests: one process per
// test binary, started by the first test that asks for it and stopped by
// Main.
//
// If FULLSTOP_TEST_S3_ENDPOINT is set (with FULLSTOP_TEST_S3_ACCESS_KEY,
// FULLSTOP_TEST_S3_SECRET_KEY and optionally FULLSTOP_TEST_S3_REGION), that
// server is used instead. Otherwise the minio binary is taken from
// FULLSTOP_MINIO_BIN, else from PATH, else from $(go env GOPATH)/bin.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// Environment variables read by Start.
const (
	EnvEndpoint  = "FULLSTOP_TEST_S3_ENDPOINT"
	EnvAccessKey = "FULLSTOP_TEST_S3_ACCESS_KEY"
	EnvSecretKey = "FULLSTOP_TEST_S3_SECRET_KEY"
	EnvRegion    = "FULLSTOP_TEST_S3_REGION"
	EnvMinIOBin  = "FULLSTOP_MINIO_BIN"
)

// MinIOModule is the MinIO version the project tests with.
const MinIOModule = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

const (
	defaultRegion = "us-east-1"
	readyTimeout  = 60 * time.Second
)

// Server is a running S3-compatible server.
type Server struct {
	Endpoint  string // base URL, e.g. "http://127.0.0.1:9000"; use path-style addressing
	AccessKey string
	SecretKey string
	Region    string

	client *awss3.Client
	dir    string // data folder of a started server

	// Of a started server (bin is empty for an external one): how to
	// start it again.
	bin     string
	addr    string // host:port of the S3 API
	console string // host:port of the console

	pmu    sync.Mutex    // guards cmd, exited and out, which Restart replaces
	cmd    *exec.Cmd     // nil for an external server
	exited chan struct{} // closed when cmd has exited
	out    *syncBuffer   // the process's output
}

var (
	mu       sync.Mutex
	shared   *Server
	startErr error
)

// Start returns the shared server, starting it on first use. It also points
// the test process's standard AWS credential chain at the server (it sets
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and unsets
// AWS_SESSION_TOKEN), so code that loads credentials the usual way reaches
// it. Failing to start is fatal, never a skip.
func Start(t testing.TB) *Server {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared == nil && startErr == nil {
		shared, startErr = start()
	}
	if startErr != nil {
		t.Fatalf("s3test: %v", startErr)
	}
	return shared
}

// Main runs m's tests (if m is not nil), stops the shared server and
// removes its data, then, if m was given, exits with the tests' code.
// Call it from TestMain as s3test.Main(m), or as s3test.Main(nil) after
// m.Run when TestMain has more to do.
func Main(m *testing.M) {
	code := 0
	if m != nil {
		code = m.Run()
	}
	Stop()
	if m != nil {
		os.Exit(code)
	}
}

// Stop stops the shared server if it was started and removes its data.
// A later Start starts a new one.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.stop()
	}
	shared, startErr = nil, nil
}

func start() (*Server, error) {
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		s := &Server{
			Endpoint:  strings.TrimSuffix(ep, "/"),
			AccessKey: os.Getenv(EnvAccessKey),
			SecretKey: os.Getenv(EnvSecretKey),
			Region:    cmpOr(os.Getenv(EnvRegion), defaultRegion),
		}
		if s.AccessKey == "" || s.SecretKey == "" {
			return nil, fmt.Errorf("%s is set but %s or %s is not", EnvEndpoint, EnvAccessKey, EnvSecretKey)
		}
		s.newClient()
		s.setEnv()
		return s, nil
	}
	bin, err := findMinIO()
	if err != nil {
		return nil, err
	}
	s, err := Launch(bin)
	if err != nil {
		return nil, err
	}
	s.setEnv()
	return s, nil
}

// Launch starts the minio binary bin as a server of its own on a free
// 127.0.0.1 port, with its data in a new temporary folder, and waits until
// it answers. Unlike Start it leaves the process's environment alone. Close
// stops it and removes its data.
func Launch(bin string) (*Server, error) {
	// A free port can be taken by someone else before MinIO binds it: try
	// a few times.
	for attempt := 1; ; attempt++ {
		s, err := launch(bin)
		if err == nil || attempt == 3 {
			return s, err
		}
	}
}

// Close stops a server from Launch and removes its data.
func (s *Server) Close() { s.stop() }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// setEnv points the process's AWS credential environment at the server.
func (s *Server) setEnv() {
	os.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	os.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	os.Unsetenv("AWS_SESSION_TOKEN")
}

// newClient builds the server's S3 client.
func (s *Server) newClient() {
	s.client = awss3.New(awss3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),

		DisableLogOutputChecksumValidationSkipped: true,
	})
}

// FindMinIO finds the minio binary the way Start does: FULLSTOP_MINIO_BIN,
// else PATH, else $(go env GOPATH)/bin. It is for tests that Launch a
// server of their own (to Kill and Restart it, say) even when
// FULLSTOP_TEST_S3_ENDPOINT names an external one.
func FindMinIO() (string, error) { return findMinIO() }

// findMinIO finds the minio binary.
func findMinIO() (string, error) {
	if bin := os.Getenv(EnvMinIOBin); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvMinIOBin, bin, err)
		}
		return bin, nil
	}
	if bin, err := exec.LookPath("minio"); err == nil {
		return bin, nil
	}
	gopath := build.Default.GOPATH
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gopath = strings.TrimSpace(string(out))
	}
	for _, dir := range filepath.SplitList(gopath) {
		bin := filepath.Join(dir, "bin", "minio")
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	return "", fmt.Errorf("no minio binary (not in $%s, PATH or $(go env GOPATH)/bin): run `make test`, "+
		"or `go install %s`, or set %s to a minio binary or %s to an S3 server", EnvMinIOBin, MinIOModule, EnvMinIOBin, EnvEndpoint)
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// launch starts minio and waits until it answers.
func launch(bin string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	console, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	dir, err := os.MkdirTemp("", "fullstop-minio-")
	if err != nil {
		return nil, fmt.Errorf("create minio data folder: %w", err)
	}
	s := &Server{
		Endpoint:  "http://" + addr,
		AccessKey: "fullstop-" + randomHex(4),
		SecretKey: randomHex(16),
		Region:    defaultRegion,
		dir:       dir,
		bin:       bin,
		addr:      addr,
		console:   console,
	}
	if err := s.startProcess(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.waitReady(); err != nil {
		out := s.output()
		s.stop()
		return nil, fmt.Errorf("minio (%s) at %s: %w; output:\n%s", bin, addr, err, out)
	}
	s.newClient()
	return s, nil
}

// startProcess starts the minio process of a started server, on its
// address, with its data folder and credentials.
func (s *Server) startProcess() error {
	out := &syncBuffer{}
	cmd := exec.Command(s.bin, "server", filepath.Join(s.dir, "data"), "--address", s.addr, "--console-address", s.console, "--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_REGION="+s.Region,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1",
	)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.pmu.Lock()
	s.cmd, s.exited, s.out = cmd, exited, out
	s.pmu.Unlock()
	return nil
}

// process returns the current minio process and its exit channel (nil,
// nil for an external server).
func (s *Server) process() (*exec.Cmd, chan struct{}) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return s.cmd, s.exited
}

// output is what the current minio process printed.
func (s *Server) output() string {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if s.out == nil {
		return ""
	}
	return s.out.String()
}

// Kill kills the minio process of a server from Launch or Start with
// SIGKILL, as a crash would, and waits until it has exited. Its data
// folder, address and credentials are kept: Restart starts it again. Close
// still removes the data. Kill does nothing to an external server
// (FULLSTOP_TEST_S3_ENDPOINT) or a server already killed.
func (s *Server) Kill() {
	cmd, exited := s.process()
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Kill()
	<-exited
}

// restartTimeout bounds Restart's wait for the address to be free again.
const restartTimeout = 30 * time.Second

// Restart starts the minio process of a server from Launch or Start again
// on the same address, with the same data folder and credentials, and
// waits until it answers; it kills the running process first if there is
// one. Failing is fatal. Restart of an external server is fatal too.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.restart(); err != nil {
		t.Fatalf("s3test: %v", err)
	}
}

func (s *Server) restart() error {
	if s.bin == "" {
		return fmt.Errorf("restart %s: not a server started by s3test", s.Endpoint)
	}
	s.Kill()
	// The address was MinIO's a moment ago; if it is not free yet (or MinIO
	// fails to come up for another reason), try again for a while.
	deadline := time.Now().Add(restartTimeout)
	for {
		if err := s.startProcess(); err != nil {
			return err
		}
		err := s.waitReady()
		if err == nil {
			return nil
		}
		out := s.output()
		s.Kill()
		if time.Now().After(deadline) {
			return fmt.Errorf("restart minio (%s) at %s: %w; output:\n%s", s.bin, s.addr, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitReady polls MinIO's readiness endpoint until it answers 200 and then
// lists the buckets until that works too: MinIO can answer ready while
// its object layer still refuses requests (XMinioServerNotInitialized).
func (s *Server) waitReady() error {
	_, exited := s.process()
	deadline := time.Now().Add(readyTimeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	if s.client == nil {
		s.newClient()
	}
	for {
		resp, err := hc.Get(s.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := s.client.ListBuckets(ctx, &awss3.ListBucketsInput{})
				cancel()
				if err == nil {
					return nil
				}
			}
		}
		select {
		case <-exited:
			return errors.New("exited before it was ready")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", readyTimeout)
		}
	}
}

func (s *Server) stop() {
	s.Kill()
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// Client returns an S3 client for the server, with the server's
// credentials and path-style addressing.
func (s *Server) Client() *awss3.Client { return s.client }

// NewBucket creates a bucket with a random name and returns the name. The
// bucket is left behind; the server's data goes away with the server.
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := "fullstop-test-" + randomHex(12)
	if _, err := s.client.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", name, err)
	}
	return name
}

// Put stores body as the object key of bucket.
func (s *Server) Put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	_, err := s.client.PutObject(context.Background(), &awss3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("s3test: put s3://%s/%s: %v", bucket, key, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// process's stdout and stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
