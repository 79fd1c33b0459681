package rules

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	sqlfiles "github.com/fullstop-audit/fullstop/sql"
)

const goodHeader = `-- type: SOME_TYPE
-- title: Some title
-- severity: 2
-- priority: 1
-- help: First line
--   second line.
`

func TestParseRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		src     string
		want    Rule
		wantErr string // substring; "" means success
	}{
		{
			name: "complete",
			file: "rules/SOME_TYPE.sql",
			src:  goodHeader + "SELECT 1\n",
			want: Rule{Type: "SOME_TYPE", Title: "Some title", Severity: 2, Priority: 1,
				Help: "First line second line.", File: "sql/rules/SOME_TYPE.sql", SQL: "SELECT 1"},
		},
		{
			name: "sources",
			file: "rules/SOME_TYPE.sql",
			src:  goodHeader + "-- sources: ec2.amazonaws.com, lambda.amazonaws.com\nSELECT 1\n",
			want: Rule{Type: "SOME_TYPE", Title: "Some title", Severity: 2, Priority: 1,
				Help: "First line second line.", File: "sql/rules/SOME_TYPE.sql", SQL: "SELECT 1",
				Sources: []string{"ec2.amazonaws.com", "lambda.amazonaws.com"}},
		},
		{
			name: "sources and events",
			file: "rules/SOME_TYPE.sql",
			src:  goodHeader + "-- sources: lambda.amazonaws.com\n-- events: CreateFunction*, UpdateFunctionCode*\nSELECT 1\n",
			want: Rule{Type: "SOME_TYPE", Title: "Some title", Severity: 2, Priority: 1,
				Help: "First line second line.", File: "sql/rules/SOME_TYPE.sql", SQL: "SELECT 1",
				Sources: []string{"lambda.amazonaws.com"}, Events: []string{"CreateFunction*", "UpdateFunctionCode*"}},
		},
		{name: "events without sources", file: "rules/SOME_TYPE.sql", src: goodHeader + "-- events: RunInstances\nSELECT 1", wantErr: `needs "sources"`},
		{name: "inner wildcard", file: "rules/SOME_TYPE.sql", src: goodHeader + "-- sources: ec2.amazonaws.com\n-- events: Run*Instances\nSELECT 1", wantErr: `at most a trailing *`},
		{name: "bare wildcard", file: "rules/SOME_TYPE.sql", src: goodHeader + "-- sources: ec2.amazonaws.com\n-- events: *\nSELECT 1", wantErr: `at most a trailing *`},
		{name: "empty source", file: "rules/SOME_TYPE.sql", src: goodHeader + "-- sources: ec2.amazonaws.com,,x\nSELECT 1", wantErr: `comma list of event sources`},
		{name: "quoted source", file: "rules/SOME_TYPE.sql", src: goodHeader + "-- sources: 'ec2.amazonaws.com'\nSELECT 1", wantErr: `comma list of event sources`},
		{
			name: "blank lines before header, comments after separator belong to the query",
			file: "rules/SOME_TYPE.sql",
			src:  "\n\n" + goodHeader + "--\n-- Note: about the query\nSELECT 1;\n",
			want: Rule{Type: "SOME_TYPE", Title: "Some title", Severity: 2, Priority: 1,
				Help: "First line second line.", File: "sql/rules/SOME_TYPE.sql", SQL: "-- Note: about the query\nSELECT 1;"},
		},
		{
			name: "CRLF line ends",
			file: "rules/SOME_TYPE.sql",
			src:  strings.ReplaceAll(goodHeader+"SELECT 1\n", "\n", "\r\n"),
			want: Rule{Type: "SOME_TYPE", Title: "Some title", Severity: 2, Priority: 1,
				Help: "First line second line.", File: "sql/rules/SOME_TYPE.sql", SQL: "SELECT 1"},
		},
		{name: "type differs from file name", file: "rules/OTHER.sql", src: goodHeader + "SELECT 1", wantErr: `does not match the file name`},
		{name: "lower case type", file: "rules/some.sql", src: strings.Replace(goodHeader, "SOME_TYPE", "some", 1) + "SELECT 1", wantErr: `want upper case`},
		{name: "missing title", file: "rules/SOME_TYPE.sql", src: strings.Replace(goodHeader, "-- title: Some title\n", "", 1) + "SELECT 1", wantErr: `"title" missing`},
		{name: "missing help", file: "rules/SOME_TYPE.sql", src: "-- type: SOME_TYPE\n-- title: t\n-- severity: 1\n-- priority: 1\nSELECT 1", wantErr: `"help" missing`},
		{name: "empty title", file: "rules/SOME_TYPE.sql", src: strings.Replace(goodHeader, "Some title", "", 1) + "SELECT 1", wantErr: `must not be empty`},
		{name: "duplicate key", file: "rules/SOME_TYPE.sql", src: goodHeader + "-- title: again\nSELECT 1", wantErr: `"title" twice`},
		{name: "unknown key", file: "rules/SOME_TYPE.sql", src: goodHeader + "-- owner: me\nSELECT 1", wantErr: `unknown header key "owner"`},
		{name: "severity not a number", file: "rules/SOME_TYPE.sql", src: strings.Replace(goodHeader, "severity: 2", "severity: high", 1) + "SELECT 1", wantErr: `severity "high"`},
		{name: "severity too high", file: "rules/SOME_TYPE.sql", src: strings.Replace(goodHeader, "severity: 2", "severity: 5", 1) + "SELECT 1", wantErr: `from 0 to 4`},
		{name: "priority zero", file: "rules/SOME_TYPE.sql", src: strings.Replace(goodHeader, "priority: 1", "priority: 0", 1) + "SELECT 1", wantErr: `from 1 to 4`},
		{name: "stray comment in header", file: "rules/SOME_TYPE.sql", src: goodHeader + "-- Some remark\nSELECT 1", wantErr: `want "-- key: value"`},
		{name: "continuation outside help", file: "rules/SOME_TYPE.sql", src: "-- type: SOME_TYPE\n--   more\n-- title: t\nSELECT 1", wantErr: `indented help line`},
		{name: "no query", file: "rules/SOME_TYPE.sql", src: goodHeader, wantErr: `no query`},
		{name: "no query after separator", file: "rules/SOME_TYPE.sql", src: goodHeader + "--\n\n", wantErr: `no query`},
		{name: "empty file", file: "rules/SOME_TYPE.sql", src: "", wantErr: `"type" missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseRule(tt.file, tt.src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseRule() error = %v, want one containing %q", err, tt.wantErr)
				}
				if !errors.Is(err, ErrRule) {
					t.Errorf("error %v does not wrap ErrRule", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRule() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseRule() = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLoadRules(t *testing.T) {
	t.Parallel()
	t.Run("shipped rules", func(t *testing.T) {
		t.Parallel()
		rs, err := LoadRules(sqlfiles.Rules)
		if err != nil {
			t.Fatal(err)
		}
		// Titles, severities and priorities of the reference (§1.2).
		want := []Rule{
			{Type: "APPLICATION_NOT_PRESENT_IN_KIO", Title: "Unknown application ID", Severity: 1, Priority: 2},
			{Type: "ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY", Title: "Dirty artifact build", Severity: 3, Priority: 1},
			{Type: "EC2_RUN_IN_PUBLIC_SUBNET", Title: "Public EC2 instance", Severity: 0, Priority: 4},
			{Type: "EC2_WITH_A_SNAPSHOT_IMAGE", Title: "Snapshot deployment artifact", Severity: 2, Priority: 1},
			{Type: "EC2_WITH_KEYPAIR", Title: "EC2 SSH Keypair used", Severity: 0, Priority: 4},
			{Type: "ILLEGAL_SCM_REPOSITORY", Title: "Illegal SCM repository in use", Severity: 2, Priority: 2},
			{Type: "IMAGE_IN_PIERONE_NOT_FOUND", Title: "Unknown deployment artifact", Severity: 2, Priority: 1},
			{Type: "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION", Title: "Untrusted AWS-Lambda function", Severity: 1, Priority: 1},
			{Type: "MISSING_APPLICATION_ID_IN_USER_DATA", Title: "Missing application id", Severity: 1, Priority: 2},
			{Type: "MISSING_SOURCE_IN_USER_DATA", Title: "Incomplete EC2 user data", Severity: 0, Priority: 4},
			{Type: "MISSING_USER_DATA", Title: "EC2 without user data", Severity: 0, Priority: 3},
			{Type: "MODIFIED_ROLE_OR_SERVICE", Title: "Possible privilege escalation", Severity: 1, Priority: 2},
			{Type: "SCM_SOURCE_JSON_MISSING", Title: "Missing scm-source.json", Severity: 1, Priority: 2},
			{Type: "SCM_URL_IS_MISSING_IN_KIO", Title: "SCM URL missing in KIO", Severity: 0, Priority: 2},
			{Type: "SCM_URL_IS_MISSING_IN_SCM_SOURCE_JSON", Title: "Incomplete scm-source.json", Severity: 1, Priority: 2},
			{Type: "SCM_URL_NOT_MATCH_WITH_KIO", Title: "Built from illegal repository", Severity: 0, Priority: 2},
			{Type: "WRONG_AMI", Title: "EC2 instance using illegal AMI", Severity: 3, Priority: 1},
			{Type: "WRONG_REGION", Title: "EC2 instance in illegal region", Severity: 1, Priority: 2},
		}
		if len(rs) != len(want) {
			t.Fatalf("got %d rules, want %d", len(rs), len(want))
		}
		for i, w := range want {
			g := rs[i]
			if g.Type != w.Type || g.Title != w.Title || g.Severity != w.Severity || g.Priority != w.Priority {
				t.Errorf("rule %d = %s %q sev %d prio %d, want %s %q sev %d prio %d",
					i, g.Type, g.Title, g.Severity, g.Priority, w.Type, w.Title, w.Severity, w.Priority)
			}
			if g.File != "sql/rules/"+w.Type+".sql" {
				t.Errorf("rule %s file = %q", g.Type, g.File)
			}
			if len(g.Help) < 40 || !strings.HasPrefix(g.SQL, "--") && !strings.HasPrefix(g.SQL, "WITH") && !strings.HasPrefix(g.SQL, "SELECT") {
				t.Errorf("rule %s: help %q or query start %.20q looks wrong", g.Type, g.Help, g.SQL)
			}
		}
	})
	t.Run("no rule files", func(t *testing.T) {
		t.Parallel()
		_, err := LoadRules(fstest.MapFS{"rules/README.md": {Data: []byte("x")}})
		if !errors.Is(err, ErrRule) {
			t.Fatalf("LoadRules() error = %v, want ErrRule", err)
		}
	})
	t.Run("bad file named in error", func(t *testing.T) {
		t.Parallel()
		_, err := LoadRules(fstest.MapFS{
			"rules/A.sql": {Data: []byte(strings.Replace(goodHeader, "SOME_TYPE", "A", 1) + "SELECT 1")},
			"rules/B.sql": {Data: []byte("SELECT 1")},
		})
		if err == nil || !strings.Contains(err.Error(), `"rules/B.sql"`) {
			t.Fatalf("LoadRules() error = %v, want one naming rules/B.sql", err)
		}
	})
}
