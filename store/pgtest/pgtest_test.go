package pgtest

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var name string
	t.Run("use", func(t *testing.T) {
		dbURL := New(t)
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatalf("query: %v", err)
		}
		if !strings.HasPrefix(name, "t_testnew_use_") {
			t.Errorf("database name %q does not name the test", name)
		}
		var tables int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
			t.Fatalf("query: %v", err)
		}
		if tables != 0 {
			t.Errorf("new database has %d tables, want 0", tables)
		}
		var version int
		if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
			t.Fatalf("query: %v", err)
		}
		if version < 150000 {
			t.Errorf("server version %d, want 15 or newer (NULLS NOT DISTINCT)", version)
		}
	})
	// The cleanup of the subtest dropped its database.
	base, err := Server()
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("query: %v", err)
	}
	if name == "" || exists {
		t.Errorf("database %q still exists after its test", name)
	}
}

func TestNew_distinct(t *testing.T) {
	t.Parallel()
	a, b := New(t), New(t)
	if a == b {
		t.Fatalf("two calls returned the same database %s", a)
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base, want string
		wantErr    bool
	}{
		{"postgres://u:p@h:5432/postgres?sslmode=disable", "postgres://u:p@h:5432/x?sslmode=disable", false},
		{"postgresql://h/", "postgresql://h/x", false},
		{"host=h dbname=postgres", "", true},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.base, "x")
		if (err != nil) != tt.wantErr {
			t.Errorf("withDatabase(%q): error %v, want error %v", tt.base, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tt.base, got, tt.want)
		}
		if err == nil {
			if _, err := url.Parse(got); err != nil {
				t.Errorf("result %q is no URL: %v", got, err)
			}
		}
	}
}

// TestNew_envServer uses an existing server named by FULLSTOP_TEST_DATABASE_URL
// (here the throwaway one). It cannot be parallel: it sets the environment.
func TestNew_envServer(t *testing.T) {
	base, err := Server()
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	u.RawQuery = "sslmode=disable&application_name=from_env"
	t.Setenv(EnvURL, u.String())
	got, err := Server()
	if err != nil || got != u.String() {
		t.Fatalf("Server() = %q, %v; want %q", got, err, u.String())
	}
	dbURL := New(t)
	if !strings.Contains(dbURL, "application_name=from_env") {
		t.Errorf("database URL %q is not on the server of %s", dbURL, EnvURL)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var name string
	if err := conn.QueryRow(ctx, "SELECT current_setting('application_name')").Scan(&name); err != nil || name != "from_env" {
		t.Errorf("application_name = %q, %v; want from_env", name, err)
	}
}
