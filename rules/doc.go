// Package rules holds what fullstop's detections are made of, without the
// engine that runs them: Violation, the violation a rule finds; Rule, one
// violation type's rule file; and LoadRules, the parser of rule files.
//
// Every violation type has one rule file, sql/rules/<TYPE>.sql: a header of
// comment lines (type, title, severity, priority, help, and optionally
// sources and events) and one SELECT over the view events. The DuckDB
// engine in rules/duckdb runs them over Arrow record batches; it needs the
// build tag duckdb_arrow, this package needs no tag and imports no other
// package of fullstop, so the store, the pipeline and the API can all use
// its types.
package rules
