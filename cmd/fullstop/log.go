package main

// Keys of the command's log attributes; the same concept has the same key
// in every package of fullstop.
const (
	logAuth     = "auth"
	logDuration = "duration"
	logJob      = "job"
	logListen   = "listen"
	logSchedule = "schedule"
	logSignal   = "signal"
	logSource   = "source"
)
