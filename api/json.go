package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/fullstop-audit/fullstop/store"
)

// Time is a time as the reference writes it: ISO 8601, UTC,
// milliseconds (2015-05-21T10:24:47.788Z). Convert with time.Time(t).
type Time time.Time

const isoLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON writes t in UTC with milliseconds.
func (t Time) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(isoLayout))
}

// UnmarshalJSON reads what MarshalJSON writes, or any RFC 3339 time (for
// clients and tests).
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = Time(v)
	return nil
}

func isoPtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}

// Violation is a violation as the reference shows it (§7.3), with
// event_time, last_seen and seen_count added.
type Violation struct {
	ID         int64   `json:"id"`
	Version    int64   `json:"version"`  // the row's version, raised by every change
	EventID    *string `json:"event_id"` // the CloudTrail event
	AccountID  *string `json:"account_id"`
	Region     *string `json:"region"`
	InstanceID *string `json:"instance_id"`
	// MetaInfo is the rule's details: JSON as stored, {"data": text}
	// when the stored text is not JSON, null when there is none.
	MetaInfo json.RawMessage `json:"meta_info"`
	// Comment is the resolution's comment; nil while the violation is open.
	Comment *string `json:"comment"`
	// PluginFullyQualifiedClassName names the rule that found the violation
	// (the reference's plugin class).
	PluginFullyQualifiedClassName *string `json:"plugin_fully_qualified_class_name"`
	Username                      *string `json:"username"` // who caused the event
	// RuleID is the whitelisting rule that whitelisted the violation; nil
	// when it is not whitelisted.
	RuleID               *int64        `json:"rule_id"`
	ApplicationID        *string       `json:"application_id"`         // application name
	ApplicationVersionID *string       `json:"application_version_id"` // version name
	ViolationType        ViolationType `json:"violation_type"`
	Created              Time          `json:"created"`
	CreatedBy            *string       `json:"created_by"`
	LastModified         *Time         `json:"last_modified"`
	LastModifiedBy       *string       `json:"last_modified_by"`
	EventTime            *Time         `json:"event_time"` // the event's time
	LastSeen             Time          `json:"last_seen"`  // when it was last found again
	SeenCount            int           `json:"seen_count"` // how often it was found
}

// ViolationType is a violation type as the reference shows it.
type ViolationType struct {
	ID                string  `json:"id"` // e.g. WRONG_REGION
	HelpText          string  `json:"help_text"`
	ViolationSeverity int     `json:"violation_severity"` // 0..4, higher is worse
	AuditRelevant     bool    `json:"audit_relevant"`
	Title             *string `json:"title"`
	Priority          *int    `json:"priority"` // 1 is the most important; nil for an auto-created type
	Version           int64   `json:"version"`
	Created           Time    `json:"created"`
	CreatedBy         *string `json:"created_by"`
	LastModified      Time    `json:"last_modified"`
	LastModifiedBy    *string `json:"last_modified_by"`
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func typeJSON(t store.ViolationType) ViolationType {
	return ViolationType{
		ID: t.ID, HelpText: t.HelpText, ViolationSeverity: t.Severity, AuditRelevant: t.AuditRelevant,
		Title: nonEmpty(t.Title), Priority: t.Priority, Version: t.Version, Created: Time(t.Created),
		CreatedBy: nonEmpty(t.CreatedBy), LastModified: Time(t.LastModified), LastModifiedBy: nonEmpty(t.LastModifiedBy),
	}
}

// metaJSON is stored meta_info as JSON: as it is when it is JSON, else
// {"data": text} as the reference, null when NULL.
func metaJSON(meta *string) json.RawMessage {
	if meta == nil {
		return json.RawMessage("null")
	}
	if json.Valid([]byte(*meta)) {
		return json.RawMessage(*meta)
	}
	b, _ := json.Marshal(map[string]string{"data": *meta})
	return b
}

func violationToJSON(v store.Violation) Violation {
	return Violation{
		ID: v.ID, Version: v.Version, EventID: v.EventID, AccountID: v.AccountID, Region: v.Region,
		InstanceID: v.InstanceID, MetaInfo: metaJSON(v.MetaInfo), Comment: v.Comment,
		PluginFullyQualifiedClassName: v.PluginFullyQualifiedClassName, Username: v.Username, RuleID: v.RuleID,
		ApplicationID: v.Application, ApplicationVersionID: v.ApplicationVersion, ViolationType: typeJSON(v.Type),
		Created: Time(v.Created), CreatedBy: v.CreatedBy, LastModified: isoPtr(v.LastModified),
		LastModifiedBy: v.LastModifiedBy, EventTime: isoPtr(v.EventTime), LastSeen: Time(v.LastSeen),
		SeenCount: v.SeenCount,
	}
}

// Page is the reference's (Spring Data's) page envelope.
type Page[T any] struct {
	Content          []T         `json:"content"`            // this page's items, never null
	TotalElements    int64       `json:"total_elements"`     // items on all pages
	TotalPages       int64       `json:"total_pages"`        // pages of Size items
	Number           int64       `json:"number"`             // this page's number, from 0
	Size             int64       `json:"size"`               // the page size asked for
	NumberOfElements int         `json:"number_of_elements"` // len(Content)
	First            bool        `json:"first"`              // Number is 0
	Last             bool        `json:"last"`               // no page follows
	Sort             []SortOrder `json:"sort"`               // the orders the page was sorted by
}

// SortOrder is one order of a page's sort, as Spring writes it.
type SortOrder struct {
	Direction    string `json:"direction"` // ASC or DESC
	Property     string `json:"property"`  // a violation field, camelCase (lastSeen)
	IgnoreCase   bool   `json:"ignore_case"`
	NullHandling string `json:"null_handling"` // NULLS_LAST
	Ascending    bool   `json:"ascending"`
	Descending   bool   `json:"descending"`
}

func newPage[T any](content []T, total, page, size int64, sorts []sortOrder) Page[T] {
	if content == nil {
		content = []T{}
	}
	pages := (total + size - 1) / size
	p := Page[T]{Content: content, TotalElements: total, TotalPages: pages, Number: page, Size: size,
		NumberOfElements: len(content), First: page == 0, Last: page+1 >= pages, Sort: []SortOrder{}}
	for _, s := range sorts {
		o := SortOrder{Direction: "ASC", Property: s.property, NullHandling: "NULLS_LAST", Ascending: !s.desc, Descending: s.desc}
		if s.desc {
			o.Direction = "DESC"
		}
		p.Sort = append(p.Sort, o)
	}
	return p
}

// AccountCount is one row of GET /api/violation-count.
type AccountCount struct {
	Account  string `json:"account"`  // account id
	Type     string `json:"type"`     // violation type id
	Quantity int64  `json:"quantity"` // violations of the account and type
}

// ApplicationCount is one row of GET /api/violation-count/{account}.
type ApplicationCount struct {
	Application *string `json:"application"` // application name; nil: none known
	Version     *string `json:"version"`     // version name; nil: none known
	Type        string  `json:"type"`        // violation type id
	Quantity    int64   `json:"quantity"`    // violations of the application, version and type
}

// NewViolation is the body of POST /api/violations.
type NewViolation struct {
	EventID            *string         `json:"event_id"`
	AccountID          *string         `json:"account_id"`
	Region             *string         `json:"region"`
	MetaInfo           json.RawMessage `json:"meta_info"`      // any JSON value
	ViolationType      *string         `json:"violation_type"` // type id; the type is created if unknown
	InstanceID         *string         `json:"instance_id,omitempty"`
	Username           *string         `json:"username,omitempty"`
	ApplicationID      *string         `json:"application_id,omitempty"`      // application name
	ApplicationVersion *string         `json:"application_version,omitempty"` // version name
}

// RuleInput is the body of POST and PUT /api/whitelisting-rules: the
// type criterion may be named violation_type (the reference's input) or
// violation_type_entity_id (its output).
type RuleInput struct {
	AccountID             *string `json:"account_id,omitempty"`
	Region                *string `json:"region,omitempty"`
	ApplicationID         *string `json:"application_id,omitempty"`
	ApplicationVersion    *string `json:"application_version,omitempty"`
	ImageName             *string `json:"image_name,omitempty"`
	ImageOwner            *string `json:"image_owner,omitempty"`
	Reason                *string `json:"reason"`                                   // required
	ExpiryDate            *string `json:"expiry_date,omitempty" format:"date-time"` // ISO 8601; nil: 9999-01-01, never
	ViolationType         *string `json:"violation_type,omitempty"`
	ViolationTypeEntityID *string `json:"violation_type_entity_id,omitempty"`
	MetaInfoJSONPath      *string `json:"meta_info_json_path,omitempty"` // a JSONPath the meta_info must match
	Version               *int64  `json:"version,omitempty"`             // ignored: a rule is replaced, never updated
}

// Rule is a whitelisting rule as the API shows it; the type criterion
// under both names.
type Rule struct {
	ID                    int64   `json:"id"`
	AccountID             *string `json:"account_id"`
	Region                *string `json:"region"`
	ApplicationID         *string `json:"application_id"`
	ApplicationVersion    *string `json:"application_version"`
	ImageName             *string `json:"image_name"`
	ImageOwner            *string `json:"image_owner"`
	Reason                string  `json:"reason"`
	ExpiryDate            Time    `json:"expiry_date"` // 9999-01-01 when none was given
	ViolationTypeEntityID *string `json:"violation_type_entity_id"`
	ViolationType         *string `json:"violation_type"`
	MetaInfoJSONPath      *string `json:"meta_info_json_path"`
	Created               Time    `json:"created"`
	CreatedBy             string  `json:"created_by"`
	LastModified          Time    `json:"last_modified"`
	LastModifiedBy        *string `json:"last_modified_by"`
	Version               int64   `json:"version"`
}

func ruleToJSON(r store.StoredWhitelistRule) Rule {
	return Rule{
		ID: r.ID, AccountID: nonEmpty(r.AccountID), Region: nonEmpty(r.Region), ApplicationID: nonEmpty(r.ApplicationID),
		ApplicationVersion: nonEmpty(r.ApplicationVersion), ImageName: nonEmpty(r.ImageName), ImageOwner: nonEmpty(r.ImageOwner),
		Reason: r.Reason, ExpiryDate: Time(r.ExpiryDate), ViolationTypeEntityID: nonEmpty(r.Type),
		ViolationType: nonEmpty(r.Type), MetaInfoJSONPath: nonEmpty(r.MetaInfoJSONPath), Created: Time(r.Created),
		CreatedBy: r.CreatedBy, LastModified: Time(r.LastModified), LastModifiedBy: nonEmpty(r.LastModifiedBy),
		Version: r.Version,
	}
}

// ApplyResult is the answer of POST /api/whitelisting-rules/{id}/apply.
type ApplyResult struct {
	RuleID int64 `json:"rule_id"`
	DryRun bool  `json:"dry_run"`
	// Violations is how many open violations the rule whitelisted (or, in
	// a dry run, would whitelist).
	Violations int `json:"violations"`
}

// Health is the answer of GET /health.
type Health struct {
	Status   string `json:"status"`   // UP or DOWN
	Database string `json:"database"` // UP or DOWN
	Error    string `json:"error,omitempty"`
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
