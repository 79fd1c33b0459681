//go:build !duckdb_arrow

package audit

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"
)

// Tables loads the tables that live in PostgreSQL.
type Tables interface {
	AuditTable(ctx context.Context, name string) (pgx.Rows, error)
}

// Config configures an Engine.
type Config struct {
	Files    []string
	Schema   *arrow.Schema
	From, To time.Time
	Tables   Tables
	Log      *slog.Logger
}

// Column is a column of a view.
type Column struct {
	Name, Type string
}

// Rows are the rows of a statement.
type Rows struct {
	*sql.Rows
	Columns []string
	Types   []string
}

// Engine stands in for the engine in a binary built without DuckDB.
type Engine struct{}

// Open returns ErrNotBuilt.
func Open(context.Context, Config) (*Engine, error) { return nil, ErrNotBuilt }

// Close does nothing.
func (*Engine) Close() error { return nil }

// Query returns ErrNotBuilt.
func (*Engine) Query(context.Context, string, map[string]string) (*Rows, error) {
	return nil, ErrNotBuilt
}

// CopyParquet returns ErrNotBuilt.
func (*Engine) CopyParquet(context.Context, string, string, map[string]string) (int64, error) {
	return 0, ErrNotBuilt
}

// Views returns nothing.
func (*Engine) Views(context.Context) (map[string][]Column, error) { return nil, ErrNotBuilt }

// TableViews names the views loaded from PostgreSQL.
func TableViews() []string { return []string{"violations", "ledger"} }
