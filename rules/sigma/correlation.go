package sigma

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/fullstop-audit/fullstop/rules"
)

// correlationDoc is the part of a Sigma correlation rule the compiler
// reads (the Sigma correlation rules specification).
type correlationDoc struct {
	Type      string            `yaml:"type"`
	Rules     []string          `yaml:"rules"`
	GroupBy   []string          `yaml:"group-by"`
	Timespan  string            `yaml:"timespan"`
	Condition map[string]string `yaml:"condition"`
	Generate  bool              `yaml:"generate"`
	Aliases   yaml.Node         `yaml:"aliases"`
}

var timespanRE = regexp.MustCompile(`^(\d+)([smhd])$`)

// CompileFile compiles the Sigma rules of src, one or more YAML documents
// (---): each detection rule, and each correlation of a rule in the same
// file. A rule a correlation counts is left out unless the correlation
// says generate: true, as the specification says.
func CompileFile(file string, src []byte) ([]rules.Rule, error) {
	var docs []Rule
	if err := yaml.Load(src, &docs, yaml.WithAllDocuments()); err != nil {
		return nil, fmt.Errorf("sigma rule %s: read YAML: %w", file, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("sigma rule %s: no YAML document", file)
	}
	counted := map[int]bool{}  // documents some correlation counts
	generate := map[int]bool{} // ... of which one says generate: true
	var out []rules.Rule
	var corrs []rules.Rule
	for _, d := range docs {
		if d.Correlation == nil {
			continue
		}
		base, err := correlated(docs, d)
		if err != nil {
			return nil, fmt.Errorf("sigma rule %s: correlation %q: %w", file, strings.TrimSpace(d.Title), err)
		}
		r, err := compileCorrelation(file, d, docs[base])
		if err != nil {
			return nil, fmt.Errorf("sigma rule %s: correlation %q: %w", file, strings.TrimSpace(d.Title), err)
		}
		counted[base] = true
		generate[base] = generate[base] || d.Correlation.Generate
		corrs = append(corrs, r)
	}
	for i, d := range docs {
		if d.Correlation != nil || (counted[i] && !generate[i]) {
			continue
		}
		r, err := compileRule(file, d)
		if err != nil {
			return nil, fmt.Errorf("sigma rule %s: %w", file, err)
		}
		out = append(out, r)
	}
	return append(out, corrs...), nil
}

// correlated is the index in docs of the one rule correlation c counts.
func correlated(docs []Rule, c Rule) (int, error) {
	cd := c.Correlation
	switch {
	case len(cd.Rules) == 0:
		return 0, errors.New("no rules to count")
	case len(cd.Rules) > 1:
		return 0, fmt.Errorf("counts %d rules; one rule a correlation: %w", len(cd.Rules), ErrUnsupported)
	}
	ref := strings.TrimSpace(cd.Rules[0])
	for i, d := range docs {
		if d.Correlation == nil && ref != "" && (d.Name == ref || d.ID == ref) {
			return i, nil
		}
	}
	for _, d := range docs {
		if d.Correlation != nil && ref != "" && (d.Name == ref || d.ID == ref) {
			return 0, fmt.Errorf("counts the correlation %q; correlations of correlations: %w", ref, ErrUnsupported)
		}
	}
	return 0, fmt.Errorf("counts the rule %q, which is not in this file; a correlation and the rule it counts in one file (---): %w", ref, ErrUnsupported)
}

// compileCorrelation compiles the event_count correlation c of the rule
// base: base's query with the group for instance_id, in the header of c.
func compileCorrelation(file string, c, base Rule) (rules.Rule, error) {
	cd := c.Correlation
	if t := strings.TrimSpace(cd.Type); t != "event_count" {
		return rules.Rule{}, fmt.Errorf("type %q; only event_count: %w", t, ErrUnsupported)
	}
	if !cd.Aliases.IsZero() {
		return rules.Rule{}, fmt.Errorf("aliases: %w", ErrUnsupported)
	}
	threshold, err := countCondition(cd.Condition)
	if err != nil {
		return rules.Rule{}, err
	}
	m := timespanRE.FindStringSubmatch(strings.TrimSpace(cd.Timespan))
	if m == nil {
		return rules.Rule{}, fmt.Errorf("timespan %q; a number and s, m, h or d: %w", cd.Timespan, ErrUnsupported)
	}
	var cols []string
	for _, f := range cd.GroupBy {
		col, ok := columns[strings.TrimSpace(f)]
		if !ok || typed[col] {
			return rules.Rule{}, fmt.Errorf("group-by field %q; only fields of the event's own text columns (eventName, sourceIPAddress, userIdentity.arn ...): %w", f, ErrUnsupported)
		}
		cols = append(cols, col)
	}
	spec := fmt.Sprintf("%d events in %s%s", threshold, m[1], m[2])
	if len(cols) > 0 {
		spec += " by " + strings.Join(cols, ", ")
	}
	corr, err := rules.ParseCorrelation(spec)
	if err != nil {
		return rules.Rule{}, err
	}
	// The correlation's own fields, the base rule's where it has none.
	level := strings.ToLower(strings.TrimSpace(c.Level))
	if level == "" {
		level = strings.ToLower(strings.TrimSpace(base.Level))
	}
	lv, ok := levels[level]
	if !ok {
		return rules.Rule{}, fmt.Errorf("level %q: want informational, low, medium, high or critical", c.Level)
	}
	if strings.TrimSpace(c.Title) == "" {
		return rules.Rule{}, errors.New("no title")
	}
	corr.ID, corr.Level = strings.TrimSpace(c.ID), level
	r, where, err := compileWhere(file, base)
	if err != nil {
		return rules.Rule{}, fmt.Errorf("the rule it counts: %w", err)
	}
	typ, err := ruleType(c)
	if err != nil {
		return rules.Rule{}, err
	}
	if c.Description == "" {
		c.Description = base.Description
	}
	if len(c.FalsePositives) == 0 {
		c.FalsePositives = base.FalsePositives
	}
	if len(c.References) == 0 {
		c.References = base.References
	}
	r.Type, r.Title, r.Severity, r.Priority, r.Help = typ, title(c.Title), lv[0], lv[1], help(c)
	r.File = path.Clean(file)
	r.SQL = "SELECT " + violationColumnsWith(quote(base.ID), quote(strings.ToLower(strings.TrimSpace(base.Level))), groupSQL(cols)) +
		"\nFROM raw_events\nWHERE " + where
	r.Correlation = corr
	if d, ok := r.Detector.(*detector); ok {
		d.group = append(make([]string, 0, len(cols)), cols...) // not nil: grouped
	}
	return r, nil
}

// countCondition is the least number of events condition asks for: gte
// N, or gt N.
func countCondition(condition map[string]string) (int, error) {
	if len(condition) != 1 {
		return 0, fmt.Errorf("condition %v; one of gte or gt: %w", condition, ErrUnsupported)
	}
	for op, v := range condition {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("condition %s: %q is not a count", op, v)
		}
		switch op {
		case "gte":
			return max(n, 1), nil
		case "gt":
			return n + 1, nil
		}
		return 0, fmt.Errorf("condition %s; only gte and gt, which a count can reach while events arrive: %w", op, ErrUnsupported)
	}
	return 0, errors.New("no condition")
}

// groupSQL is the group of an event: the columns' values joined with
// rules.GroupSeparator, a missing value as "".
func groupSQL(cols []string) string {
	if len(cols) == 0 {
		return "''"
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "coalesce(" + c + ", '')"
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "concat_ws(" + quote(rules.GroupSeparator) + ", " + strings.Join(parts, ", ") + ")"
}
