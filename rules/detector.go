package rules

import (
	"errors"
	"time"
)

// Event is one event as a Detector reads it: its columns by the names of
// the view raw_events.
type Event interface {
	// Text is the value of a string column; false when it is NULL.
	Text(column string) (string, bool)
	// Time is the value of a timestamp column; false when it is NULL.
	Time(column string) (time.Time, bool)
	// JSONText is what json_extract_string gives for path (object keys)
	// in the JSON text of a string column: a string's value, other
	// scalars as their JSON text; false when the column or the member is
	// NULL or missing. With no path it is the column's text when that is
	// valid JSON (try_cast(column AS JSON)). ErrUndecided when the answer
	// would need more of the query engine's JSON than Go's copy of it
	// has (invalid JSON; or the text of an object, an array or a
	// fraction, which exist: then the bool is true).
	JSONText(column string, path []string) (string, bool, error)
}

// A Detector finds in Go, one event at a time, the violation that its
// rule's query finds for that event: a fast path the engine may take
// instead of the query, with the same result. The query stays the
// rule's definition.
type Detector interface {
	// Detect returns the event's violation, or false. ErrUndecided: Go
	// cannot decide this event as the query would; the engine runs the
	// query. The violation's strings may be the event's, valid only
	// during the call: the caller copies them.
	Detect(ev Event) (Violation, bool, error)
}

// A MatchDetector is a Detector that can also tell a match without
// building its violation's meta_info. The engine uses it for the matches
// of correlation rules, which are counted: it builds the meta_info, with
// Detect, only for the match that describes its window and object.
type MatchDetector interface {
	Detector
	// DetectMatch is Detect with MetaInfo left empty.
	DetectMatch(ev Event) (Violation, bool, error)
}

// ErrUndecided is returned by a Detector for an event it cannot decide
// exactly as its rule's query would.
var ErrUndecided = errors.New("not decidable in Go as in SQL")
