// Package audit runs an auditor's ad hoc SQL in DuckDB over the events
// lake: the view events reads the lake's Parquet files (etl/lake lists
// them), and the views violations and ledger are loaded from PostgreSQL
// (through the Tables the caller gives) when a statement names them, so
// that events and violations join. It also holds the saved audit queries
// of sql/queries (Saved), each a header naming its parameters and one
// statement using them as $name.
//
// The engine needs the build tag duckdb_arrow, as the rule engine does;
// without it Open fails with ErrNotBuilt. The saved queries and the
// parameter scanner are plain Go.
package audit

import "errors"

// ErrNotBuilt is returned by Open in a binary built without the build tag
// duckdb_arrow.
var ErrNotBuilt = errors.New("this fullstop was built without DuckDB (build tag duckdb_arrow): build it with `make build`")
