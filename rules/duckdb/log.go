package duckdb

// Keys of the package's log attributes; the same concept has the same key
// in every package of fullstop ("err" for an error).
const (
	logErr        = "err"
	logEvents     = "events"
	logLifecycles = "lifecycles"
	logLoad       = "load"
	logReason     = "reason"
	logRule       = "rule"
	logSnapshots  = "snapshots"
	logRows       = "rows"
	logTotal      = "total"
	logView       = "view"
	logViolations = "violations"
)
