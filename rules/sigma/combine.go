package sigma

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/fullstop-audit/fullstop/rules"
)

// compiledRE takes a compiled rule's query apart: its Sigma id, its level
// and its condition. Combine checks the parts by building the query again.
var compiledRE = regexp.MustCompile(`(?s)json_object\('sigma_id', ('(?:[^']|'')*'), 'level', ('[a-z]+'),.*\nFROM raw_events\nWHERE (.*)$`)

// Combine is one query that runs the rules of rs this compiler wrote
// (their query unchanged), in one scan of raw_events: every event that
// matches some rule's condition, once for each rule it matches, its row
// led by the rule's index in the returned rules. Running many rules so
// costs about what one costs, since DuckDB plans one statement. Rules of
// rs that are not such queries are left out of the result, to run alone.
// With fewer than two such rules the query is empty.
func Combine(rs []rules.Rule) ([]rules.Rule, string) {
	var out []rules.Rule
	var conds, cases, ids, levels []string
	for _, r := range rs {
		m := compiledRE.FindStringSubmatch(r.SQL)
		if m == nil || queryOf(m[1], m[2], "raw_events", m[3]) != r.SQL {
			continue
		}
		i := len(out)
		out = append(out, r)
		conds = append(conds, "("+m[3]+")")
		cases = append(cases, fmt.Sprintf("CASE WHEN %s THEN %d END", m[3], i))
		ids, levels = append(ids, m[1]), append(levels, m[2])
	}
	if len(out) < 2 {
		return nil, ""
	}
	// DuckDB's lists count from 1.
	cols := violationColumns("["+strings.Join(ids, ", ")+"][fullstop_rule + 1]", "["+strings.Join(levels, ", ")+"][fullstop_rule + 1]")
	// unnest in the select list repeats the event's columns once a rule
	// it matches, without the join a lateral unnest plans.
	hits := "SELECT unnest(list_filter([\n  " + strings.Join(cases, ",\n  ") + "\n], x -> x IS NOT NULL)) AS fullstop_rule, *\nFROM raw_events\nWHERE " +
		strings.Join(conds, "\n   OR ")
	return out, "SELECT fullstop_rule, " + cols + "\nFROM (" + hits + "\n) AS hit"
}
