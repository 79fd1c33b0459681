package rules

import "time"

// Violation is one violation a rule found. Its identity is (AccountID,
// Region, EventID, Type, InstanceID), with an empty InstanceID meaning NULL.
type Violation struct {
	Type       string // violation type id, e.g. WRONG_REGION
	EventID    string // CloudTrail eventID
	AccountID  string // AWS account the violation belongs to
	Region     string // AWS region name, any string
	InstanceID string // affected resource; "" is NULL
	Username   string // actor ARN (userIdentity.arn); "" is NULL
	MetaInfo   string // JSON text
	// Application and Version are the names of the application and
	// version the affected resource runs, "" when unknown.
	Application string
	Version     string
	Rule        string    // the rule that produced it, e.g. "sql/rules/WRONG_REGION.sql"
	EventTime   time.Time // CloudTrail eventTime (UTC)
	ObjectKey   string    // the log object the event came from
	// Correlation is set on a match of a correlation rule: one event that
	// counts in a window (see WindowOf) rather than a violation of its
	// own. The store counts it; Correlate does so in memory.
	Correlation *Correlation
	// Matches is, on a match of a correlation rule, how many matching
	// events of its object and window it stands for (see Tally), itself
	// the earliest of them; 0 counts as 1.
	Matches int
}

// MatchCount is how many matching events v stands for: Matches, at least 1.
func (v Violation) MatchCount() int { return max(v.Matches, 1) }

// Key returns the identity of the violation as one comparable value.
func (v Violation) Key() [5]string {
	return [5]string{v.AccountID, v.Region, v.EventID, v.Type, v.InstanceID}
}
