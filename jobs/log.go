package jobs

// Keys of the package's log attributes; the same concept has the same key
// in every package of fullstop ("err" for an error).
const (
	logDuration  = "duration"
	logErr       = "err"
	logFailed    = "failed"
	logJob       = "job"
	logNew       = "new"
	logSeenAgain = "seen_again"
	logTarget    = "target"
	logTargets   = "targets"
)
