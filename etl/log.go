package etl

// Keys of the package's log attributes. The same concept has the same key
// in every package of fullstop: "err" for an error, "key" for an object
// key, "source" for a source.
const (
	logAlreadyDone = "already_done"
	logCandidates  = "candidates"
	logDayFolders  = "day_folders"
	logDuration    = "duration"
	logErr         = "err"
	logEvents      = "events"
	logFailed      = "failed"
	logFirstReason = "first_reason"
	logFrom        = "from"
	logInterrupted = "interrupted"
	logKey         = "key"
	logListCalls   = "list_calls"
	logListed      = "listed"
	logNew         = "new"
	logNext        = "next"
	logObjects     = "objects"
	logQuarantined = "quarantined"
	logReason      = "reason"
	logRegions     = "regions"
	logSeenAgain   = "seen_again"
	logSkipped     = "skipped"
	logSkippedKeys = "skipped_keys"
	logSource      = "source"
	logTo          = "to"
	logTrails      = "trails"
	logViolations  = "violations"
)
