package lake_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/etl/lake"
)

// athenaDocPath is the page that documents the external tables over the
// lake; athenaDoc is its name in messages.
const (
	athenaDocPath = "../../docs/athena.md"
	athenaDoc     = "docs/athena.md"
)

// partitionColumns are the hive partition columns of the lake, in the
// order of its folders.
var partitionColumns = []string{"date", "account", "region"}

// athenaTypes and trinoTypes are the DDL types that read each Arrow type of
// event.Schema as the lake's Parquet writer stores it.
var (
	athenaTypes = map[arrow.Type][]string{
		arrow.STRING:    {"string"},
		arrow.INT32:     {"int", "integer"},
		arrow.BOOL:      {"boolean"},
		arrow.TIMESTAMP: {"timestamp"},
	}
	trinoTypes = map[arrow.Type][]string{
		arrow.STRING:    {"varchar"},
		arrow.INT32:     {"integer", "int"},
		arrow.BOOL:      {"boolean"},
		arrow.TIMESTAMP: {"timestamp", "timestamp(3)", "timestamp(6)"},
	}
	// The partition values are strings in the folder names; date may
	// also be declared a date.
	athenaPartitionTypes = map[string][]string{"date": {"string", "date"}, "account": {"string"}, "region": {"string"}}
	trinoPartitionTypes  = map[string][]string{"date": {"varchar", "date"}, "account": {"varchar"}, "region": {"varchar"}}
)

func TestAthenaDDL(t *testing.T) {
	stmt := createStatement(t, readSQLBlocks(t), "Athena", athenaCreate)
	ddl, err := parseAthena(stmt)
	if err != nil {
		t.Fatalf("%s: the Athena CREATE EXTERNAL TABLE: %v", athenaDoc, err)
	}
	for _, p := range compareColumns(ddl.columns, event.Schema.Fields(), athenaTypes) {
		t.Errorf("%s: Athena DDL: %s", athenaDoc, p)
	}
	for _, p := range comparePartitions(ddl.partitions, athenaPartitionTypes) {
		t.Errorf("%s: Athena PARTITIONED BY: %s", athenaDoc, p)
	}

	if !strings.HasSuffix(ddl.location, "/") {
		t.Errorf("%s: Athena LOCATION %q must end with /", athenaDoc, ddl.location)
	}
	props := ddl.properties
	if got := props["projection.enabled"]; got != "true" {
		t.Errorf("%s: Athena TBLPROPERTIES: projection.enabled = %q, want true", athenaDoc, got)
	}
	for _, c := range partitionColumns {
		if props["projection."+c+".type"] == "" {
			t.Errorf("%s: Athena TBLPROPERTIES: no projection.%s.type", athenaDoc, c)
		}
	}
	if got := props["projection.date.type"]; got != "date" {
		t.Errorf("%s: Athena TBLPROPERTIES: projection.date.type = %q, want date", athenaDoc, got)
	}
	if got := props["projection.date.format"]; got != "yyyy-MM-dd" {
		t.Errorf("%s: Athena TBLPROPERTIES: projection.date.format = %q, want yyyy-MM-dd (the lake's date= values)", athenaDoc, got)
	}

	// The template must give the folder the lake writes for a partition.
	tmpl, ok := props["storage.location.template"]
	if !ok {
		t.Fatalf("%s: Athena TBLPROPERTIES: no storage.location.template", athenaDoc)
	}
	rel, ok := strings.CutPrefix(tmpl, ddl.location)
	if !ok {
		t.Fatalf("%s: Athena storage.location.template %q is not under LOCATION %q", athenaDoc, tmpl, ddl.location)
	}
	const wantRel = "date=${date}/account=${account}/region=${region}/"
	if rel != wantRel {
		t.Errorf("%s: Athena storage.location.template = LOCATION + %q, want LOCATION + %q", athenaDoc, rel, wantRel)
	}
	p := lake.Partition{Date: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Account: "012345678901", Region: "eu-west-1"}
	got := strings.NewReplacer("${date}", "2024-05-01", "${account}", p.Account, "${region}", p.Region).Replace(rel)
	if want := p.Dir() + "/"; got != want {
		t.Errorf("%s: Athena storage.location.template gives %q for partition %v, the lake writes %q", athenaDoc, got, p, want)
	}
}

func TestTrinoDDL(t *testing.T) {
	blocks := readSQLBlocks(t)
	stmt := createStatement(t, blocks, "Trino", trinoCreate)
	ddl, err := parseTrino(stmt)
	if err != nil {
		t.Fatalf("%s: the Trino CREATE TABLE: %v", athenaDoc, err)
	}
	if !slices.Equal(ddl.partitionedBy, partitionColumns) {
		t.Errorf("%s: Trino partitioned_by = %q, want %q", athenaDoc, ddl.partitionedBy, partitionColumns)
	}
	// The Hive connector wants the partition columns last, in order.
	n := len(ddl.columns) - len(partitionColumns)
	if n < 0 {
		t.Fatalf("%s: Trino DDL has %d columns, fewer than the %d partition columns", athenaDoc, len(ddl.columns), len(partitionColumns))
	}
	for _, p := range compareColumns(ddl.columns[:n], event.Schema.Fields(), trinoTypes) {
		t.Errorf("%s: Trino DDL: %s", athenaDoc, p)
	}
	for _, p := range comparePartitions(ddl.columns[n:], trinoPartitionTypes) {
		t.Errorf("%s: Trino DDL, the last %d columns (the partition columns): %s", athenaDoc, len(partitionColumns), p)
	}
	if got := strings.ToUpper(ddl.with["format"]); got != "PARQUET" {
		t.Errorf("%s: Trino format = %q, want PARQUET", athenaDoc, ddl.with["format"])
	}
	loc := ddl.with["external_location"]
	if loc == "" {
		t.Errorf("%s: Trino DDL has no external_location", athenaDoc)
	}
	// Both tables are over the same lake.
	if athena, err := parseAthena(createStatement(t, blocks, "Athena", athenaCreate)); err == nil && loc != athena.location {
		t.Errorf("%s: Trino external_location %q differs from Athena's LOCATION %q", athenaDoc, loc, athena.location)
	}
	if !slices.ContainsFunc(blocks, func(b string) bool { return strings.Contains(b, "system.sync_partition_metadata(") }) {
		t.Errorf("%s: no CALL system.sync_partition_metadata(...) for the Trino table", athenaDoc)
	}
}

// TestDDLCheckFindsMistakes makes sure the checks above fail on a missing,
// an extra, a mistyped and a misplaced column.
func TestDDLCheckFindsMistakes(t *testing.T) {
	stmt := createStatement(t, readSQLBlocks(t), "Athena", athenaCreate)
	ddl, err := parseAthena(stmt)
	if err != nil {
		t.Fatal(err)
	}
	fields := event.Schema.Fields()
	if len(ddl.columns) != len(fields) {
		t.Fatal("the Athena DDL does not match the schema; TestAthenaDDL says how")
	}
	mutate := func(f func([]column) []column) []column { return f(slices.Clone(ddl.columns)) }
	cases := []struct {
		name string
		cols []column
		want string
	}{
		{"missing", mutate(func(c []column) []column { return slices.Delete(c, 5, 6) }), `missing column "event_time"`},
		{"extra", mutate(func(c []column) []column { return append(c, column{"bogus", "string"}) }), `extra column "bogus"`},
		{"mistyped", mutate(func(c []column) []column { c[3].typ = "bigint"; return c }), `column "record_index" is bigint`},
		{"misplaced", mutate(func(c []column) []column { c[0], c[1] = c[1], c[0]; return c }), `column 1 is "key_account", want "object_key"`},
		{"duplicate", mutate(func(c []column) []column { c[2] = c[1]; return c }), `column "key_account" appears 2 times`},
	}
	for _, tc := range cases {
		problems := compareColumns(tc.cols, fields, athenaTypes)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
			t.Errorf("%s: problems %q, want one containing %q", tc.name, problems, tc.want)
		}
	}
	if p := comparePartitions([]column{{"account", "string"}, {"date", "string"}, {"region", "string"}}, athenaPartitionTypes); len(p) == 0 {
		t.Error("partitions out of order: no problem reported")
	}
	if p := comparePartitions([]column{{"date", "string"}, {"account", "bigint"}, {"region", "string"}}, athenaPartitionTypes); len(p) == 0 {
		t.Error("mistyped account partition: no problem reported")
	}
}

// column is one column of a DDL column list.
type column struct {
	name string // lower case, unquoted
	typ  string // lower case, without spaces
}

// compareColumns compares the columns of a DDL with the schema's fields and
// returns the differences, each a sentence.
func compareColumns(got []column, want []arrow.Field, types map[arrow.Type][]string) []string {
	var problems []string
	wantType := map[string]arrow.DataType{}
	for _, f := range want {
		wantType[f.Name] = f.Type
	}
	count := map[string]int{}
	for _, c := range got {
		count[c.name]++
	}
	for _, f := range want {
		if count[f.Name] == 0 {
			problems = append(problems, fmt.Sprintf("missing column %q (%s in event.Schema)", f.Name, f.Type))
		}
	}
	for i, c := range got {
		if count[c.name] > 1 && slices.IndexFunc(got, func(o column) bool { return o.name == c.name }) == i {
			problems = append(problems, fmt.Sprintf("column %q appears %d times", c.name, count[c.name]))
		}
		dt, ok := wantType[c.name]
		if !ok {
			problems = append(problems, fmt.Sprintf("extra column %q (%s), not in event.Schema", c.name, c.typ))
			continue
		}
		allowed, ok := types[dt.ID()]
		if !ok {
			problems = append(problems, fmt.Sprintf("column %q: event.Schema type %s has no DDL type in this test; add it to the mapping", c.name, dt))
			continue
		}
		if !slices.Contains(allowed, c.typ) {
			problems = append(problems, fmt.Sprintf("column %q is %s, want %s (event.Schema: %s)", c.name, c.typ, strings.Join(allowed, " or "), dt))
		}
	}
	if len(problems) > 0 {
		return problems
	}
	// Same names, once each: now the order.
	for i, f := range want {
		if got[i].name != f.Name {
			problems = append(problems, fmt.Sprintf("column %d is %q, want %q (the order of event.Schema)", i+1, got[i].name, f.Name))
			break
		}
	}
	return problems
}

// comparePartitions checks that cols are the partition columns, in order,
// with one of the allowed types.
func comparePartitions(cols []column, types map[string][]string) []string {
	var names []string
	for _, c := range cols {
		names = append(names, c.name)
	}
	if !slices.Equal(names, partitionColumns) {
		return []string{fmt.Sprintf("partition columns %q, want %q in this order", names, partitionColumns)}
	}
	var problems []string
	for _, c := range cols {
		if !slices.Contains(types[c.name], c.typ) {
			problems = append(problems, fmt.Sprintf("partition column %q is %s, want %s", c.name, c.typ, strings.Join(types[c.name], " or ")))
		}
	}
	return problems
}

// readSQLBlocks returns the ```sql code blocks of the page.
func readSQLBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(athenaDocPath)
	if err != nil {
		t.Fatalf("read the documentation of the external tables: %v", err)
	}
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```sql"):
			cur = &strings.Builder{}
		case cur != nil && strings.HasPrefix(trimmed, "```"):
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line)
			cur.WriteByte('\n')
		}
	}
	if cur != nil {
		t.Fatalf("%s: a ```sql block is not closed", athenaDoc)
	}
	return blocks
}

var (
	athenaCreate = regexp.MustCompile(`(?i)\bCREATE\s+EXTERNAL\s+TABLE\s+`)
	trinoCreate  = regexp.MustCompile(`(?i)\bCREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?hive\.`)
)

// createStatement returns the one CREATE statement that re matches among
// the blocks, from CREATE on, comments removed.
func createStatement(t *testing.T, blocks []string, engine string, re *regexp.Regexp) string {
	t.Helper()
	var found []string
	for _, b := range blocks {
		b = stripComments(b)
		for _, loc := range re.FindAllStringIndex(b, -1) {
			found = append(found, b[loc[0]:])
		}
	}
	switch len(found) {
	case 0:
		t.Fatalf("%s: no ```sql block holds the %s statement (%s)", athenaDoc, engine, re)
	case 1:
	default:
		t.Fatalf("%s: %d ```sql blocks hold a %s statement (%s); want one", athenaDoc, len(found), engine, re)
	}
	return found[0]
}

// athenaDDL is what the test reads of a CREATE EXTERNAL TABLE.
type athenaDDL struct {
	columns    []column
	partitions []column
	location   string
	properties map[string]string
}

func parseAthena(stmt string) (athenaDDL, error) {
	var d athenaDDL
	list, rest, err := parenGroup(stmt)
	if err != nil {
		return d, fmt.Errorf("column list: %w", err)
	}
	if d.columns, err = parseColumns(list); err != nil {
		return d, err
	}
	end := statementEnd(rest)
	rest = rest[:end]
	i := regexp.MustCompile(`(?i)\bPARTITIONED\s+BY\s*`).FindStringIndex(rest)
	if i == nil {
		return d, fmt.Errorf("no PARTITIONED BY")
	}
	plist, _, err := parenGroup(rest[i[1]:])
	if err != nil {
		return d, fmt.Errorf("PARTITIONED BY: %w", err)
	}
	if d.partitions, err = parseColumns(plist); err != nil {
		return d, fmt.Errorf("PARTITIONED BY: %w", err)
	}
	m := regexp.MustCompile(`(?i)\bLOCATION\s+'([^']*)'`).FindStringSubmatch(rest)
	if m == nil {
		return d, fmt.Errorf("no LOCATION '...'")
	}
	d.location = m[1]
	i = regexp.MustCompile(`(?i)\bTBLPROPERTIES\s*`).FindStringIndex(rest)
	if i == nil {
		return d, fmt.Errorf("no TBLPROPERTIES")
	}
	props, _, err := parenGroup(rest[i[1]:])
	if err != nil {
		return d, fmt.Errorf("TBLPROPERTIES: %w", err)
	}
	d.properties = map[string]string{}
	for _, item := range splitTop(props) {
		m := regexp.MustCompile(`^\s*'([^']*)'\s*=\s*'([^']*)'\s*$`).FindStringSubmatch(item)
		if m == nil {
			return d, fmt.Errorf("TBLPROPERTIES: %q is not 'key' = 'value'", strings.TrimSpace(item))
		}
		if _, dup := d.properties[m[1]]; dup {
			return d, fmt.Errorf("TBLPROPERTIES: %q set twice", m[1])
		}
		d.properties[m[1]] = m[2]
	}
	return d, nil
}

// trinoDDL is what the test reads of a Trino CREATE TABLE.
type trinoDDL struct {
	columns       []column
	with          map[string]string // the WITH properties, string values unquoted
	partitionedBy []string
}

func parseTrino(stmt string) (trinoDDL, error) {
	var d trinoDDL
	list, rest, err := parenGroup(stmt)
	if err != nil {
		return d, fmt.Errorf("column list: %w", err)
	}
	if d.columns, err = parseColumns(list); err != nil {
		return d, err
	}
	rest = rest[:statementEnd(rest)]
	i := regexp.MustCompile(`(?i)^\s*WITH\s*`).FindStringIndex(rest)
	if i == nil {
		return d, fmt.Errorf("no WITH (...) after the column list")
	}
	props, _, err := parenGroup(rest[i[1]:])
	if err != nil {
		return d, fmt.Errorf("WITH: %w", err)
	}
	d.with = map[string]string{}
	for _, item := range splitTop(props) {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return d, fmt.Errorf("WITH: %q is not key = value", strings.TrimSpace(item))
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if k == "partitioned_by" {
			if !regexp.MustCompile(`(?is)^ARRAY\s*\[.*\]$`).MatchString(v) {
				return d, fmt.Errorf("partitioned_by = %s is not ARRAY[...]", v)
			}
			for _, m := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(v, -1) {
				d.partitionedBy = append(d.partitionedBy, strings.ToLower(m[1]))
			}
		}
		d.with[k] = strings.Trim(v, "'")
	}
	if d.with["partitioned_by"] == "" {
		return d, fmt.Errorf("no partitioned_by in WITH")
	}
	return d, nil
}

// parseColumns parses a column list: name type [COMMENT '...'], ...
// A name may be quoted with backticks (Hive DDL) or double quotes (Trino).
func parseColumns(list string) ([]column, error) {
	var cols []column
	for _, item := range splitTop(list) {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("empty column definition in %q", list)
		}
		var name, rest string
		if q := item[0]; q == '`' || q == '"' {
			end := strings.IndexByte(item[1:], q)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted name in %q", item)
			}
			name, rest = item[1:1+end], item[2+end:]
		} else {
			n := strings.IndexFunc(item, func(r rune) bool {
				return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
			})
			if n <= 0 {
				return nil, fmt.Errorf("no column name in %q", item)
			}
			name, rest = item[:n], item[n:]
		}
		if i := regexp.MustCompile(`(?i)\s+COMMENT\s+'`).FindStringIndex(rest); i != nil {
			rest = rest[:i[0]]
		}
		typ := strings.ToLower(strings.Join(strings.Fields(rest), ""))
		if typ == "" {
			return nil, fmt.Errorf("column %q has no type", name)
		}
		cols = append(cols, column{name: strings.ToLower(name), typ: typ})
	}
	return cols, nil
}

// parenGroup returns the text inside the first parenthesised group of s and
// the text after it, skipping quoted text.
func parenGroup(s string) (inside, after string, err error) {
	start := -1
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			if depth == 0 && start < 0 {
				start = i + 1
			}
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return "", "", fmt.Errorf("unbalanced ) in %q", s)
			}
			if depth == 0 && start >= 0 {
				return s[start:i], s[i+1:], nil
			}
		case c == ';' && start < 0:
			return "", "", fmt.Errorf("no ( before the end of the statement")
		}
	}
	return "", "", fmt.Errorf("no balanced (...) in %q", s)
}

// splitTop splits s at the commas outside parentheses, brackets, angle
// brackets and quotes.
func splitTop(s string) []string {
	var parts []string
	depth, last := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(' || c == '[' || c == '<':
			depth++
		case c == ')' || c == ']' || c == '>':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[last:i])
			last = i + 1
		}
	}
	if strings.TrimSpace(s[last:]) != "" || len(parts) > 0 {
		parts = append(parts, s[last:])
	}
	return parts
}

// statementEnd returns the index of the ; that ends the statement s begins,
// or len(s).
func statementEnd(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == ';':
			return i
		}
	}
	return len(s)
}

// stripComments removes -- comments outside quotes.
func stripComments(s string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			if i < len(s) {
				b.WriteByte('\n')
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
