package rules

import "time"

// Findings is what an evaluation of events produces: the violations, the
// application lifecycle rows of the EC2 instance events, and the
// security-group snapshots of launches.
type Findings struct {
	Violations []Violation
	Lifecycles []Lifecycle
	Snapshots  []Snapshot
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

// Snapshot is the state of a launched instance's security groups, as EC2
// described them when the launch was processed (reference §4.13). It is
// written to the instance's boot folder in the instance-data bucket, under
// a name that is the same for the same event, so reprocessing rewrites it.
type Snapshot struct {
	EventID        string
	EventTime      time.Time // the RunInstances event's time (UTC)
	AccountID      string
	Region         string
	InstanceID     string
	LaunchTime     time.Time // the instance's launch time, else the event's (UTC)
	SecurityGroups string    // JSON: {"securityGroups": [...]}
	ObjectKey      string    // the log object the event came from
}
