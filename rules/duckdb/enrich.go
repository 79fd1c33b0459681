//go:build duckdb_arrow

package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	duckdbgo "github.com/duckdb/duckdb-go/v2"
	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/rules"
)

//go:embed query/ec2_instance_items.sql
var instanceItemsSQL string

//go:embed query/taupage_launches.sql
var taupageLaunchesSQL string

//go:embed query/lifecycles.sql
var lifecyclesSQL string

//go:embed query/snapshots.sql
var snapshotsSQL string

// securityGroupsTable is the enrichment table query/snapshots.sql reads,
// and snapshotEvents the events it is about.
const securityGroupsTable = "security_groups"

var snapshotEvents = rules.Rule{File: "rules/duckdb/query/snapshots.sql", Sources: []string{"ec2.amazonaws.com"},
	Events: []string{"RunInstances"}}

// lifecycleReads are the enrichment tables query/lifecycles.sql reads
// besides user_data, and lifecycleEvents the events it is about.
var (
	lifecycleReads  = []string{"instances", "images"}
	lifecycleEvents = rules.Rule{File: "rules/duckdb/query/lifecycles.sql", Sources: []string{"ec2.amazonaws.com"},
		Events: []string{"RunInstances", "StartInstances", "StopInstances", "TerminateInstances"}}
)

// taupageLaunchesView is the view of launches with their Taupage user
// data (query/taupage_launches.sql), made after the enrichers when a rule
// needs the table it reads.
const (
	taupageLaunchesView = "taupage_launches"
	userDataTable       = "user_data"
)

// insertChunk was how many answers one INSERT carried; the tests still
// load more than a few of them.
const insertChunk = 500

// instanceItemsView is the table over the items of the EC2 instance events
// rules and enrichers may read (query/ec2_instance_items.sql), made once
// per Evaluate call.
const instanceItemsView = "ec2_instance_items"

// enrichment is an enricher the engine runs, with what it found out
// about it when it started.
type enrichment struct {
	rules.Enricher
	keys      []string // the key columns of its query, after object_key
	available bool     // the resolver answers its lookup kind and its reads are available
}

// planEnrichment loads the enricher files, decides which rules can run
// with the resolver's lookup kinds, and keeps the enrichers those rules
// need, in file order.
func (e *Engine) planEnrichment(cfg Config) error {
	ens, err := rules.LoadEnrichers(cfg.Rules)
	if err != nil {
		return fmt.Errorf("load enrichers: %w", err)
	}
	var kinds []string
	if cfg.Resolver != nil {
		kinds = cfg.Resolver.LookupKinds()
	}
	byTable := map[string]*enrichment{}
	all := make([]*enrichment, 0, len(ens))
	for _, en := range ens {
		// The tables it reads only come first: one the resolver cannot
		// fill is empty, and the query reads it as such.
		x := &enrichment{Enricher: en, available: slices.Contains(kinds, en.Lookup)}
		byTable[en.Table] = x
		all = append(all, x)
	}
	var enabled []rules.Rule
	needed := map[string]bool{}
	var need func(table string)
	need = func(table string) {
		if needed[table] {
			return
		}
		needed[table] = true
		for _, r := range byTable[table].Reads {
			need(r)
		}
	}
	for _, r := range e.rules {
		reason := ""
		for _, t := range slices.Concat(r.Lookups, r.OptionalLookups) {
			if byTable[t] == nil {
				return fmt.Errorf("rule %q: lookups: no enricher fills the table %q: %w", r.File, t, rules.ErrRule)
			}
		}
		for _, t := range r.Lookups {
			if !byTable[t].available && reason == "" {
				reason = fmt.Sprintf("needs the lookup %s (table %s), which is not configured", byTable[t].Lookup, t)
			}
		}
		if reason != "" {
			e.disabled = append(e.disabled, Disabled{Rule: r, Reason: reason})
			continue
		}
		enabled = append(enabled, r)
		for _, t := range slices.Concat(r.Lookups, r.OptionalLookups) {
			need(t)
		}
	}
	e.rules = enabled
	// The lifecycle rows come with the user data: when the resolver can
	// read it, every evaluation yields them too.
	if x := byTable[userDataTable]; x != nil && x.available {
		e.lifecycles = true
		need(userDataTable)
		for _, t := range lifecycleReads {
			if byTable[t] != nil {
				need(t)
			}
		}
	}
	if x := byTable[securityGroupsTable]; cfg.SecurityGroupSnapshots && x != nil && x.available {
		e.snapshots = true
		need(securityGroupsTable)
	}
	level := map[string]int{}
	for _, x := range all {
		if !needed[x.Table] {
			continue
		}
		e.enrichments = append(e.enrichments, x)
		l := 0
		for _, r := range x.Reads {
			l = max(l, level[r]+1)
		}
		level[x.Table] = l
		for len(e.levels) <= l {
			e.levels = append(e.levels, nil)
		}
		e.levels[l] = append(e.levels[l], x)
	}
	return nil
}

// createViews makes the views over the enrichment tables on conn.
func (e *Engine) createViews(ctx context.Context, conn *sql.Conn) error {
	for _, x := range e.enrichments {
		if x.Table == userDataTable {
			if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW "+taupageLaunchesView+" AS "+taupageLaunchesSQL); err != nil {
				return fmt.Errorf("create view %s: %w", taupageLaunchesView, err)
			}
		}
	}
	return nil
}

// Disabled returns the rules the engine does not run, with the reason.
func (e *Engine) Disabled() []Disabled { return slices.Clone(e.disabled) }

// checkEnrichments runs every enricher's query over no events, checks its
// columns and creates its empty table, on a loaded connection.
func (e *Engine) checkEnrichments(ctx context.Context, conn *sql.Conn) error {
	for _, x := range e.enrichments {
		cols, err := queryColumns(ctx, conn, x.SQL)
		if err != nil {
			return fmt.Errorf("enricher %q: run over no events: %w", x.File, err)
		}
		if len(cols) < 2 || cols[0] != ColObjectKey+" VARCHAR" {
			return fmt.Errorf("enricher %q: result columns are [%s], want object_key first and at least one key column: %w",
				x.File, strings.Join(cols, ", "), rules.ErrRule)
		}
		x.keys = nil
		for _, c := range cols[1:] {
			name, typ, _ := strings.Cut(c, " ")
			if typ != "VARCHAR" {
				return fmt.Errorf("enricher %q: key column %s is %s, want VARCHAR: %w", x.File, name, typ, rules.ErrRule)
			}
			x.keys = append(x.keys, name)
		}
		if err := createEnrichmentTable(ctx, conn, x); err != nil {
			return err
		}
	}
	return nil
}

func createEnrichmentTable(ctx context.Context, conn *sql.Conn, x *enrichment) error {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE OR REPLACE TEMP TABLE %s (", x.Table)
	for _, k := range x.keys {
		fmt.Fprintf(&b, "%s VARCHAR, ", k)
	}
	b.WriteString("found BOOLEAN NOT NULL, answer JSON)")
	if _, err := conn.ExecContext(ctx, b.String()); err != nil {
		return fmt.Errorf("enricher %q: create table %s: %w", x.File, x.Table, err)
	}
	return nil
}

// queryColumns runs q and returns its result columns as "name TYPE",
// reading (and dropping) its rows.
func queryColumns(ctx context.Context, conn *sql.Conn, q string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("read result columns: %w", err)
	}
	var out []string
	for _, t := range types {
		out = append(out, t.Name()+" "+t.DatabaseTypeName())
	}
	for rows.Next() {
	}
	return out, rows.Err()
}

// enrich fills the enrichment tables on a loaded connection, in order. It
// returns the objects whose keys could not be answered now, with why, and
// the rows each table got.
func (e *Engine) enrich(ctx context.Context, conn *sql.Conn) (map[string]error, map[string]int, error) {
	failed := map[string]error{}
	rows := map[string]int{}
	// The enrichers of one level read only tables of earlier levels: their
	// keys are looked up together, so a batch waits for one round of
	// lookups a level rather than one an enricher.
	for _, level := range e.levels {
		var jobs []lookupJob
		keysOf := make([][]*lookupKey, len(level))
		for i, x := range level {
			if err := createEnrichmentTable(ctx, conn, x); err != nil {
				return nil, nil, err
			}
			if !x.available {
				continue
			}
			keys, err := collectKeys(ctx, conn, x)
			if err != nil {
				return nil, nil, err
			}
			keysOf[i] = keys
			for _, lk := range keys {
				jobs = append(jobs, lookupJob{x.Lookup, lk})
			}
		}
		if err := e.resolve(ctx, jobs); err != nil {
			return nil, nil, err
		}
		for i, x := range level {
			n, err := insertAnswers(ctx, conn, x, keysOf[i], failed)
			if err != nil {
				return nil, nil, err
			}
			rows[x.Table] = n
		}
	}
	return failed, rows, nil
}

// lookupKey is one distinct key of an enricher, with the objects that
// need it.
type lookupKey struct {
	key     []string
	objects []string
	answer  []byte
	found   bool
	err     error
}

// collectKeys runs x's key query and returns its distinct keys, each
// with the objects that need it.
func collectKeys(ctx context.Context, conn *sql.Conn, x *enrichment) ([]*lookupKey, error) {
	rows, err := conn.QueryContext(ctx, x.SQL)
	if err != nil {
		return nil, fmt.Errorf("enricher %q: %w", x.File, err)
	}
	defer rows.Close()
	byKey := map[string]*lookupKey{}
	var keys []*lookupKey
	vals := make([]sql.NullString, len(x.keys)+1)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("enricher %q: read keys: %w", x.File, err)
		}
		k := make([]string, len(x.keys))
		complete := true
		for i := range k {
			complete = complete && vals[i+1].Valid
			k[i] = vals[i+1].String
		}
		if !complete {
			continue
		}
		id := strings.Join(k, "\x00")
		lk := byKey[id]
		if lk == nil {
			lk = &lookupKey{key: k}
			byKey[id] = lk
			keys = append(keys, lk)
		}
		if !slices.Contains(lk.objects, vals[0].String) {
			lk.objects = append(lk.objects, vals[0].String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("enricher %q: read keys: %w", x.File, err)
	}
	return keys, nil
}

// lookupJob is one key to resolve, of a lookup kind.
type lookupJob struct {
	kind string
	key  *lookupKey
}

// resolve asks the resolver for every job's key, at most
// lookupConcurrency at once, each bounded by lookupTimeout.
func (e *Engine) resolve(ctx context.Context, jobs []lookupJob) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.lookupConcurrency)
	for _, j := range jobs {
		g.Go(func() error {
			cctx, cancel := context.WithTimeout(gctx, e.lookupTimeout)
			defer cancel()
			answer, err := e.resolver.Lookup(cctx, j.kind, j.key.key)
			if err != nil && ctx.Err() != nil {
				return ctx.Err() // the batch is stopping: no answer is an answer
			}
			j.key.answer, j.key.found, j.key.err = answer, answer != nil, err
			return nil
		})
	}
	return g.Wait()
}

// insertAnswers loads the answers of keys into x's table with DuckDB's
// appender, and returns how many rows it loaded. Keys that failed add
// their objects to failed.
func insertAnswers(ctx context.Context, conn *sql.Conn, x *enrichment, keys []*lookupKey, failed map[string]error) (int, error) {
	rows := 0
	for _, lk := range keys {
		if lk.err != nil {
			for _, o := range lk.objects {
				if failed[o] == nil {
					failed[o] = fmt.Errorf("lookup %s %s: %w", x.Lookup, strings.Join(lk.key, " "), lk.err)
				}
			}
			continue
		}
		rows++
	}
	if rows == 0 {
		return 0, nil
	}
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("connection is a %T, not a driver.Conn", dc)
		}
		// Enrichment tables are temporary: catalog temp, schema main.
		a, err := duckdbgo.NewAppender(c, "temp", "main", x.Table)
		if err != nil {
			return err
		}
		vals := make([]driver.Value, len(x.keys)+2)
		for _, lk := range keys {
			if lk.err != nil {
				continue
			}
			for i, k := range lk.key {
				vals[i] = k
			}
			vals[len(x.keys)] = lk.found
			vals[len(x.keys)+1] = nil
			if lk.found {
				vals[len(x.keys)+1] = json.RawMessage(lk.answer) // the JSON column takes it as it is
			}
			if err := a.AppendRow(vals...); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
	if err != nil {
		return 0, fmt.Errorf("enricher %q: load the answers: %w", x.File, err)
	}
	return rows, nil
}

// usesInstanceItems reports whether a query reads the view of the EC2
// instance items.
func usesInstanceItems(q string) bool {
	return strings.Contains(strings.ToLower(q), instanceItemsView)
}
