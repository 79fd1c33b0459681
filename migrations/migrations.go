// Package migrations holds fullstop's PostgreSQL schema as goose v3 SQL
// migrations, embedded in the binary.
//
// Everything lives in the schema fullstop_data, with the reference's table
// and column names. Deliberate differences to the reference schema:
//
//   - every timestamp is timestamptz, and lifecycle.event_date is a full
//     timestamp instead of a DATE;
//   - violation has one identity index, unique_violation, over (account_id,
//     region, event_id, violation_type_entity_id, instance_id) with NULLS NOT
//     DISTINCT, replacing the reference's two partial indexes, and the
//     columns last_seen, seen_count and event_time for re-detections;
//   - app_version has an application_id column (the owning application,
//     NULL for a version seen without one) and its names are unique per
//     application (unique_version_name over (application_id, name), NULLS
//     NOT DISTINCT); application_version_entities is kept for compatibility
//     and mirrors that ownership;
//   - lifecycle has an event_id column; one row per (event_id, instance_id,
//     event_type) where event_id is set (unique_lifecycle_event), so
//     re-processing adds nothing;
//   - ledger records every processed CloudTrail object (done, failed or
//     quarantined);
//   - the legacy rule_entity table and the create_or_update_violation_type
//     function are not created;
//   - two partial indexes over the open violations serve the REST API's
//     filters and counts (00005_api_indexes.sql, measured with make
//     bench-api).
//
// goose records the applied versions in the table VersionTable of the
// connection's default schema (public), outside fullstop_data, so that
// migrating all the way down leaves nothing of fullstop_data behind.
package migrations

import "embed"

// FS holds the migration files, named <version>_<name>.sql, each with a
// "-- +goose Up" and a "-- +goose Down" section.
//
//go:embed *.sql
var FS embed.FS

// VersionTable is the table goose keeps the applied migration versions in.
const VersionTable = "fullstop_db_version"
