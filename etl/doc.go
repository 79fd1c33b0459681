// Package etl moves CloudTrail log objects from a Source into the store:
// it parses CloudTrail's key layout, lists the day folders of a time window
// (never the whole bucket), skips objects the ledger already holds, and runs
// the batch pipeline: fetchers that GET objects ahead of a bounded pool of
// workers, which gunzip (Inflater), decode into Arrow batches (etl/event)
// and evaluate the rules over gathered objects, and a committer that writes
// each group of objects' violations and ledger rows in one transaction, so
// that every object is counted exactly once.
//
// Sources are sibling packages: etl/s3 for S3 and S3-compatible servers,
// etl/file for a local folder holding the same key layout.
package etl
