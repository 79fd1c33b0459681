package store

// Keys of the package's log attributes; the same concept has the same key
// in every package of fullstop ("err" for an error).
const (
	logDuration = "duration"
	logErr      = "err"
	logFile     = "file"
	logObjects  = "objects"
	logRule     = "rule"
	logTry      = "try"
	logType     = "type"
	logVersion  = "version"
)
