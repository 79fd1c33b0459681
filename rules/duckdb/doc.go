// Package duckdb runs fullstop's rules (package rules, files
// sql/rules/*.sql) in an in-process DuckDB over Arrow record batches of
// events, and returns rules.Violation values.
//
// The engine needs the build tag duckdb_arrow (DuckDB's Arrow interface).
// Without it the package still builds, so that every package and the
// binary do, but New returns ErrNotBuilt, which says how to build it.
//
// The engine does not know where events come from: Config.Schema is the
// Arrow schema of the batches it is given (event.Schema, wired in by the
// command), which must hold the RequiredColumns; the other columns are what
// rules may read.
//
// # What a rule sees
//
//   - events: the decoded events (the columns of Config.Schema), only the
//     successful calls (error_code IS NULL) unless Config.IncludeFailedCalls.
//   - raw_events: the same events including failed calls.
//   - allowed_regions(region): the allowed AWS regions.
//   - lambda_trusted_buckets(bucket): S3 buckets Lambda code may come from.
//   - settings(include_failed_calls): the engine's settings, one row.
//
// Configuration reaches SQL only through these tables
// (query/config_tables.sql, query/events_view.sql).
//
// # What a rule returns
//
// Exactly these columns, in this order and of these DuckDB types:
//
//	event_id     VARCHAR      CloudTrail eventID
//	account_id   VARCHAR      the account the violation belongs to
//	region       VARCHAR      AWS region name
//	instance_id  VARCHAR      affected resource, NULL for none
//	username     VARCHAR      actor ARN, may be NULL
//	meta_info    VARCHAR      JSON text (NULL is stored as {})
//	event_time   TIMESTAMPTZ  CloudTrail eventTime
//	object_key   VARCHAR      the log object the event came from
//
// The rule derives the account id itself (for example userIdentity's account,
// else the session issuer's). A row whose account_id or event_id is NULL or
// empty cannot be stored: the engine drops it and logs a warning. Rows with
// the same identity (Violation.Key) and object are reported once; the same
// event delivered in two objects is two detections, so results do not
// depend on how objects are grouped into one Evaluate call.
//
// The engine checks every rule when it starts: the header is complete, the
// type equals the file name, the file holds exactly one SELECT, and the
// SELECT runs over an empty events table and returns the columns above.
//
// # Efficiency
//
// A rule should filter on event_source and event_name before it reads the
// JSON columns (request_parameters, response_elements ...). The engine loads
// into DuckDB only the event columns that some rule names (DuckDB's parser
// tells which); a star, COLUMNS(), a NATURAL join or a whole-row reference
// to events (to_json(e)) loads every column, so rules should name columns.
// When every rule names its sources (and events) in its header, the engine
// hands DuckDB only those events.
package duckdb
