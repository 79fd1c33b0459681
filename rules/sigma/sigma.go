// Package sigma compiles Sigma rules (the public Sigma specification) for
// AWS CloudTrail into fullstop's rules: one SELECT over the table
// raw_events per rule (every event, failed calls too, as a Sigma rule
// expects: a rule about successful calls says errorCode|exists: false),
// with the header fields a rule file has, in the set "sigma". Constructs the
// compiler does not support are refused with an error naming the
// construct and the rule, never compiled into a query that means
// something else.
package sigma

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/fullstop-audit/fullstop/rules"
)

// ErrUnsupported is wrapped by the error of a rule that uses a construct
// the compiler does not support.
var ErrUnsupported = errors.New("not supported")

// Rule is the part of a Sigma rule the compiler reads.
type Rule struct {
	Title          string   `yaml:"title"`
	ID             string   `yaml:"id"`
	Status         string   `yaml:"status"`
	Description    string   `yaml:"description"`
	References     []string `yaml:"references"`
	FalsePositives []string `yaml:"falsepositives"`
	Level          string   `yaml:"level"`
	Tags           []string `yaml:"tags"`
	Logsource      struct {
		Product  string `yaml:"product"`
		Service  string `yaml:"service"`
		Category string `yaml:"category"`
	} `yaml:"logsource"`
	Detection yaml.Node `yaml:"detection"`
	// FullstopType, from the custom field fullstop_type, names the
	// violation type instead of SIGMA_ and the title.
	FullstopType string `yaml:"fullstop_type"`
	// Name is how a correlation in the same file refers to the rule.
	Name string `yaml:"name"`
	// Correlation makes the document a correlation rule.
	Correlation *correlationDoc `yaml:"correlation"`
}

// levels maps a Sigma level to a severity (0–4, the level's index in
// rules.Levels, so that "sigma:high" selects by severity) and a priority
// (1–4).
var levels = map[string][2]int{
	"informational": {0, 4},
	"low":           {1, 3},
	"medium":        {2, 2},
	"high":          {3, 1},
	"critical":      {4, 1},
}

var typeRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// Compile compiles the Sigma rule src; file names it in errors and in the
// rule's File.
func Compile(file string, src []byte) (rules.Rule, error) {
	r, err := compile(file, src)
	if err != nil {
		return rules.Rule{}, fmt.Errorf("sigma rule %s: %w", file, err)
	}
	return r, nil
}

func compile(file string, src []byte) (rules.Rule, error) {
	var sr Rule
	if err := yaml.Load(src, &sr); err != nil {
		return rules.Rule{}, fmt.Errorf("read YAML: %w", err)
	}
	if sr.Correlation != nil {
		return rules.Rule{}, fmt.Errorf("correlation %q: the rule it counts must follow in the same file, after ---", sr.Title)
	}
	return compileRule(file, sr)
}

// compileRule compiles the detection rule sr of file.
func compileRule(file string, sr Rule) (rules.Rule, error) {
	r, _, err := compileWhere(file, sr)
	return r, err
}

// ruleType is the violation type of the rule sr: its fullstop_type, else
// TypeOf its title.
func ruleType(sr Rule) (string, error) {
	typ := strings.TrimSpace(sr.FullstopType)
	if typ == "" {
		typ = TypeOf(sr.Title)
	}
	if !typeRE.MatchString(typ) {
		return "", fmt.Errorf("type %q: want upper case letters, digits and _", typ)
	}
	return typ, nil
}

// compileWhere is compileRule, with the SQL condition of the rule.
func compileWhere(file string, sr Rule) (rules.Rule, string, error) {
	if strings.TrimSpace(sr.Title) == "" {
		return rules.Rule{}, "", errors.New("no title")
	}
	if sr.Logsource.Product != "aws" || sr.Logsource.Service != "cloudtrail" {
		return rules.Rule{}, "", fmt.Errorf("logsource %s/%s: only product aws, service cloudtrail: %w", sr.Logsource.Product, sr.Logsource.Service, ErrUnsupported)
	}
	lv, ok := levels[strings.ToLower(strings.TrimSpace(sr.Level))]
	if !ok {
		return rules.Rule{}, "", fmt.Errorf("level %q: want informational, low, medium, high or critical", sr.Level)
	}
	typ, err := ruleType(sr)
	if err != nil {
		return rules.Rule{}, "", err
	}
	cond, err := detection(&sr.Detection)
	if err != nil {
		return rules.Rule{}, "", err
	}
	where, err := cond.sql()
	if err != nil {
		return rules.Rule{}, "", err
	}
	r := rules.Rule{Type: typ, Title: title(sr.Title), Severity: lv[0], Priority: lv[1], Help: help(sr),
		File: path.Clean(file), SQL: selectSQL(sr, where), Set: rules.SetSigma}
	if canEval(cond) {
		r.Detector = newDetector(cond, sr.ID, strings.ToLower(strings.TrimSpace(sr.Level)))
	}
	if srcs, ok := constrained(cond, "eventSource"); ok && len(srcs) > 0 && !hasWildcard(srcs) {
		r.Sources = srcs
		if names, ok := constrained(cond, "eventName"); ok && len(names) > 0 && eventPatterns(names) {
			r.Events = names
		}
	} else {
		r.OnlyColumn, r.OnlyValues = onlyFilter(cond)
	}
	return r, where, nil
}

// onlyFields are the fields tried, in order, for the "only" header of a
// rule that does not name its event sources.
var onlyFields = []string{"userIdentity.type", "errorCode", "eventType"}

// onlyFilter is the column and values of the first of onlyFields that
// every branch of cond requires to equal one of some values.
func onlyFilter(cond node) (string, []string) {
	for _, f := range onlyFields {
		vs, ok := constrained(cond, f)
		if !ok || len(vs) == 0 || hasWildcard(vs) || slices.ContainsFunc(vs, func(v string) bool { return strings.ContainsAny(v, ",'\"\\") }) {
			continue
		}
		return columns[f], vs
	}
	return "", nil
}

// TypeOf is the violation type of a Sigma rule without fullstop_type:
// SIGMA_ and its title in upper snake case.
func TypeOf(title string) string {
	var b strings.Builder
	b.WriteString("SIGMA")
	under := true
	for _, c := range strings.ToUpper(title) {
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			if under {
				b.WriteByte('_')
				under = false
			}
			b.WriteRune(c)
		default:
			under = true
		}
	}
	return b.String()
}

// title shortens a title to the 60 characters a violation type's title
// holds.
func title(t string) string {
	t = strings.Join(strings.Fields(t), " ")
	if r := []rune(t); len(r) > 60 {
		return string(r[:59]) + "…"
	}
	return t
}

// help is the rule's description, false positives and references.
func help(sr Rule) string {
	parts := []string{strings.Join(strings.Fields(sr.Description), " ")}
	if parts[0] == "" {
		parts[0] = strings.TrimSpace(sr.Title) + "."
	}
	if len(sr.FalsePositives) > 0 {
		parts = append(parts, "False positives: "+strings.Join(sr.FalsePositives, "; ")+".")
	}
	if len(sr.References) > 0 {
		parts = append(parts, "References: "+strings.Join(sr.References, " "))
	}
	return strings.Join(parts, " ")
}

// selectSQL is the rule's query: the violation columns, with the meta a
// person triaging needs.
func selectSQL(sr Rule, where string) string {
	return queryOf(quote(sr.ID), quote(strings.ToLower(strings.TrimSpace(sr.Level))), "raw_events", where)
}

// queryOf is a compiled rule's query: violationColumns(id, level) from
// table where the condition holds.
func queryOf(id, level, table, where string) string {
	return "SELECT " + violationColumns(id, level) + "\nFROM " + table + "\nWHERE " + where
}

// violationColumns are the columns of a compiled rule's rows, with the
// SQL expressions id and level for the Sigma id and level.
func violationColumns(id, level string) string {
	return violationColumnsWith(id, level, resourceSQL)
}

// violationColumnsWith is violationColumns with the SQL expression
// instance for the instance_id column.
func violationColumnsWith(id, level, instance string) string {
	return fmt.Sprintf(`event_id,
       coalesce(nullif(user_identity_account_id, ''), nullif(recipient_account_id, ''), session_issuer_account_id) AS account_id,
       aws_region AS region,
       %s AS instance_id,
       user_identity_arn AS username,
       json_object('sigma_id', %s, 'level', %s, 'event_source', event_source, 'event_name', event_name,
                   'principal_arn', user_identity_arn, 'principal_type', user_identity_type,
                   'source_ip_address', source_ip_address, 'user_agent', user_agent,
                   'request_parameters', try_cast(request_parameters AS JSON))::VARCHAR AS meta_info,
       event_time,
       object_key`, instance, id, level)
}

// resourceKeys are the request parameters that name the resource an event
// acts on, in the order they are tried: the violation's instance_id.
var resourceKeys = []string{"bucketName", "roleName", "userName", "groupName", "groupId", "policyArn", "trailName", "name",
	"keyId", "snapshotId", "imageId", "instanceId", "functionName", "secretId", "detectorId", "accessKeyId"}

// resourceSQL is the affected resource: the first of resourceKeys the
// request names, else NULL. One json_extract_string with a list of paths
// parses the request once, not once a key.
var resourceSQL = func() string {
	paths := make([]string, len(resourceKeys))
	for i, k := range resourceKeys {
		paths[i] = "'$." + k + "'"
	}
	return "(list_filter(json_extract_string(request_parameters, [" + strings.Join(paths, ", ") + "]), x -> x <> ''))[1]"
}()

// quote is s as a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func hasWildcard(vs []string) bool {
	for _, v := range vs {
		if strings.ContainsAny(v, "*?") {
			return true
		}
	}
	return false
}

// eventPatterns reports whether values fit the events header: exact
// names, or names with one trailing *.
func eventPatterns(vs []string) bool {
	for _, v := range vs {
		if strings.Contains(strings.TrimSuffix(v, "*"), "*") || strings.Contains(v, "?") || v == "*" {
			return false
		}
	}
	return true
}
