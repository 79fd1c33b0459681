// Package etl moves CloudTrail log objects from a Source into a Ledger:
// it parses CloudTrail's key layout, lists the date folders of a time
// window (never the whole bucket; see Lister), skips objects the ledger
// already holds, and runs the batch pipeline: fetchers that GET objects
// ahead of a bounded pool of workers, which gunzip (Inflater), decode into
// Arrow batches (etl/event) and evaluate the rules over gathered objects
// (Evaluator), and a committer that writes each group of objects'
// violations and ledger rows in one transaction, so that every object is
// counted exactly once. A Scheduler runs batches over the look-back window
// on a schedule.
//
// The package declares what it consumes, in its own types: Source (etl/s3
// for S3 and S3-compatible servers, etl/file for a local folder holding the
// same key layout), Ledger with its records ObjectDone, ObjectFailed,
// ObjectState and GroupResult (package store implements it), Evaluator
// (the rule engine, rules/duckdb), LakeWriter (the events lake, etl/lake,
// which receives each object's events before the object commits) and BatchRunner and Schedule for the
// Scheduler. It imports only etl/event and rules of fullstop's packages.
package etl
