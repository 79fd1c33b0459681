package rules

import "time"

// Findings is what an evaluation of events produces: the violations, and
// the application lifecycle rows of the EC2 instance events.
type Findings struct {
	Violations []Violation
	Lifecycles []Lifecycle
}

// Lifecycle is one step in the life of an application's instance
// (reference §4.12): a RunInstances, StartInstances, StopInstances or
// TerminateInstances event for an instance whose Taupage user data names
// both the application and its version. Its identity is (EventID,
// InstanceID, EventType): one row per event, instance and event type.
type Lifecycle struct {
	EventID     string
	EventType   string    // the event's name, e.g. RunInstances
	EventDate   time.Time // the instance's launch time for RunInstances, else the event's time (UTC)
	AccountID   string
	Region      string
	InstanceID  string
	ImageID     string // the instance's AMI; "" when unknown
	ImageName   string // the AMI's name; "" when unknown
	Application string // application_id of the user data
	Version     string // application_version of the user data
	ObjectKey   string // the log object the event came from
}

// Key returns the identity of the lifecycle row.
func (l Lifecycle) Key() [3]string { return [3]string{l.EventID, l.InstanceID, l.EventType} }
