// Package sqlfiles embeds the SQL files of fullstop: one rule per violation
// type under rules/, each a header of "-- key: value" comment lines followed
// by one SELECT over the view events (see package rules), and the saved
// audit queries of fullstop query under queries/ (see rules/duckdb/audit).
package sqlfiles

import "embed"

// Rules holds the rule files, rules/<TYPE>.sql, and the enricher files
// that fill the tables rules join, enrich/<NN>_<table>.sql.
//
//go:embed rules/*.sql enrich/*.sql
var Rules embed.FS

// Sigma holds fullstop's own detections in the Sigma format,
// sigma/<name>.yml (see rules/sigma).
//
//go:embed sigma/*.yml
var Sigma embed.FS

// Queries holds the saved audit queries, queries/<name>.sql.
//
//go:embed queries/*.sql
var Queries embed.FS
