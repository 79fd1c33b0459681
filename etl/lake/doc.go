// Package lake is the events lake: every decoded CloudTrail event, stored
// as Parquet with the pipeline's Arrow schema
// (etl/event.Schema), hive-partitioned by the source object's key:
//
//	<prefix>/date=YYYY-MM-DD/account=ID/region=NAME/<file>.parquet
//
// The files are plain Parquet that DuckDB, Athena, Trino and Spark read as
// they are (docs/athena.md). A partition holds two kinds of file:
//
//   - o-<hash>.parquet holds the events of one source object; the name is
//     derived from the object's key, so writing the object again (a re-run
//     after a crash, --reprocess) replaces the file instead of adding one.
//   - c-<random>.parquet is written by Compact and holds the events of many
//     objects. Its footer lists them (key-value metadata fullstop.objects)
//     and names the files it replaces (fullstop.supersedes).
//
// Every file appears whole: a folder store writes a hidden temporary file
// and renames it, S3 takes one PutObject. The properties that make each
// event appear once:
//
//   - An object's events are in exactly one file: its o-file, or the c-file
//     whose footer lists it. Writing an object a c-file holds rewrites that
//     c-file with the object's rows replaced, under the same name, in one
//     Put.
//   - Compact writes its c-files first and deletes the files they supersede
//     after. A crash in between leaves both; any later Compact, and every
//     reader through Files, drops the superseded ones.
//
// The files are written by a Parquet writer made for this one schema
// (pqwrite.go), several times faster than a general one: string columns
// are dictionary-encoded while their values repeat, else PLAIN; pages are
// zstd-compressed, at the fastest level for the batches and at level 3 for
// Compact (snappy on request). They are read
// with arrow-go's pqarrow (Compact, rewrites) and by any Parquet reader.
//
// Lake implements etl.LakeWriter. The store is a folder (etl/file) or an
// S3 bucket (etl/s3), through the Store interface.
package lake
