//go:build !duckdb_arrow

package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/rules/duckdb"
)

// TestNotBuilt_commandsSayHowToBuild runs, in a binary built without the
// build tag duckdb_arrow, every command that needs the rule engine: each
// stops before it touches the source or the database, with an error that
// says how to build fullstop with the engine.
func TestNotBuilt_commandsSayHowToBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "postgres://nobody@127.0.0.1:1/none" // nothing listens: the database is never reached
	for _, args := range [][]string{
		{"run", "--database-url", db, "--source", dir},
		{"backfill", "--database-url", db, "--source", dir, "--from", "2023-07-10", "--to", "2023-07-11"},
		{"serve", "--database-url", db, "--source", dir, "--auth", "none", "--listen", "127.0.0.1:0"},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			err := newAppTo(io.Discard).RunContext(context.Background(), append([]string{"fullstop"}, args...))
			if !errors.Is(err, duckdb.ErrNotBuilt) {
				t.Fatalf("fullstop %s: %v, want ErrNotBuilt", args[0], err)
			}
			if code := exitCode(err); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if msg := err.Error(); !strings.Contains(msg, "-tags duckdb_arrow") || !strings.Contains(msg, "make build") {
				t.Errorf("error %q does not say how to build the engine in", msg)
			}
		})
	}
}
