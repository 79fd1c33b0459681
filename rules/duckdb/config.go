package duckdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fullstop-audit/fullstop/rules"
	sqlfiles "github.com/fullstop-audit/fullstop/sql"
)

// DefaultAllowedRegions are the allowed regions when Config.AllowedRegions
// is empty (as in the reference).
var DefaultAllowedRegions = []string{"eu-central-1", "eu-west-1"}

// Defaults of the lookup settings.
const (
	DefaultLookupConcurrency = 16
	DefaultLookupTimeout     = 3 * time.Second
	DefaultTaupageNamePrefix = "Taupage"
)

// Disabled is a rule the engine does not run, and why.
type Disabled struct {
	Rule   rules.Rule
	Reason string
}

// Resolver answers the lookups of the enrichers (sql/enrich/*.sql): facts
// that are not in the events, such as the AMI behind an instance. The
// engine asks it once per distinct key of an Evaluate call, concurrently;
// caching across calls and merging concurrent asks for one key are the
// resolver's business.
type Resolver interface {
	// LookupKinds lists the lookup kinds it answers, e.g. "ec2.image".
	LookupKinds() []string
	// Lookup answers one key of a kind (the enricher's key columns, in
	// order) with a JSON object, or with nil when the thing does not
	// exist: not found is an answer. An error means the answer is not
	// known now (a timeout, throttling, a server error, access denied):
	// the objects whose events need the key are left for a later run.
	Lookup(ctx context.Context, kind string, key []string) (json.RawMessage, error)
}

// ErrNotBuilt is New's error in a binary built without the build tag
// duckdb_arrow, which holds no rule engine.
var ErrNotBuilt = errors.New("this fullstop was built without the rule engine (build tag duckdb_arrow): " +
	"build it with `make build`, or `go build -tags duckdb_arrow ./cmd/fullstop`")

// Config configures an Engine. Zero fields get the documented defaults.
type Config struct {
	// Schema is the Arrow schema of the event batches Evaluate is given
	// (event.Schema); required. It must have the columns in
	// RequiredColumns; the other columns are what rules may read.
	Schema *arrow.Schema
	// AllowedRegions are the regions resources may be created in.
	// Default (nil or empty): DefaultAllowedRegions.
	AllowedRegions []string
	// LambdaTrustedBuckets are the S3 buckets Lambda code may come from.
	// Default empty: every Lambda create/update is untrusted.
	LambdaTrustedBuckets []string
	// IncludeFailedCalls lets rules see events with an errorCode too.
	// Default false: the view events holds only error_code IS NULL.
	IncludeFailedCalls bool
	// Rules holds the rule files rules/*.sql and the enricher files
	// enrich/*.sql. Default: sqlfiles.Rules.
	Rules fs.FS
	// MoreRules are rules from elsewhere (compiled Sigma rules), run
	// with those of Rules; a type both name is an error.
	MoreRules []rules.Rule
	// Combine, when set, is offered the rules without lookups and returns
	// those it runs together and the one query that does (each row led
	// by the rule's index in the returned rules, then the violation
	// columns); sigma.Combine is one. The rest run one query each.
	Combine func([]rules.Rule) ([]rules.Rule, string)
	// QueriesOnly runs every rule as its query, also those with a
	// rules.Detector, which the engine otherwise decides in Go (for
	// comparisons: the results are the same).
	QueriesOnly bool
	// Selection, when set, chooses which of the rules run (--rules);
	// nil runs them all.
	Selection *rules.Selection
	// Resolver answers the enrichers' lookups. Nil: no lookups; the
	// rules that need one are disabled (Engine.Disabled) and the tables
	// of optional lookups stay empty.
	Resolver Resolver
	// LookupConcurrency bounds the lookups in flight in one Evaluate
	// call. Default DefaultLookupConcurrency.
	LookupConcurrency int
	// LookupTimeout bounds one lookup. Default DefaultLookupTimeout.
	LookupTimeout time.Duration
	// TaupageOwners are the AWS accounts whose AMIs named with
	// TaupageNamePrefix are Taupage AMIs (FULLSTOP_TAUPAGE_OWNERS).
	TaupageOwners []string
	// TaupageNamePrefix starts the name of every Taupage AMI
	// (case-sensitive). Default DefaultTaupageNamePrefix.
	TaupageNamePrefix string
	// SecurityGroupSnapshots makes Evaluate return the security-group
	// snapshots of launches (Findings.Snapshots) when the resolver
	// answers ec2.security_groups. Default false.
	SecurityGroupSnapshots bool
	// Log receives warnings and debug output. Default: discarded.
	Log *slog.Logger
}

// Columns of the event schema that the engine reads itself, whatever the
// rules name.
const (
	ColObjectKey   = "object_key"   // the log object an event came from: string
	ColEventID     = "event_id"     // CloudTrail eventID: string
	ColEventTime   = "event_time"   // CloudTrail eventTime: timestamp
	ColErrorCode   = "error_code"   // CloudTrail errorCode, null for a successful call: string
	ColEventSource = "event_source" // CloudTrail eventSource: string
	ColEventName   = "event_name"   // CloudTrail eventName: string
)

// RequiredColumns are the columns Config.Schema must have, with their
// Arrow type IDs.
var RequiredColumns = []struct {
	Name string
	Type arrow.Type
}{
	{ColObjectKey, arrow.STRING},
	{ColEventID, arrow.STRING},
	{ColEventTime, arrow.TIMESTAMP},
	{ColErrorCode, arrow.STRING},
	{ColEventSource, arrow.STRING},
	{ColEventName, arrow.STRING},
}

// withDefaults returns cfg with defaults filled in and list values trimmed,
// blank ones dropped and duplicates removed, or why it cannot be used.
func (cfg Config) withDefaults() (Config, error) {
	if err := checkSchema(cfg.Schema); err != nil {
		return cfg, err
	}
	cfg.AllowedRegions = cleanList(cfg.AllowedRegions)
	if len(cfg.AllowedRegions) == 0 {
		cfg.AllowedRegions = slices.Clone(DefaultAllowedRegions)
	}
	cfg.LambdaTrustedBuckets = cleanList(cfg.LambdaTrustedBuckets)
	cfg.TaupageOwners = cleanList(cfg.TaupageOwners)
	if cfg.TaupageNamePrefix = strings.TrimSpace(cfg.TaupageNamePrefix); cfg.TaupageNamePrefix == "" {
		cfg.TaupageNamePrefix = DefaultTaupageNamePrefix
	}
	if cfg.LookupConcurrency <= 0 {
		cfg.LookupConcurrency = DefaultLookupConcurrency
	}
	if cfg.LookupTimeout <= 0 {
		cfg.LookupTimeout = DefaultLookupTimeout
	}
	if cfg.Rules == nil {
		cfg.Rules = sqlfiles.Rules
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// checkSchema checks that the event schema has the required columns.
func checkSchema(s *arrow.Schema) error {
	if s == nil {
		return errors.New("no event schema")
	}
	for _, c := range RequiredColumns {
		idx := s.FieldIndices(c.Name)
		if len(idx) != 1 {
			return fmt.Errorf("event schema: want one column %q, found %d", c.Name, len(idx))
		}
		if got := s.Field(idx[0]).Type.ID(); got != c.Type {
			return fmt.Errorf("event schema: column %q is %s, want %s", c.Name, got, c.Type)
		}
	}
	return nil
}

func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
