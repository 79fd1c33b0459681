package rules

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
)

// EnrichDir is the folder of enricher files inside a rule file system.
const EnrichDir = "enrich"

// Enricher is one enrichment table: a query over the events (and the
// tables of earlier enrichers) that names the keys to look up, and the
// lookup kind that answers them. The engine runs the query, asks its
// resolver once per distinct key, and loads the answers as the table
//
//	<Table>(<key columns...> VARCHAR, found BOOLEAN, answer JSON)
//
// which rules join. found is false when the lookup answered that the
// thing does not exist (an AMI deleted, an application not in Kio);
// answer is then NULL.
//
// The query returns the column object_key first (the log object whose
// events need the key), then the key columns, all VARCHAR; a row with a
// NULL key column is ignored. Enricher files are run in file-name order,
// so a file may read the tables of the files before it; Reads must name
// every one it reads, as the engine looks up the keys of enrichers that
// read nothing of each other together.
type Enricher struct {
	Table  string   // the table it fills, from "-- table: images"
	Lookup string   // the lookup kind that answers its keys, from "-- lookup: ec2.image"
	Reads  []string // enrichment tables its query reads, from the optional "-- reads: instances"
	Help   string   // what the table holds
	File   string   // e.g. "sql/enrich/20_images.sql"
	SQL    string   // the key query
}

var (
	lookupKindRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	enrichKeys    = []string{"table", "lookup", "help"}
	enrichOptions = []string{"reads"}
)

// LoadEnrichers reads and parses every enrich/*.sql file of fsys, sorted
// by file name. None is not an error. It checks that every table is
// filled once and that a file reads only the tables of files before it.
func LoadEnrichers(fsys fs.FS) ([]Enricher, error) {
	names, err := fs.Glob(fsys, EnrichDir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list enricher files: %w", err)
	}
	sort.Strings(names)
	filled := map[string]bool{}
	var out []Enricher
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read enricher %q: %w", name, err)
		}
		e, err := parseEnricher(name, string(src))
		if err != nil {
			return nil, fmt.Errorf("enricher %q: %w", name, err)
		}
		if filled[e.Table] {
			return nil, fmt.Errorf("enricher %q: table %q is filled by an earlier file too: %w", name, e.Table, ErrRule)
		}
		for _, r := range e.Reads {
			if !filled[r] {
				return nil, fmt.Errorf("enricher %q: reads %q, which no earlier file fills: %w", name, r, ErrRule)
			}
		}
		filled[e.Table] = true
		out = append(out, e)
	}
	return out, nil
}

// parseEnricher parses one enricher file. Its header has the form of a
// rule's (see parseRule).
func parseEnricher(name, src string) (Enricher, error) {
	e := Enricher{File: path.Join("sql", name)}
	known := func(k string) bool { return slices.Contains(enrichKeys, k) || slices.Contains(enrichOptions, k) }
	seen, query, err := scanHeader(src, known, func(key, val string) error {
		if key == "help" && e.Help != "" {
			e.Help += " " + val // a continuation line
			return nil
		}
		return e.set(key, val)
	})
	if err != nil {
		return Enricher{}, err
	}
	e.SQL = query
	for _, k := range enrichKeys {
		if !seen[k] {
			return Enricher{}, fmt.Errorf("header key %q missing: %w", k, ErrRule)
		}
	}
	if e.Help == "" {
		return Enricher{}, fmt.Errorf("help must not be empty: %w", ErrRule)
	}
	if !hasCode(e.SQL) {
		return Enricher{}, fmt.Errorf("no query below the header: %w", ErrRule)
	}
	return e, nil
}

func (e *Enricher) set(key, val string) error {
	switch key {
	case "table":
		if !tableNameRE.MatchString(val) {
			return fmt.Errorf("table %q: want lower case letters, digits and _: %w", val, ErrRule)
		}
		e.Table = val
	case "lookup":
		if !lookupKindRE.MatchString(val) {
			return fmt.Errorf("lookup %q: want a kind such as ec2.image: %w", val, ErrRule)
		}
		e.Lookup = val
	case "reads":
		names, err := nameList(key, val)
		if err != nil {
			return err
		}
		e.Reads = names
	case "help":
		e.Help = val
	}
	return nil
}

// IncompleteError is returned with the violations of an evaluation when
// some objects could not be evaluated to the end: a lookup their events
// need failed for now (a timeout, throttling, a server error, access
// denied). Those objects' violations are left out, not partly reported;
// the caller leaves the objects for a later run. The other objects'
// violations are complete.
type IncompleteError struct {
	// Objects maps the key of each incomplete object to why.
	Objects map[string]error
}

func (e *IncompleteError) Error() string {
	keys := make([]string, 0, len(e.Objects))
	for k := range e.Objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "evaluation incomplete"
	}
	return fmt.Sprintf("%d objects incomplete, %q first: %v", len(keys), keys[0], e.Objects[keys[0]])
}

// Unwrap returns the objects' errors, so errors.Is sees through it.
func (e *IncompleteError) Unwrap() []error {
	out := make([]error, 0, len(e.Objects))
	for _, err := range e.Objects {
		out = append(out, err)
	}
	return out
}
