// Package rules turns CloudTrail events into violations with SQL.
//
// Every violation type has one rule file, sql/rules/<TYPE>.sql: a header of
// comment lines (type, title, severity, priority, help) and one SELECT over
// the view events. The Engine runs all rules in an in-process DuckDB over the
// Arrow record batches of package etl/event and returns rules.Violation
// values.
//
// # What a rule sees
//
//   - events: the decoded events (columns as in event.Schema), only the
//     successful calls (error_code IS NULL) unless Config.IncludeFailedCalls.
//   - raw_events: the same events including failed calls.
//   - allowed_regions(region): the allowed AWS regions.
//   - lambda_trusted_buckets(bucket): S3 buckets Lambda code may come from.
//   - settings(include_failed_calls): the engine's settings, one row.
//
// Configuration reaches SQL only through these tables.
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
//
// The engine needs the build tag duckdb_arrow (DuckDB's Arrow interface);
// without it the package holds only Violation and the rule file parser.
package rules
