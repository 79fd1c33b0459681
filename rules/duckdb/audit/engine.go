//go:build duckdb_arrow

package audit

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	duckdbgo "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Tables loads the tables that live in PostgreSQL (the store implements
// it): "violations" and "ledger".
type Tables interface {
	AuditTable(ctx context.Context, name string) (pgx.Rows, error)
}

// Config configures an Engine.
type Config struct {
	// Files are the local Parquet files of the lake the view events reads;
	// none gives an empty view with the events' columns.
	Files []string
	// Schema is the events' Arrow schema (etl/event.Schema); required.
	Schema *arrow.Schema
	// From and To bound event_time in the view events: From <= event_time
	// < To; a zero bound is open.
	From, To time.Time
	// Tables loads violations and ledger; nil leaves them out.
	Tables Tables
	Log    *slog.Logger
}

// tableViews are the views loaded from Tables, when a statement names them.
var tableViews = []string{"violations", "ledger"}

// HiveColumns are the partition columns the view events adds to the
// schema's: the source object's key date, account and region.
var HiveColumns = []Column{{"date", "DATE"}, {"account", "VARCHAR"}, {"region", "VARCHAR"}}

// Column is a column of a view.
type Column struct {
	Name, Type string
}

// Engine is one DuckDB database with the views. It is not safe for
// concurrent use: statements run one at a time on one connection, so that
// settings and temporary tables persist between them.
type Engine struct {
	cfg       Config
	connector *duckdbgo.Connector
	db        *sql.DB
	conn      *sql.Conn
	loaded    map[string]bool
	log       *slog.Logger
}

// Open creates the DuckDB database and the view events.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Schema == nil {
		return nil, errors.New("audit: the events schema is required")
	}
	connector, err := duckdbgo.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		connector.Close()
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, connector: connector, db: db, conn: conn, loaded: map[string]bool{}, log: log}
	if _, err := conn.ExecContext(ctx, e.eventsView()); err != nil {
		e.Close()
		return nil, fmt.Errorf("create the view events: %w", err)
	}
	return e, nil
}

// Close closes the database.
func (e *Engine) Close() error {
	e.conn.Close()
	e.db.Close()
	return e.connector.Close()
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func timeLiteral(t time.Time) string {
	return "TIMESTAMPTZ " + quote(t.UTC().Format("2006-01-02 15:04:05.999999+00"))
}

// eventsView is the statement that creates the view events.
func (e *Engine) eventsView() string {
	var b strings.Builder
	b.WriteString("CREATE OR REPLACE VIEW events AS ")
	if len(e.cfg.Files) == 0 {
		b.WriteString("SELECT ")
		for i, c := range e.columns() {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "CAST(NULL AS %s) AS %s", c.Type, c.Name)
		}
		b.WriteString(" WHERE false")
		return b.String()
	}
	b.WriteString("SELECT * FROM read_parquet([")
	for i, f := range e.cfg.Files {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(f))
	}
	b.WriteString("], hive_partitioning = true, hive_types = {'date': DATE, 'account': VARCHAR, 'region': VARCHAR})")
	var where []string
	if !e.cfg.From.IsZero() {
		where = append(where, "event_time >= "+timeLiteral(e.cfg.From))
	}
	if !e.cfg.To.IsZero() {
		where = append(where, "event_time < "+timeLiteral(e.cfg.To))
	}
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	return b.String()
}

// columns are the columns of the view events: the schema's, then the
// partition columns.
func (e *Engine) columns() []Column {
	var out []Column
	for _, f := range e.cfg.Schema.Fields() {
		out = append(out, Column{f.Name, duckType(f.Type)})
	}
	return append(out, HiveColumns...)
}

func duckType(t arrow.DataType) string {
	switch t := t.(type) {
	case *arrow.StringType, *arrow.LargeStringType:
		return "VARCHAR"
	case *arrow.Int32Type:
		return "INTEGER"
	case *arrow.Int64Type:
		return "BIGINT"
	case *arrow.BooleanType:
		return "BOOLEAN"
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return "TIMESTAMPTZ"
		}
		return "TIMESTAMP"
	}
	return "VARCHAR"
}

var namesTable = regexp.MustCompile(`(?i)\b(violations|ledger)\b`)

// load loads the PostgreSQL tables q names that are not loaded yet.
func (e *Engine) load(ctx context.Context, q string) error {
	if e.cfg.Tables == nil {
		return nil
	}
	for _, m := range namesTable.FindAllString(q, -1) {
		name := strings.ToLower(m)
		if e.loaded[name] {
			continue
		}
		start := time.Now()
		n, err := e.loadTable(ctx, name)
		if err != nil {
			return fmt.Errorf("load %s from PostgreSQL: %w", name, err)
		}
		e.loaded[name] = true
		e.log.Debug("table loaded from PostgreSQL", "table", name, "rows", n, "duration", time.Since(start))
	}
	return nil
}

func (e *Engine) loadTable(ctx context.Context, name string) (int64, error) {
	rows, err := e.cfg.Tables.AuditTable(ctx, name)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	var cols []string
	for _, fd := range fds {
		cols = append(cols, fmt.Sprintf("%q %s", fd.Name, pgDuckType(fd.DataTypeOID)))
	}
	if _, err := e.conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s (%s)", name, strings.Join(cols, ", "))); err != nil {
		return 0, err
	}
	var n int64
	err = e.conn.Raw(func(dc any) error {
		app, err := duckdbgo.NewAppenderFromConn(dc.(driver.Conn), "", name)
		if err != nil {
			return err
		}
		vals := make([]driver.Value, len(fds))
		for rows.Next() {
			raw, err := rows.Values()
			if err != nil {
				app.Close()
				return err
			}
			for i, v := range raw {
				vals[i] = pgValue(fds[i].DataTypeOID, v)
			}
			if err := app.AppendRow(vals...); err != nil {
				app.Close()
				return err
			}
			n++
		}
		if err := rows.Err(); err != nil {
			app.Close()
			return err
		}
		return app.Close()
	})
	return n, err
}

func pgDuckType(oid uint32) string {
	switch oid {
	case pgtype.Int8OID:
		return "BIGINT"
	case pgtype.Int4OID, pgtype.Int2OID:
		return "INTEGER"
	case pgtype.BoolOID:
		return "BOOLEAN"
	case pgtype.TimestamptzOID:
		return "TIMESTAMPTZ"
	case pgtype.TimestampOID:
		return "TIMESTAMP"
	case pgtype.Float8OID, pgtype.Float4OID, pgtype.NumericOID:
		return "DOUBLE"
	}
	return "VARCHAR"
}

// pgValue converts a pgx value to what the appender takes for the column
// type pgDuckType gives.
func pgValue(oid uint32, v any) driver.Value {
	if v == nil {
		return nil
	}
	switch oid {
	case pgtype.Int8OID, pgtype.BoolOID, pgtype.TimestamptzOID, pgtype.TimestampOID:
		return v
	case pgtype.Int4OID:
		if x, ok := v.(int32); ok {
			return x
		}
	case pgtype.Int2OID:
		if x, ok := v.(int16); ok {
			return int32(x)
		}
	case pgtype.Float8OID:
		return v
	case pgtype.Float4OID:
		if x, ok := v.(float32); ok {
			return float64(x)
		}
	case pgtype.NumericOID:
		if x, ok := v.(pgtype.Numeric); ok {
			f, _ := x.Float64Value()
			return f.Float64
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// Rows are the rows of a statement.
type Rows struct {
	*sql.Rows
	Columns []string
	Types   []string // DuckDB's type names of the columns (DATE, TIMESTAMP WITH TIME ZONE …)
}

// Query runs one statement with the values of its $name parameters.
func (e *Engine) Query(ctx context.Context, q string, params map[string]string) (*Rows, error) {
	if err := e.load(ctx, q); err != nil {
		return nil, err
	}
	var args []any
	for _, name := range Params(q) {
		if v, ok := params[name]; ok {
			args = append(args, sql.Named(name, v))
		}
	}
	rows, err := e.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, e.explain(err)
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, err
	}
	r := &Rows{Rows: rows}
	for _, ct := range cts {
		r.Columns = append(r.Columns, ct.Name())
		r.Types = append(r.Types, ct.DatabaseTypeName())
	}
	return r, nil
}

// CopyParquet runs a query and writes its rows to the Parquet file path,
// zstd-compressed, and returns the number of rows.
func (e *Engine) CopyParquet(ctx context.Context, q, path string, params map[string]string) (int64, error) {
	if err := e.load(ctx, q); err != nil {
		return 0, err
	}
	var args []any
	for _, name := range Params(q) {
		if v, ok := params[name]; ok {
			args = append(args, sql.Named(name, v))
		}
	}
	q = strings.TrimRight(strings.TrimSpace(q), ";")
	if _, err := e.conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE fullstop_out AS "+q, args...); err != nil {
		return 0, e.explain(err)
	}
	defer e.conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS fullstop_out")
	var n int64
	if err := e.conn.QueryRowContext(ctx, "SELECT count(*) FROM fullstop_out").Scan(&n); err != nil {
		return 0, err
	}
	if _, err := e.conn.ExecContext(ctx, "COPY fullstop_out TO "+quote(path)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
		return 0, e.explain(err)
	}
	return n, nil
}

// explain adds to a DuckDB error what the user can do when it is about a
// view fullstop provides.
func (e *Engine) explain(err error) error {
	msg := err.Error()
	if e.cfg.Tables == nil && strings.Contains(msg, "Catalog Error") {
		for _, t := range tableViews {
			if strings.Contains(msg, "name "+t+" does not exist") {
				return fmt.Errorf("%w\nthe view %s is loaded from PostgreSQL: set DATABASE_URL (--database-url)", err, t)
			}
		}
	}
	return err
}

// Views returns the views and tables a statement can name, with their
// columns; violations and ledger have no columns until they are loaded.
func (e *Engine) Views(ctx context.Context) (map[string][]Column, error) {
	out := map[string][]Column{}
	rows, err := e.conn.QueryContext(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t, c, ty string
		if err := rows.Scan(&t, &c, &ty); err != nil {
			return nil, err
		}
		out[t] = append(out[t], Column{c, ty})
	}
	if e.cfg.Tables != nil {
		for _, t := range tableViews {
			if _, ok := out[t]; !ok {
				out[t] = nil
			}
		}
	}
	return out, rows.Err()
}

// TableViews names the views loaded from PostgreSQL.
func TableViews() []string { return slices.Clone(tableViews) }
