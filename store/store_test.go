package store

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/migrations"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// setup returns a store on a new, migrated database.
func setup(t *testing.T) *Store {
	t.Helper()
	st := open(t, pgtest.New(t))
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// open opens a store on url, closed when the test ends.
func open(t *testing.T, url string) *Store {
	t.Helper()
	st, err := Open(context.Background(), url, &Config{Log: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// exec runs one statement on the store's database.
func exec(t *testing.T, st *Store, sql string, args ...any) {
	t.Helper()
	if _, err := st.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

func TestOpen_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, wantErr string
	}{
		{"unsupported url", "mysql://db/x", "unsupported database url"},
		{"no server", "postgres://u@127.0.0.1:1/x?connect_timeout=5", "connect to database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := Open(context.Background(), tt.url, nil)
			if err == nil {
				st.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.url)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open(%q) error = %v, want one containing %q", tt.url, err, tt.wantErr)
			}
		})
	}
}

func TestStore_Migrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.New(t)

	// Several processes migrating one new database at once.
	stores := make([]*Store, 4)
	for i := range stores {
		stores[i] = open(t, url)
	}
	var g errgroup.Group
	for _, st := range stores {
		g.Go(func() error { return st.Migrate(ctx) })
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("concurrent migrate: %v", err)
	}
	// And once more: nothing to do.
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}

	var applied, versions int
	err := stores[0].pool.QueryRow(ctx,
		`SELECT count(*), count(DISTINCT version_id) FROM `+migrations.VersionTable+` WHERE version_id > 0`).
		Scan(&applied, &versions)
	if err != nil {
		t.Fatalf("read versions: %v", err)
	}
	if applied != versions || versions < 3 {
		t.Errorf("version table has %d rows for %d versions, want each of the (at least 3) versions once", applied, versions)
	}
	types, err := stores[0].ViolationTypes(ctx)
	if err != nil {
		t.Fatalf("violation types: %v", err)
	}
	if len(types) != 31 {
		t.Errorf("%d violation types, want 31", len(types))
	}
}

func TestStore_ViolationTypes(t *testing.T) {
	t.Parallel()
	st := setup(t)
	types, err := st.ViolationTypes(context.Background())
	if err != nil {
		t.Fatalf("violation types: %v", err)
	}
	byID := make(map[string]ViolationType)
	for _, vt := range types {
		byID[vt.ID] = vt
		if vt.Title == "" || len([]rune(vt.Title)) > 32 || vt.HelpText == "" || vt.Priority == nil || vt.AuditRelevant {
			t.Errorf("type %+v: want a title of 1..32 characters, a help text, a priority, not audit relevant", vt)
		}
	}
	tests := []struct {
		id       string
		title    string
		severity int
		priority int
	}{
		{"APPLICATION_VERSION_DOES_NOT_HAVE_A_VALID_ARTIFACT", "Deployment artifact mismatch", 1, 1},
		{"UNSECURED_ROOT_USER", "Unsecured root user", 4, 1},
		{"EC2_WITH_KEYPAIR", "EC2 SSH Keypair used", 0, 4},
		{"MISSING_USER_DATA", "EC2 without user data", 0, 3},
	}
	for _, tt := range tests {
		got, ok := byID[tt.id]
		if !ok {
			t.Errorf("type %s missing", tt.id)
			continue
		}
		if got.Title != tt.title || got.Severity != tt.severity || got.Priority == nil || *got.Priority != tt.priority {
			t.Errorf("type %s = %+v, want title %q severity %d priority %d", tt.id, got, tt.title, tt.severity, tt.priority)
		}
	}
}
