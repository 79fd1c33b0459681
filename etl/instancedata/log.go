package instancedata

// Keys of the package's log attributes; the same concept has the same key
// in every package of fullstop.
const (
	logEvent    = "event"
	logInstance = "instance"
)
