package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/fullstop-audit/fullstop/store"
)

// isoTime is a time as the reference writes it: ISO 8601, UTC,
// milliseconds (2015-05-21T10:24:47.788Z).
type isoTime time.Time

const isoLayout = "2006-01-02T15:04:05.000Z07:00"

func (t isoTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(isoLayout))
}

// UnmarshalJSON reads what MarshalJSON writes (for clients and tests).
func (t *isoTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = isoTime(v)
	return nil
}

func isoPtr(t *time.Time) *isoTime {
	if t == nil {
		return nil
	}
	v := isoTime(*t)
	return &v
}

// violationJSON is a violation as the reference shows it (§7.3), with
// event_time, last_seen and seen_count added.
type violationJSON struct {
	ID                            int64             `json:"id"`
	Version                       int64             `json:"version"`
	EventID                       *string           `json:"event_id"`
	AccountID                     *string           `json:"account_id"`
	Region                        *string           `json:"region"`
	InstanceID                    *string           `json:"instance_id"`
	MetaInfo                      json.RawMessage   `json:"meta_info"`
	Comment                       *string           `json:"comment"`
	PluginFullyQualifiedClassName *string           `json:"plugin_fully_qualified_class_name"`
	Username                      *string           `json:"username"`
	RuleID                        *int64            `json:"rule_id"`
	ApplicationID                 *string           `json:"application_id"`         // application name
	ApplicationVersionID          *string           `json:"application_version_id"` // version name
	ViolationType                 violationTypeJSON `json:"violation_type"`
	Created                       isoTime           `json:"created"`
	CreatedBy                     *string           `json:"created_by"`
	LastModified                  *isoTime          `json:"last_modified"`
	LastModifiedBy                *string           `json:"last_modified_by"`
	EventTime                     *isoTime          `json:"event_time"`
	LastSeen                      isoTime           `json:"last_seen"`
	SeenCount                     int               `json:"seen_count"`
}

// violationTypeJSON is a violation type as the reference shows it.
type violationTypeJSON struct {
	ID                string  `json:"id"`
	HelpText          string  `json:"help_text"`
	ViolationSeverity int     `json:"violation_severity"`
	AuditRelevant     bool    `json:"audit_relevant"`
	Title             *string `json:"title"`
	Priority          *int    `json:"priority"`
	Version           int64   `json:"version"`
	Created           isoTime `json:"created"`
	CreatedBy         *string `json:"created_by"`
	LastModified      isoTime `json:"last_modified"`
	LastModifiedBy    *string `json:"last_modified_by"`
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func typeJSON(t store.ViolationType) violationTypeJSON {
	return violationTypeJSON{
		ID: t.ID, HelpText: t.HelpText, ViolationSeverity: t.Severity, AuditRelevant: t.AuditRelevant,
		Title: nonEmpty(t.Title), Priority: t.Priority, Version: t.Version, Created: isoTime(t.Created),
		CreatedBy: nonEmpty(t.CreatedBy), LastModified: isoTime(t.LastModified), LastModifiedBy: nonEmpty(t.LastModifiedBy),
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

func violationToJSON(v store.Violation) violationJSON {
	return violationJSON{
		ID: v.ID, Version: v.Version, EventID: v.EventID, AccountID: v.AccountID, Region: v.Region,
		InstanceID: v.InstanceID, MetaInfo: metaJSON(v.MetaInfo), Comment: v.Comment,
		PluginFullyQualifiedClassName: v.PluginFullyQualifiedClassName, Username: v.Username, RuleID: v.RuleID,
		ApplicationID: v.Application, ApplicationVersionID: v.ApplicationVersion, ViolationType: typeJSON(v.Type),
		Created: isoTime(v.Created), CreatedBy: v.CreatedBy, LastModified: isoPtr(v.LastModified),
		LastModifiedBy: v.LastModifiedBy, EventTime: isoPtr(v.EventTime), LastSeen: isoTime(v.LastSeen),
		SeenCount: v.SeenCount,
	}
}

// pageJSON is the reference's (Spring Data's) page envelope.
type pageJSON[T any] struct {
	Content          []T             `json:"content"`
	TotalElements    int64           `json:"total_elements"`
	TotalPages       int64           `json:"total_pages"`
	Number           int64           `json:"number"`
	Size             int64           `json:"size"`
	NumberOfElements int             `json:"number_of_elements"`
	First            bool            `json:"first"`
	Last             bool            `json:"last"`
	Sort             []sortOrderJSON `json:"sort"`
}

// sortOrderJSON is one order of a page's sort, as Spring writes it.
type sortOrderJSON struct {
	Direction    string `json:"direction"` // ASC or DESC
	Property     string `json:"property"`
	IgnoreCase   bool   `json:"ignore_case"`
	NullHandling string `json:"null_handling"`
	Ascending    bool   `json:"ascending"`
	Descending   bool   `json:"descending"`
}

func newPage[T any](content []T, total, page, size int64, sorts []sortOrder) pageJSON[T] {
	if content == nil {
		content = []T{}
	}
	pages := (total + size - 1) / size
	p := pageJSON[T]{Content: content, TotalElements: total, TotalPages: pages, Number: page, Size: size,
		NumberOfElements: len(content), First: page == 0, Last: page+1 >= pages, Sort: []sortOrderJSON{}}
	for _, s := range sorts {
		o := sortOrderJSON{Direction: "ASC", Property: s.property, NullHandling: "NULLS_LAST", Ascending: !s.desc, Descending: s.desc}
		if s.desc {
			o.Direction = "DESC"
		}
		p.Sort = append(p.Sort, o)
	}
	return p
}

// accountCountJSON is one row of GET /api/violation-count.
type accountCountJSON struct {
	Account  string `json:"account"`
	Type     string `json:"type"`
	Quantity int64  `json:"quantity"`
}

// applicationCountJSON is one row of GET /api/violation-count/{account}.
type applicationCountJSON struct {
	Application *string `json:"application"`
	Version     *string `json:"version"`
	Type        string  `json:"type"`
	Quantity    int64   `json:"quantity"`
}

// newViolationJSON is the body of POST /api/violations.
type newViolationJSON struct {
	EventID            *string         `json:"event_id"`
	AccountID          *string         `json:"account_id"`
	Region             *string         `json:"region"`
	MetaInfo           json.RawMessage `json:"meta_info"`
	ViolationType      *string         `json:"violation_type"`
	InstanceID         *string         `json:"instance_id,omitempty"`
	Username           *string         `json:"username,omitempty"`
	ApplicationID      *string         `json:"application_id,omitempty"`      // application name
	ApplicationVersion *string         `json:"application_version,omitempty"` // version name
}

// ruleInputJSON is the body of POST and PUT /api/whitelisting-rules: the
// type criterion may be named violation_type (the reference's input) or
// violation_type_entity_id (its output).
type ruleInputJSON struct {
	AccountID             *string `json:"account_id,omitempty"`
	Region                *string `json:"region,omitempty"`
	ApplicationID         *string `json:"application_id,omitempty"`
	ApplicationVersion    *string `json:"application_version,omitempty"`
	ImageName             *string `json:"image_name,omitempty"`
	ImageOwner            *string `json:"image_owner,omitempty"`
	Reason                *string `json:"reason"`
	ExpiryDate            *string `json:"expiry_date,omitempty" format:"date-time"`
	ViolationType         *string `json:"violation_type,omitempty"`
	ViolationTypeEntityID *string `json:"violation_type_entity_id,omitempty"`
	MetaInfoJSONPath      *string `json:"meta_info_json_path,omitempty"`
	Version               *int64  `json:"version,omitempty"` // ignored: a rule is replaced, never updated
}

// ruleJSON is a whitelisting rule as the API shows it; the type criterion
// under both names.
type ruleJSON struct {
	ID                    int64   `json:"id"`
	AccountID             *string `json:"account_id"`
	Region                *string `json:"region"`
	ApplicationID         *string `json:"application_id"`
	ApplicationVersion    *string `json:"application_version"`
	ImageName             *string `json:"image_name"`
	ImageOwner            *string `json:"image_owner"`
	Reason                string  `json:"reason"`
	ExpiryDate            isoTime `json:"expiry_date"`
	ViolationTypeEntityID *string `json:"violation_type_entity_id"`
	ViolationType         *string `json:"violation_type"`
	MetaInfoJSONPath      *string `json:"meta_info_json_path"`
	Created               isoTime `json:"created"`
	CreatedBy             string  `json:"created_by"`
	LastModified          isoTime `json:"last_modified"`
	LastModifiedBy        *string `json:"last_modified_by"`
	Version               int64   `json:"version"`
}

func ruleToJSON(r store.StoredWhitelistRule) ruleJSON {
	return ruleJSON{
		ID: r.ID, AccountID: nonEmpty(r.AccountID), Region: nonEmpty(r.Region), ApplicationID: nonEmpty(r.ApplicationID),
		ApplicationVersion: nonEmpty(r.ApplicationVersion), ImageName: nonEmpty(r.ImageName), ImageOwner: nonEmpty(r.ImageOwner),
		Reason: r.Reason, ExpiryDate: isoTime(r.ExpiryDate), ViolationTypeEntityID: nonEmpty(r.Type),
		ViolationType: nonEmpty(r.Type), MetaInfoJSONPath: nonEmpty(r.MetaInfoJSONPath), Created: isoTime(r.Created),
		CreatedBy: r.CreatedBy, LastModified: isoTime(r.LastModified), LastModifiedBy: nonEmpty(r.LastModifiedBy),
		Version: r.Version,
	}
}

// applyJSON is the answer of POST /api/whitelisting-rules/{id}/apply.
type applyJSON struct {
	RuleID int64 `json:"rule_id"`
	DryRun bool  `json:"dry_run"`
	// Violations is how many open violations the rule whitelisted (or, in
	// a dry run, would whitelist).
	Violations int `json:"violations"`
}

// healthJSON is the answer of GET /health.
type healthJSON struct {
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
