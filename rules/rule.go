package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// RuleDir is the folder of rule files inside a rule file system.
const RuleDir = "rules"

// Limits of the header fields.
const (
	MinSeverity = 0
	MaxSeverity = 4
	MinPriority = 1
	MaxPriority = 4
)

// Header keys of a rule file.
const (
	keyType     = "type"
	keyTitle    = "title"
	keySeverity = "severity"
	keyPriority = "priority"
	keyHelp     = "help"
	keySources  = "sources"     // optional
	keyEvents   = "events"      // optional
	keyLookups  = "lookups"     // optional
	keySet      = "set"         // optional
	keyOnly     = "only"        // optional
	keyCorr     = "correlation" // optional
)

var (
	headerKeys   = []string{keyType, keyTitle, keySeverity, keyPriority, keyHelp}
	optionalKeys = []string{keySources, keyEvents, keyLookups, keySet, keyOnly, keyCorr}
	typeRE       = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	keyLineRE    = regexp.MustCompile(`^-- ([a-z_]+):(.*)$`)
	columnRE     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// ErrRule is wrapped by every error about a rule file's content.
var ErrRule = errors.New("invalid rule")

// Rule is one violation type's rule: the header of its SQL file and the
// query below it.
type Rule struct {
	Type     string // violation type id, equal to the file's base name
	Title    string // short title
	Severity int    // 0 (lowest) … 4 (worst)
	Priority int    // 1 (most important) … 4
	Help     string // help text for people resolving the violation
	File     string // the rule's name on violations, e.g. "sql/rules/WRONG_REGION.sql"
	SQL      string // the query below the header
	// Sources, from the optional header "-- sources: a, b", are the only
	// event sources (eventSource) the rule reads. When every rule names
	// its sources, the engine hands DuckDB only the events of those
	// sources. Empty means the rule may read any event.
	Sources []string
	// Events, from the optional header "-- events: RunInstances,
	// CreateFunction*", narrow Sources to these event names (a trailing *
	// matches any rest). Empty means every event of the sources.
	Events []string
	// Lookups, from the optional header "-- lookups: images, user_data",
	// are the enrichment tables (sql/enrich/, see Enricher) the rule
	// joins. The engine fills them before the rule runs, and does not run
	// a rule whose lookups it cannot answer.
	Lookups []string
	// OptionalLookups, named with a trailing ? ("-- lookups: images?"),
	// are enrichment tables the rule joins when they can be filled; they
	// are empty when the engine has no resolver for them, and the rule
	// runs anyway.
	OptionalLookups []string
	// Set, from the optional header "-- set: sigma", is the rule set
	// the rule belongs to (see Selection): SetReference when empty,
	// SetSigma for compiled Sigma rules.
	Set string
	// OnlyColumn and OnlyValues, from the optional header "-- only:
	// user_identity_type = Root, IAMUser", say that a rule without
	// Sources reads only the events whose string column OnlyColumn is
	// one of OnlyValues (compared without case), so the engine can still
	// hand DuckDB only some events.
	OnlyColumn string
	OnlyValues []string
	// Correlation, from the optional header "-- correlation: 10 events
	// in 5m by user_identity_arn", makes the query's rows matches that
	// are counted by window (see Correlation): its instance_id column is
	// then the group, the GroupBy values joined with GroupSeparator.
	Correlation *Correlation
	// Detector, when set, finds the rule's violations in Go, event by
	// event, as its query would (compiled Sigma rules have one); the
	// engine may use it instead of the query.
	Detector Detector
}

// LoadRules reads and parses every rules/*.sql file of fsys, sorted by
// file name. It checks the headers only; the engine checks the SQL.
func LoadRules(fsys fs.FS) ([]Rule, error) {
	names, err := fs.Glob(fsys, RuleDir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list rule files: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no rule files %s/*.sql: %w", RuleDir, ErrRule)
	}
	sort.Strings(names)
	out := make([]Rule, 0, len(names))
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read rule %q: %w", name, err)
		}
		r, err := parseRule(name, string(src))
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// parseRule parses the rule file name (a path inside the rule file
// system, rules/<TYPE>.sql) with content src.
//
// The header is the run of comment lines at the top of the file. A key line
// is "-- key: value" with exactly one space after the dashes; a line with
// more indentation ("--   more text") continues the help text. Every key is
// required once. A bare "--" line, a blank line or the first line that is
// not a comment ends the header; the rest (comments included) is the query.
func parseRule(name, src string) (Rule, error) {
	r := Rule{File: path.Join("sql", name)}
	seen, query, err := scanHeader(src, isHeaderKey, func(key, val string) error {
		if key == keyHelp && r.Help != "" {
			r.Help += " " + val // a continuation line
			return nil
		}
		return r.set(key, val)
	})
	if err != nil {
		return Rule{}, err
	}
	r.SQL = query
	for _, k := range headerKeys {
		if !seen[k] {
			return Rule{}, fmt.Errorf("header key %q missing: %w", k, ErrRule)
		}
	}
	if r.Title == "" || r.Help == "" {
		return Rule{}, fmt.Errorf("title and help must not be empty: %w", ErrRule)
	}
	if r.OnlyColumn != "" && len(r.Sources) > 0 {
		return Rule{}, fmt.Errorf("header key %q is for rules without %q: %w", keyOnly, keySources, ErrRule)
	}
	if len(r.Events) > 0 && len(r.Sources) == 0 {
		return Rule{}, fmt.Errorf("header key %q needs %q: %w", keyEvents, keySources, ErrRule)
	}
	base := strings.TrimSuffix(path.Base(name), ".sql")
	if r.Type != base {
		return Rule{}, fmt.Errorf("type %q does not match the file name %q: %w", r.Type, path.Base(name), ErrRule)
	}
	if !hasCode(r.SQL) {
		return Rule{}, fmt.Errorf("no query below the header: %w", ErrRule)
	}
	return r, nil
}

// scanHeader reads the header of a rule or enricher file (see parseRule):
// set receives each "-- key: value" line, and each indented continuation
// of the help text as ("help", its text) after the help line. It returns
// the keys seen and the query below the header, trimmed.
func scanHeader(src string, known func(string) bool, set func(key, val string) error) (map[string]bool, string, error) {
	seen := map[string]bool{}
	var last string
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	body := len(lines)
	for i, line := range lines {
		trimmed := strings.TrimRight(line, " \t")
		if trimmed == "" && len(seen) == 0 {
			continue // blank lines before the header
		}
		if trimmed == "--" {
			body = i + 1 // the separator is not part of the query
			break
		}
		if trimmed == "" || !strings.HasPrefix(trimmed, "--") {
			body = i
			break
		}
		if m := keyLineRE.FindStringSubmatch(trimmed); m != nil {
			key, val := m[1], strings.TrimSpace(m[2])
			if !known(key) {
				return nil, "", fmt.Errorf("line %d: unknown header key %q: %w", i+1, key, ErrRule)
			}
			if seen[key] {
				return nil, "", fmt.Errorf("line %d: header key %q twice: %w", i+1, key, ErrRule)
			}
			seen[key] = true
			last = key
			if err := set(key, val); err != nil {
				return nil, "", fmt.Errorf("line %d: %w", i+1, err)
			}
			continue
		}
		if strings.HasPrefix(trimmed, "--  ") && last == keyHelp {
			if err := set(keyHelp, strings.TrimSpace(trimmed[2:])); err != nil {
				return nil, "", fmt.Errorf("line %d: %w", i+1, err)
			}
			continue
		}
		return nil, "", fmt.Errorf("line %d: want \"-- key: value\" or an indented help line, got %q: %w", i+1, trimmed, ErrRule)
	}
	query := ""
	if body < len(lines) {
		query = strings.TrimSpace(strings.Join(lines[body:], "\n"))
	}
	return seen, query, nil
}

func isHeaderKey(k string) bool {
	return slices.Contains(headerKeys, k) || slices.Contains(optionalKeys, k)
}

func (r *Rule) set(key, val string) error {
	switch key {
	case keyType:
		if !typeRE.MatchString(val) {
			return fmt.Errorf("type %q: want upper case letters, digits and _: %w", val, ErrRule)
		}
		r.Type = val
	case keyTitle:
		r.Title = val
	case keyHelp:
		r.Help = val
	case keySet:
		if val != SetReference && val != SetSigma {
			return fmt.Errorf("set %q: want %s or %s: %w", val, SetReference, SetSigma, ErrRule)
		}
		r.Set = val
	case keyOnly:
		col, vals, ok := strings.Cut(val, "=")
		col = strings.TrimSpace(col)
		if !ok || !columnRE.MatchString(col) {
			return fmt.Errorf("only %q: want \"column = value, value\": %w", val, ErrRule)
		}
		for _, v := range strings.Split(vals, ",") {
			if v = strings.TrimSpace(v); v == "" || strings.ContainsAny(v, "'\"") {
				return fmt.Errorf("only %q: want \"column = value, value\": %w", val, ErrRule)
			}
			r.OnlyValues = append(r.OnlyValues, v)
		}
		r.OnlyColumn = col
	case keyCorr:
		c, err := ParseCorrelation(val)
		if err != nil {
			return err
		}
		r.Correlation = c
	case keySources:
		for _, src := range strings.Split(val, ",") {
			src = strings.TrimSpace(src)
			if src == "" || strings.ContainsAny(src, " \t'\"*") {
				return fmt.Errorf("sources %q: want a comma list of event sources: %w", val, ErrRule)
			}
			r.Sources = append(r.Sources, src)
		}
	case keyEvents:
		for _, name := range strings.Split(val, ",") {
			name = strings.TrimSpace(name)
			if name == "" || name == "*" || strings.ContainsAny(name, " \t'\"") || strings.Contains(strings.TrimSuffix(name, "*"), "*") {
				return fmt.Errorf("events %q: want a comma list of event names, each with at most a trailing *: %w", val, ErrRule)
			}
			r.Events = append(r.Events, name)
		}
	case keyLookups:
		var required, optional []string
		for _, n := range strings.Split(val, ",") {
			n = strings.TrimSpace(n)
			if t, ok := strings.CutSuffix(n, "?"); ok {
				optional = append(optional, t)
			} else {
				required = append(required, n)
			}
		}
		var err error
		if r.Lookups, err = nameList(key, strings.Join(required, ",")); err != nil && len(required) > 0 {
			return err
		}
		if r.OptionalLookups, err = nameList(key, strings.Join(optional, ",")); err != nil && len(optional) > 0 {
			return err
		}
	case keySeverity:
		n, err := boundedInt(key, val, MinSeverity, MaxSeverity)
		if err != nil {
			return err
		}
		r.Severity = n
	case keyPriority:
		n, err := boundedInt(key, val, MinPriority, MaxPriority)
		if err != nil {
			return err
		}
		r.Priority = n
	}
	return nil
}

func boundedInt(key, val string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(val)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s %q: want an integer from %d to %d: %w", key, val, lo, hi, ErrRule)
	}
	return n, nil
}

// hasCode reports whether sql has a line that is neither blank nor a
// comment.
func hasCode(sql string) bool {
	for _, line := range strings.Split(sql, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "--") {
			return true
		}
	}
	return false
}

var tableNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// nameList parses a comma list of table names.
func nameList(key, val string) ([]string, error) {
	var out []string
	for _, n := range strings.Split(val, ",") {
		n = strings.TrimSpace(n)
		if !tableNameRE.MatchString(n) {
			return nil, fmt.Errorf("%s %q: want a comma list of table names (lower case letters, digits and _): %w", key, val, ErrRule)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}
