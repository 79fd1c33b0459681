//go:build duckdb_arrow

package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	duckdbgo "github.com/duckdb/duckdb-go/v2"

	"github.com/fullstop-audit/fullstop/rules"
)

const (
	// chunkRows is the size of the Arrow batches handed to DuckDB.
	chunkRows = 16384
	// cleanupTimeout bounds dropping a call's tables after the call.
	cleanupTimeout = 30 * time.Second
)

var (
	//go:embed query/config_tables.sql
	configTablesSQL string
	//go:embed query/events_view.sql
	eventsViewSQL string
)

// Engine evaluates the rules in an in-process DuckDB database. It is safe
// for concurrent use: each Evaluate call works on its own connection.
type Engine struct {
	connector *duckdbgo.Connector
	db        *sql.DB
	rules     []rules.Rule
	input     *arrow.Schema // the schema of the batches Evaluate is given
	cols      []int         // input columns loaded into DuckDB
	schema    *arrow.Schema // their schema
	// full runs every rule as its query; rest runs the rules without a
	// detector, when detection has decided the others in Go. Without
	// detection the two are the same.
	full, rest plan
	detection  *detection     // the rules decided in Go; nil: none
	undecided  atomic.Int64   // evaluations detection sent back to the queries
	inputIndex map[string]int // column name → index in input
	disabled   []Disabled     // rules not run, for want of a lookup
	items      bool           // a rule or enricher reads the view ec2_instance_items
	// lifecycles: the resolver reads user data, so Evaluate also returns
	// the lifecycle rows of query/lifecycles.sql.
	lifecycles bool
	// snapshots: Config.SecurityGroupSnapshots and the resolver describes
	// security groups, so Evaluate returns query/snapshots.sql's rows.
	snapshots bool
	// enrichments are the enrichers the rules need, in file order.
	enrichments []*enrichment
	// levels are the enrichments by level: a level's read only the tables
	// of the levels before it.
	levels            [][]*enrichment
	resolver          Resolver
	lookupConcurrency int
	lookupTimeout     time.Duration
	log               *slog.Logger
	seq               atomic.Uint64 // names of registered Arrow views
	combine           func([]rules.Rule) ([]rules.Rule, string)
}

// plan is how some of the rules run in DuckDB.
type plan struct {
	rules  []rules.Rule // these rules
	filter *eventFilter // the only events loaded; nil: all
	// combined are the rules Config.Combine runs as one query,
	// combinedSQL; empty when there are fewer than two. alone are the
	// others, one query each.
	combined    []rules.Rule
	combinedSQL string
	alone       []rules.Rule
}

// New opens an in-memory DuckDB database, creates the configuration tables,
// and loads and checks every rule file. An event schema without the
// RequiredColumns fails New, and so does a rule that does not parse, has an
// incomplete header, or does not return the violation columns.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("rule engine: %w", err)
	}
	rs, err := rules.LoadRules(cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	for _, r := range cfg.MoreRules {
		if i := slices.IndexFunc(rs, func(x rules.Rule) bool { return x.Type == r.Type }); i >= 0 {
			return nil, fmt.Errorf("rule %q: type %s is also the type of %q: %w", r.File, r.Type, rs[i].File, rules.ErrRule)
		}
		rs = append(rs, r)
	}
	if cfg.Selection != nil {
		if rs, err = cfg.Selection.Apply(rs); err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
	}
	connector, err := duckdbgo.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	e := &Engine{connector: connector, db: sql.OpenDB(connector), rules: rs, input: cfg.Schema, log: cfg.Log,
		combine: cfg.Combine, resolver: cfg.Resolver, lookupConcurrency: cfg.LookupConcurrency, lookupTimeout: cfg.LookupTimeout}
	ok := false
	defer func() {
		if !ok {
			_ = e.Close()
		}
	}()
	if err := e.planEnrichment(cfg); err != nil {
		return nil, err
	}
	for _, d := range e.disabled {
		e.log.DebugContext(ctx, "rule disabled", logRule, d.Rule.File, logReason, d.Reason)
	}
	e.inputIndex = map[string]int{}
	for i, f := range e.input.Fields() {
		e.inputIndex[f.Name] = i
	}
	var detected, queried []rules.Rule
	for _, r := range e.rules {
		if r.Detector != nil && !cfg.QueriesOnly && len(r.Lookups) == 0 && len(r.OptionalLookups) == 0 {
			detected = append(detected, r)
		} else {
			queried = append(queried, r)
		}
	}
	e.full = e.newPlan(e.rules)
	e.rest = e.full
	if len(detected) > 0 {
		e.detection = newDetection(detected, e.input)
		e.rest = e.newPlan(queried)
	}
	if err := e.createConfigTables(ctx, cfg); err != nil {
		return nil, err
	}
	if err := e.planColumns(ctx); err != nil {
		return nil, err
	}
	if err := e.checkRules(ctx); err != nil {
		return nil, err
	}
	ok = true
	return e, nil
}

// Rules returns the engine's rules, sorted by file name.
func (e *Engine) Rules() []rules.Rule { return slices.Clone(e.rules) }

// Close closes the database.
func (e *Engine) Close() error {
	return errors.Join(e.db.Close(), e.connector.Close())
}

func (e *Engine) createConfigTables(ctx context.Context, cfg Config) error {
	if _, err := e.db.ExecContext(ctx, configTablesSQL); err != nil {
		return fmt.Errorf("create configuration tables: %w", err)
	}
	for _, r := range cfg.AllowedRegions {
		if _, err := e.db.ExecContext(ctx, `INSERT INTO allowed_regions VALUES (?)`, r); err != nil {
			return fmt.Errorf("insert allowed region %q: %w", r, err)
		}
	}
	for _, b := range cfg.LambdaTrustedBuckets {
		if _, err := e.db.ExecContext(ctx, `INSERT INTO lambda_trusted_buckets VALUES (?)`, b); err != nil {
			return fmt.Errorf("insert trusted bucket %q: %w", b, err)
		}
	}
	for _, o := range cfg.TaupageOwners {
		if _, err := e.db.ExecContext(ctx, `INSERT INTO taupage_owners VALUES (?)`, o); err != nil {
			return fmt.Errorf("insert Taupage owner %q: %w", o, err)
		}
	}
	if _, err := e.db.ExecContext(ctx, `INSERT INTO settings VALUES (?, ?)`, cfg.IncludeFailedCalls, cfg.TaupageNamePrefix); err != nil {
		return fmt.Errorf("insert settings: %w", err)
	}
	return nil
}

// serializeSQL is DuckDB's parse tree of the SQL text $1, as JSON.
const serializeSQL = `SELECT json_serialize_sql(?::VARCHAR)::VARCHAR`

// alwaysLoaded are the event columns loaded whatever the rules name.
var alwaysLoaded = []string{ColObjectKey, ColEventID, ColEventTime, ColErrorCode}

// planColumns parses every rule with DuckDB's parser, checks that it is one
// SELECT, and collects the event columns the rules name.
func (e *Engine) planColumns(ctx context.Context) error {
	names := map[string]bool{}
	for _, c := range alwaysLoaded {
		names[c] = true
	}
	all := false
	type query struct{ file, sql string }
	var qs []query
	items := false
	for _, r := range e.rules {
		qs = append(qs, query{r.File, r.SQL})
		items = items || usesInstanceItems(r.SQL)
	}
	for _, x := range e.enrichments {
		qs = append(qs, query{x.File, x.SQL})
		items = items || usesInstanceItems(x.SQL)
	}
	if e.lifecycles {
		qs = append(qs, query{lifecycleEvents.File, lifecyclesSQL})
		items = true
	}
	if e.snapshots {
		qs = append(qs, query{snapshotEvents.File, snapshotsSQL})
	}
	if items {
		qs = append(qs, query{"the view " + instanceItemsView, instanceItemsSQL})
	}
	e.items = items
	// All at once, one statement a query; else (a query that is not one
	// SELECT, or hides the separator in a comment) one by one, for the
	// query to blame.
	texts := make([]string, len(qs))
	for i, q := range qs {
		texts[i] = q.sql
	}
	var js string
	if err := e.db.QueryRowContext(ctx, serializeSQL, strings.Join(texts, ";\n")).Scan(&js); err != nil {
		js = ""
	}
	if together, ok := statementColumns(js, len(qs), names); ok {
		all = together
	} else {
		for _, q := range qs {
			if err := e.db.QueryRowContext(ctx, serializeSQL, q.sql).Scan(&js); err != nil {
				return fmt.Errorf("rule %q: parse: %w", q.file, err)
			}
			needsAll, err := referencedColumns(js, names)
			if err != nil {
				return fmt.Errorf("rule %q: %w", q.file, err)
			}
			all = all || needsAll
		}
	}
	var fields []arrow.Field
	for i, f := range e.input.Fields() {
		if all || names[f.Name] {
			e.cols = append(e.cols, i)
			fields = append(fields, f)
		}
	}
	e.schema = arrow.NewSchema(fields, nil)
	return nil
}

// referencedColumns reads the output of json_serialize_sql for one rule,
// checks it holds exactly one SELECT, and adds every column name it refers
// to (lower case) to names. It reports whether the rule needs every column:
// it uses a star or COLUMNS(), a NATURAL join, or a whole row of events or
// raw_events (SELECT to_json(e) FROM events e).
func referencedColumns(serialized string, names map[string]bool) (all bool, err error) {
	var doc struct {
		Error        bool              `json:"error"`
		ErrorMessage string            `json:"error_message"`
		Statements   []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(serialized), &doc); err != nil {
		return false, fmt.Errorf("read parser output: %w", err)
	}
	if doc.Error {
		return false, fmt.Errorf("not a valid SELECT: %s: %w", doc.ErrorMessage, rules.ErrRule)
	}
	if len(doc.Statements) != 1 {
		return false, fmt.Errorf("want exactly one SELECT statement, got %d: %w", len(doc.Statements), rules.ErrRule)
	}
	return statementReferences(doc.Statements[0], names)
}

// statementColumns is referencedColumns for the output of
// json_serialize_sql for want queries joined into one text: false unless
// it holds want SELECTs. It adds to names only when it is true.
func statementColumns(serialized string, want int, names map[string]bool) (all, ok bool) {
	var doc struct {
		Error      bool              `json:"error"`
		Statements []json.RawMessage `json:"statements"`
	}
	if json.Unmarshal([]byte(serialized), &doc) != nil || doc.Error || len(doc.Statements) != want {
		return false, false
	}
	found := map[string]bool{}
	for _, st := range doc.Statements {
		needsAll, err := statementReferences(st, found)
		if err != nil {
			return false, false
		}
		all = all || needsAll
	}
	for n := range found {
		names[n] = true
	}
	return all, true
}

// statementReferences adds the column names one serialized SELECT refers
// to to names, and reports whether it needs every column.
func statementReferences(statement json.RawMessage, names map[string]bool) (all bool, err error) {
	var tree any
	if err := json.Unmarshal(statement, &tree); err != nil {
		return false, fmt.Errorf("read parser output: %w", err)
	}
	eventTables := map[string]bool{} // names and aliases of events, raw_events
	single := map[string]bool{}      // column references without a qualifier
	addNames := func(list any, add func(string)) {
		l, _ := list.([]any)
		for _, c := range l {
			if s, ok := c.(string); ok {
				add(strings.ToLower(s))
			}
		}
	}
	var walk func(any)
	walk = func(n any) {
		switch v := n.(type) {
		case map[string]any:
			switch {
			case v["class"] == "STAR", v["ref_type"] == "NATURAL":
				all = true
			case v["type"] == "BASE_TABLE":
				if t, _ := v["table_name"].(string); t == "events" || t == "raw_events" {
					eventTables[strings.ToLower(t)] = true
					if a, _ := v["alias"].(string); a != "" {
						eventTables[strings.ToLower(a)] = true
					}
				}
			}
			if cols, ok := v["column_names"].([]any); ok {
				addNames(cols, func(s string) { names[s] = true })
				if len(cols) == 1 {
					addNames(cols, func(s string) { single[s] = true })
				}
			}
			addNames(v["using_columns"], func(s string) { names[s] = true })
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(tree)
	for t := range eventTables {
		if single[t] {
			all = true
		}
	}
	return all, nil
}

// resultColumns are the columns every rule returns, in order, with their
// DuckDB type names.
var resultColumns = []struct{ name, typ string }{
	{"event_id", "VARCHAR"},
	{"account_id", "VARCHAR"},
	{"region", "VARCHAR"},
	{"instance_id", "VARCHAR"},
	{"username", "VARCHAR"},
	{"meta_info", "VARCHAR"},
	{"event_time", "TIMESTAMPTZ"},
	{"object_key", "VARCHAR"},
}

// appColumns may follow resultColumns: the application and version a
// violation is about.
var appColumns = []string{"application_id VARCHAR", "application_version VARCHAR"}

// checkRules runs every rule once over an empty events table and checks
// the columns it returns.
func (e *Engine) checkRules(ctx context.Context) error {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("check rules: %w", err)
	}
	defer conn.Close()
	defer e.unload(ctx, conn)
	if err := e.load(ctx, conn, nil); err != nil {
		return fmt.Errorf("check rules: %w", err)
	}
	if err := e.checkEnrichments(ctx, conn); err != nil {
		return err
	}
	if err := e.createViews(ctx, conn); err != nil {
		return err
	}
	// The rules a combined query runs are checked by running it: they are
	// the compiler's queries (Config.Combine takes no other), which differ
	// only in their conditions, so one of them alone checks the columns
	// they all return. A combined query that fails has each of its rules
	// checked alone, for the rule to blame.
	skip := map[string]bool{}
	var first []string
	for _, p := range []*plan{&e.full, &e.rest} {
		if err := e.combineRules(ctx, conn, p); err != nil {
			if alone := e.checkEach(ctx, conn, nil); alone != nil {
				return alone // names the rule
			}
			return err
		}
		for i, r := range p.combined {
			if i == 0 {
				first = append(first, r.Type)
			} else {
				skip[r.Type] = true
			}
		}
	}
	for _, t := range first {
		delete(skip, t)
	}
	if err := e.checkEach(ctx, conn, skip); err != nil {
		return err
	}
	if e.lifecycles {
		if _, err := e.lifecycleRows(ctx, conn, nil); err != nil {
			return fmt.Errorf("%s: run over no events: %w", lifecycleEvents.File, err)
		}
	}
	if e.snapshots {
		if _, err := e.snapshotRows(ctx, conn, nil); err != nil {
			return fmt.Errorf("%s: run over no events: %w", snapshotEvents.File, err)
		}
	}
	return nil
}

// checkEach checks each rule alone (checkRule), but those of the types
// in skip.
func (e *Engine) checkEach(ctx context.Context, conn *sql.Conn, skip map[string]bool) error {
	for _, r := range e.rules {
		if skip[r.Type] {
			continue
		}
		if err := checkRule(ctx, conn, r); err != nil {
			return fmt.Errorf("rule %q: %w", r.File, err)
		}
	}
	return nil
}

// newPlan is the plan of rs before combineRules: its prefilter, and
// every rule alone.
func (e *Engine) newPlan(rs []rules.Rule) plan {
	readers := slices.Clone(rs)
	if e.lifecycles {
		readers = append(readers, lifecycleEvents)
	}
	if e.snapshots {
		readers = append(readers, snapshotEvents)
	}
	p := plan{rules: rs, alone: rs}
	if p.filter = newEventFilter(readers); p.filter != nil && !p.filter.usable(e.input) {
		p.filter = nil
	}
	return p
}

// combineRules offers the plan's rules without lookups to Config.Combine
// and runs the query it gives over no events.
func (e *Engine) combineRules(ctx context.Context, conn *sql.Conn, p *plan) error {
	if e.combine == nil {
		return nil
	}
	var plain []rules.Rule
	for _, r := range p.rules {
		if len(r.Lookups) == 0 && len(r.OptionalLookups) == 0 {
			plain = append(plain, r)
		}
	}
	rs, q := e.combine(plain)
	if len(rs) < 2 {
		return nil
	}
	if _, err := e.runQuery(ctx, conn, rs, q); err != nil {
		return fmt.Errorf("the %d rules combined into one query: run over no events: %w", len(rs), err)
	}
	p.combined, p.combinedSQL = rs, q
	p.alone = slices.DeleteFunc(slices.Clone(p.rules), func(r rules.Rule) bool {
		return slices.ContainsFunc(rs, func(c rules.Rule) bool { return c.Type == r.Type })
	})
	return nil
}

func checkRule(ctx context.Context, conn *sql.Conn, r rules.Rule) error {
	rows, err := conn.QueryContext(ctx, r.SQL)
	if err != nil {
		return fmt.Errorf("run over no events: %w", err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return fmt.Errorf("read result columns: %w", err)
	}
	var got, want []string
	for _, t := range types {
		got = append(got, t.Name()+" "+t.DatabaseTypeName())
	}
	for _, c := range resultColumns {
		want = append(want, c.name+" "+c.typ)
	}
	withApp := append(slices.Clone(want), appColumns...)
	if !slices.Equal(got, want) && !slices.Equal(got, withApp) {
		return fmt.Errorf("result columns are [%s], want [%s], optionally followed by [%s] (cast with ::VARCHAR / ::TIMESTAMPTZ): %w",
			strings.Join(got, ", "), strings.Join(want, ", "), strings.Join(appColumns, ", "), rules.ErrRule)
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("run over no events: %w", err)
	}
	return nil
}

// Evaluate runs every rule over the events in batches, which must have the
// schema Config.Schema, and returns the violations sorted by type and
// identity, with the lifecycle rows of the EC2 instance events when the
// resolver reads user data. Batches stay owned by the caller. No events:
// empty findings, nil. With a *rules.IncompleteError, the findings are
// those of the other objects.
func (e *Engine) Evaluate(ctx context.Context, batches []arrow.RecordBatch) (rules.Findings, error) {
	f, err := e.evaluate(ctx, batches)
	if err != nil && !errors.As(err, new(*rules.IncompleteError)) {
		return rules.Findings{}, err
	}
	return f, err
}

func (e *Engine) evaluate(ctx context.Context, batches []arrow.RecordBatch) (rules.Findings, error) {
	var n int64
	for i, b := range batches {
		if !b.Schema().Equal(e.input) {
			return rules.Findings{}, fmt.Errorf("evaluate: batch %d does not have the event schema", i)
		}
		n += b.NumRows()
	}
	if n == 0 {
		return rules.Findings{}, nil
	}
	p := &e.full
	var detected []rules.Violation
	if e.detection != nil {
		vs, err := e.detect(ctx, batches)
		switch {
		case err == nil:
			p, detected = &e.rest, vs
		case errors.Is(err, rules.ErrUndecided):
			e.undecided.Add(1)
			e.log.DebugContext(ctx, "rules run as queries: an event is not decidable in Go", logErr, err)
		default:
			return rules.Findings{}, fmt.Errorf("evaluate: %w", err)
		}
	}
	if p.filter != nil {
		// Every rule names the events it reads: DuckDB gets only those,
		// often none.
		kept, err := prefilter(ctx, batches, p.filter, e.input)
		if err != nil {
			return rules.Findings{}, fmt.Errorf("evaluate: %w", err)
		}
		defer func() {
			for _, b := range kept {
				b.Release()
			}
		}()
		batches, n = kept, 0
		for _, b := range kept {
			n += b.NumRows()
		}
		if n == 0 {
			return rules.Findings{Violations: tallyMatches(distinct(detected, nil))}, nil
		}
	}
	start := time.Now()
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return rules.Findings{}, fmt.Errorf("evaluate: get connection: %w", err)
	}
	defer conn.Close()
	defer e.unload(ctx, conn)
	if err := e.load(ctx, conn, batches); err != nil {
		return rules.Findings{}, fmt.Errorf("evaluate: %w", err)
	}
	loaded := time.Since(start)
	failed, filled, err := e.enrich(ctx, conn)
	enriched := time.Since(start) - loaded
	if err != nil {
		return rules.Findings{}, fmt.Errorf("evaluate: %w", err)
	}
	if err := e.createViews(ctx, conn); err != nil {
		return rules.Findings{}, fmt.Errorf("evaluate: %w", err)
	}

	all := detected
	if len(p.combined) > 0 {
		vs, err := e.runQuery(ctx, conn, p.combined, p.combinedSQL)
		if err != nil {
			return rules.Findings{}, fmt.Errorf("evaluate the %d combined rules: %w", len(p.combined), err)
		}
		all = append(all, vs...)
	}
	for _, r := range p.alone {
		if !filledAll(filled, r.Lookups) {
			continue // a rule joins the tables it requires: none of its rows can exist
		}
		vs, err := e.run(ctx, conn, r)
		if err != nil {
			return rules.Findings{}, fmt.Errorf("evaluate rule %q: %w", r.File, err)
		}
		all = append(all, vs...)
	}
	out := tallyMatches(distinct(all, failed))
	ran := time.Since(start) - loaded - enriched
	found := rules.Findings{Violations: out}
	if e.lifecycles && filled[userDataTable] > 0 {
		if found.Lifecycles, err = e.lifecycleRows(ctx, conn, failed); err != nil {
			return rules.Findings{}, fmt.Errorf("evaluate %s: %w", lifecycleEvents.File, err)
		}
	}
	if e.snapshots && filled[securityGroupsTable] > 0 {
		if found.Snapshots, err = e.snapshotRows(ctx, conn, failed); err != nil {
			return rules.Findings{}, fmt.Errorf("evaluate %s: %w", snapshotEvents.File, err)
		}
	}
	e.log.DebugContext(ctx, "rules evaluated", logEvents, n, logViolations, len(out), logLifecycles, len(found.Lifecycles),
		logSnapshots, len(found.Snapshots), logLoad, loaded, logEnrich, enriched, logRules, ran, logTotal, time.Since(start))
	if len(failed) > 0 {
		return found, &rules.IncompleteError{Objects: failed}
	}
	return found, nil
}

// distinct is vs without those of the objects in failed (evaluated again
// by a later run) and with one violation per identity and object (the
// same event delivered in two objects is two detections, however the
// objects are grouped), sorted.
func distinct(vs []rules.Violation, failed map[string]error) []rules.Violation {
	type objectKey struct {
		id     [5]string
		object string
	}
	var out []rules.Violation
	seen := map[objectKey]bool{}
	for _, v := range vs {
		if failed[v.ObjectKey] != nil {
			continue
		}
		if k := (objectKey{v.Key(), v.ObjectKey}); !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	sortViolations(out)
	return out
}

// tallyMatches is the sorted vs with the matches of correlation rules tallied
// by window and object (rules.Tally), sorted again. The matches detect
// decides come tallied already.
func tallyMatches(vs []rules.Violation) []rules.Violation {
	if !slices.ContainsFunc(vs, func(v rules.Violation) bool { return v.Correlation != nil }) {
		return vs
	}
	vs = rules.Tally(vs)
	sortViolations(vs)
	return vs
}

// filledAll reports whether every one of tables got rows in this
// evaluation (filled, from enrich).
func filledAll(filled map[string]int, tables []string) bool {
	for _, t := range tables {
		if filled[t] == 0 {
			return false
		}
	}
	return true
}

// snapshotRows runs query/snapshots.sql on a loaded, enriched connection
// and returns its rows, but those of the objects in failed.
func (e *Engine) snapshotRows(ctx context.Context, conn *sql.Conn, failed map[string]error) ([]rules.Snapshot, error) {
	rows, err := conn.QueryContext(ctx, snapshotsSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rules.Snapshot
	for rows.Next() {
		var s rules.Snapshot
		var at, launch sql.NullTime
		if err := rows.Scan(&s.EventID, &at, &s.AccountID, &s.Region, &s.InstanceID, &launch, &s.SecurityGroups, &s.ObjectKey); err != nil {
			return nil, fmt.Errorf("read row: %w", err)
		}
		if failed[s.ObjectKey] != nil {
			continue // its object is evaluated again by a later run
		}
		s.EventTime, s.LaunchTime = at.Time.UTC(), launch.Time.UTC()
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.EventID < b.EventID || a.EventID == b.EventID && (a.InstanceID < b.InstanceID || a.InstanceID == b.InstanceID && a.ObjectKey < b.ObjectKey)
	})
	return out, nil
}

// lifecycleRows runs query/lifecycles.sql on a loaded, enriched
// connection and returns its rows, but those of the objects in failed.
func (e *Engine) lifecycleRows(ctx context.Context, conn *sql.Conn, failed map[string]error) ([]rules.Lifecycle, error) {
	rows, err := conn.QueryContext(ctx, lifecyclesSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rules.Lifecycle
	for rows.Next() {
		var l rules.Lifecycle
		var image, name sql.NullString
		var at sql.NullTime
		if err := rows.Scan(&l.EventID, &l.EventType, &at, &l.AccountID, &l.Region, &l.InstanceID,
			&image, &name, &l.Application, &l.Version, &l.ObjectKey); err != nil {
			return nil, fmt.Errorf("read row: %w", err)
		}
		if failed[l.ObjectKey] != nil {
			continue // its object is evaluated again by a later run
		}
		l.EventDate, l.ImageID, l.ImageName = at.Time.UTC(), image.String, name.String
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Key(), out[j].Key()
		return slices.Compare(a[:], b[:]) < 0 || slices.Equal(a[:], b[:]) && out[i].ObjectKey < out[j].ObjectKey
	})
	return out, nil
}

// sortViolations sorts by type, then identity.
func sortViolations(vs []rules.Violation) {
	sort.Slice(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		ka, kb := a.Key(), b.Key()
		if c := slices.Compare(ka[:], kb[:]); c != 0 {
			return c < 0
		}
		return a.ObjectKey < b.ObjectKey // one identity in two objects: two detections
	})
}

// run runs one rule on a loaded connection.
func (e *Engine) run(ctx context.Context, conn *sql.Conn, r rules.Rule) ([]rules.Violation, error) {
	return e.runQuery(ctx, conn, []rules.Rule{r}, r.SQL)
}

// runQuery runs query, the SQL of the one rule of rs or, with more, a
// query of Config.Combine for them, whose rows lead with the rule's index.
func (e *Engine) runQuery(ctx context.Context, conn *sql.Conn, rs []rules.Rule, query string) ([]rules.Violation, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("read result columns: %w", err)
	}
	var out []rules.Violation
	dropped := map[string]int{}
	for rows.Next() {
		var eventID, account, region, instance, user, meta, key, app, version sql.NullString
		var at sql.NullTime
		var idx int
		dest := []any{&eventID, &account, &region, &instance, &user, &meta, &at, &key}
		if len(rs) > 1 {
			dest = append([]any{&idx}, dest...)
		} else if len(cols) > len(dest) {
			dest = append(dest, &app, &version)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read row: %w", err)
		}
		if idx < 0 || idx >= len(rs) {
			return nil, fmt.Errorf("read row: rule index %d of %d", idx, len(rs))
		}
		r := rs[idx]
		if eventID.String == "" || account.String == "" {
			dropped[r.File]++
			continue
		}
		v := rules.Violation{
			Type:       r.Type,
			EventID:    eventID.String,
			AccountID:  account.String,
			Region:     region.String,
			InstanceID: instance.String,
			Username:   user.String,
			MetaInfo:   meta.String,
			Rule:       r.File,
			EventTime:  at.Time.UTC(),
			ObjectKey:  key.String,
			// The names of the application and version, from the
			// instance's user data where the rule knows them.
			Application: strings.TrimSpace(app.String),
			Version:     strings.TrimSpace(version.String),
			Correlation: r.Correlation,
		}
		if !meta.Valid {
			v.MetaInfo = "{}"
		} else if !json.Valid([]byte(v.MetaInfo)) {
			return nil, fmt.Errorf("rule %q, event %q: meta_info is not JSON: %.80q", r.File, v.EventID, v.MetaInfo)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	e.warnDropped(ctx, dropped)
	return out, nil
}

// warnDropped logs, by rule file, the violations dropped for want of an
// account or an event id.
func (e *Engine) warnDropped(ctx context.Context, dropped map[string]int) {
	for file, n := range dropped {
		e.log.WarnContext(ctx, "rule rows without account or event id dropped", logRule, file, logRows, n)
	}
}

// load makes the batches the per-connection table raw_events and the view
// events on conn. DuckDB's Arrow scan can read a registered stream only
// once and does not apply pushed-down projections or filters, so the stream
// is copied into a table with one plain SELECT * and never queried again.
// The registered view lives in the shared catalog, so its name is unique.
func (e *Engine) load(ctx context.Context, conn *sql.Conn, batches []arrow.RecordBatch) error {
	view := fmt.Sprintf("fullstop_arrow_%d", e.seq.Add(1))
	rdr := newChunkReader(e.schema, e.cols, batches, chunkRows)
	defer rdr.Release()
	var release func()
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		a, err := duckdbgo.NewArrowFromConn(c)
		if err != nil {
			return err
		}
		release, err = a.RegisterView(rdr, view)
		return err
	})
	if err != nil {
		return fmt.Errorf("register events: %w", err)
	}
	_, err = conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE raw_events AS SELECT * FROM `+view)
	if _, dropErr := conn.ExecContext(context.WithoutCancel(ctx), `DROP VIEW IF EXISTS `+view); dropErr != nil {
		// The view still points at the stream: keep the stream alive
		// rather than leave a dangling pointer in the catalog.
		e.log.WarnContext(ctx, "drop arrow view", logView, view, logErr, dropErr)
		discard(conn)
	} else {
		release()
	}
	if err != nil {
		return fmt.Errorf("load events: %w", err)
	}
	if _, err = conn.ExecContext(ctx, eventsViewSQL); err != nil {
		return fmt.Errorf("create view events: %w", err)
	}
	if !e.items {
		return nil
	}
	// A table, not a view: the rules and enrichers that read it do not
	// each unnest the instances again.
	if _, err = conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+instanceItemsView+" AS "+instanceItemsSQL); err != nil {
		return fmt.Errorf("create view %s: %w", instanceItemsView, err)
	}
	return nil
}

// unload drops the connection's event tables so an idle pooled connection
// holds no events. A connection that cannot be cleaned is discarded.
func (e *Engine) unload(ctx context.Context, conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	drops := []string{`DROP VIEW IF EXISTS ` + taupageLaunchesView, `DROP TABLE IF EXISTS ` + instanceItemsView}
	for _, x := range e.enrichments {
		drops = append(drops, `DROP TABLE IF EXISTS `+x.Table)
	}
	drops = append(drops, `DROP VIEW IF EXISTS events`, `DROP TABLE IF EXISTS raw_events`)
	for _, s := range drops {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			e.log.WarnContext(ctx, "drop event tables", logErr, err)
			discard(conn)
			return
		}
	}
}

// discard makes the pool close conn instead of reusing it.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
}
