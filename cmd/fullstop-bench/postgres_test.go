package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The cluster's CPU time grows with the work a backend does, and counts a
// backend that has ended.
func TestPostgresCPU(t *testing.T) {
	ctx := context.Background()
	pg, err := startPostgres(ctx, "../../.ci/postgres.sh", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.stop() })
	before, err := pg.cpu()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pg.url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM generate_series(1, 5000000)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	// The backend's exit is reaped by the postmaster a moment later; its
	// time is the postmaster's children's then, or still its own.
	after, err := pg.cpu()
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 10*clockTick {
		t.Fatalf("PostgreSQL CPU went from %v to %v over 5,000,000 rows, want at least 0.1 s more", before, after)
	}
}
