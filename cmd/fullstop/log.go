package main

// Keys of the command's log attributes; the same concept has the same key
// in every package of fullstop.
const (
	logAuth     = "auth"
	logDir      = "dir"
	logDuration = "duration"
	logJob      = "job"
	logListen   = "listen"
	logReason   = "reason"
	logSchedule = "schedule"
	logSignal   = "signal"
	logSource   = "source"
	logTypes    = "types"
)
