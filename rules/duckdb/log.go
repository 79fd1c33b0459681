package duckdb

// Keys of the package's log attributes; the same concept has the same key
// in every package of fullstop ("err" for an error).
const (
	logEnrich     = "enrich"
	logErr        = "err"
	logEvents     = "events"
	logLifecycles = "lifecycles"
	logLoad       = "load"
	logReason     = "reason"
	logRule       = "rule"
	logRules      = "rules"
	logSnapshots  = "snapshots"
	logRows       = "rows"
	logTotal      = "total"
	logView       = "view"
	logViolations = "violations"
)
