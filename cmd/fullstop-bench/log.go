package main

// Keys of the benchmark's log attributes.
const (
	logArgs         = "args"
	logCmd          = "cmd"
	logDays         = "days"
	logDir          = "dir"
	logEvents       = "events"
	logEventsPerS   = "events_per_s"
	logFillRequests = "fill_requests"
	logFirst        = "first"
	logFirstWall    = "first_wall"
	logObjects      = "objects"
	logPeakRSSMB    = "peak_rss_mb"
	logPool         = "pool"
	logProblem      = "problem"
	logRequests     = "requests"
	logRun          = "run"
	logSecond       = "second"
	logSecondWall   = "second_wall"
	logWall         = "wall"
	logWindow       = "window"
	logWorkers      = "workers"
)
