// Package pgtest gives each test its own fresh PostgreSQL database on a
// throwaway server.
//
// The server is the one named by the environment variable
// FULLSTOP_TEST_DATABASE_URL when it is set (a postgres:// URL of a role
// allowed to create databases). Otherwise the first call starts one private
// cluster per test process: initdb into a temporary directory, then postgres
// on a free port of 127.0.0.1, its unix socket in that directory, with fsync
// off. PostgreSQL refuses to run as root, so when the test runs as root the
// cluster runs as the user "postgres". The binaries are found on PATH or in
// /usr/lib/postgresql/<version>/bin (highest version first).
//
// Use it from TestMain so the cluster is stopped and removed after the
// tests:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.New(t) // a new empty database, dropped after the test
//		...
//	}
//
// A missing PostgreSQL makes the tests fail; they are never skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable of an existing server to use
// instead of a throwaway cluster.
const EnvURL = "FULLSTOP_TEST_DATABASE_URL"

var (
	startOnce sync.Once
	shared    *cluster
	sharedErr error
)

// Server returns the URL of the test server's maintenance database, starting
// the throwaway cluster on the first call (unless FULLSTOP_TEST_DATABASE_URL
// is set). The role in the URL may create and drop databases.
func Server() (baseURL string, err error) {
	if u := os.Getenv(EnvURL); u != "" {
		return u, nil
	}
	startOnce.Do(func() {
		shared, sharedErr = startCluster()
	})
	if sharedErr != nil {
		return "", sharedErr
	}
	return shared.url, nil
}

// New creates a new empty database on the test server and returns its
// postgres:// URL. The database is dropped when the test ends. Any problem,
// PostgreSQL missing included, fails the test.
func New(t testing.TB) string {
	t.Helper()
	base, err := Server()
	if err != nil {
		t.Fatalf("pgtest: no PostgreSQL server for the test: %v", err)
	}
	name, err := databaseName(t.Name())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	dbURL, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := admin(ctx, base, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := admin(ctx, base, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return dbURL
}

// Main runs the tests and then stops and removes the throwaway cluster, if
// one was started. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Stop stops and removes the throwaway cluster, if one was started; for a
// TestMain that cannot use Main.
func Stop() error { return stop() }

// stop shuts the shared cluster down if it runs.
func stop() error {
	if shared == nil {
		return nil
	}
	c := shared
	shared, sharedErr = nil, fmt.Errorf("the test cluster was stopped")
	return c.stop()
}

// admin runs one statement on the maintenance database.
func admin(ctx context.Context, base, sql string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return err
	}
	return nil
}

// databaseName builds a unique database name that shows which test made it.
func databaseName(testName string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 30 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	random := make([]byte, 6)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("random database name: %w", err)
	}
	return "t_" + b.String() + "_" + hex.EncodeToString(random), nil
}

// withDatabase returns base with its database replaced by name.
func withDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("test server address is not a postgres:// URL (%s)", EnvURL)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}
