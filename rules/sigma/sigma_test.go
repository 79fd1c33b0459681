package sigma_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/sigma"
)

func rule(detection string) string {
	return `title: AWS CloudTrail Stopped
id: 11111111-2222-3333-4444-555555555555
status: test
description: Detects a trail stopped or deleted.
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_StopLogging.html
falsepositives:
  - An administrator rebuilding the trail
level: high
logsource:
  product: aws
  service: cloudtrail
detection:
` + detection
}

func TestCompile_header(t *testing.T) {
	t.Parallel()
	r, err := sigma.Compile("sql/sigma/trail.yml", []byte(rule(`  selection:
    eventSource: cloudtrail.amazonaws.com
    eventName:
      - StopLogging
      - DeleteTrail
  condition: selection
`)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "SIGMA_AWS_CLOUDTRAIL_STOPPED" || r.Title != "AWS CloudTrail Stopped" || r.Severity != 3 || r.Priority != 1 ||
		!strings.Contains(r.Help, "Detects a trail stopped or deleted.") || !strings.Contains(r.Help, "False positives: An administrator") ||
		!strings.Contains(r.Help, "API_StopLogging.html") || r.File != "sql/sigma/trail.yml" {
		t.Errorf("header %+v", r)
	}
	if !slices.Equal(r.Sources, []string{"cloudtrail.amazonaws.com"}) || !slices.Equal(r.Events, []string{"StopLogging", "DeleteTrail"}) {
		t.Errorf("sources %v, events %v", r.Sources, r.Events)
	}
	for _, s := range []string{"lower(event_source) = lower('cloudtrail.amazonaws.com')", "lower(event_name) = lower('StopLogging')",
		"'sigma_id', '11111111-2222-3333-4444-555555555555'", "'level', 'high'"} {
		if !strings.Contains(r.SQL, s) {
			t.Errorf("SQL lacks %s:\n%s", s, r.SQL)
		}
	}
}

// Each modifier and condition form, as the SQL it becomes.
func TestCompile_forms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, detection string
		want            []string
		sources         []string
	}{
		{"contains", "  sel:\n    userAgent|contains: 'aws-cli'\n  condition: sel\n", []string{`user_agent ILIKE '%aws-cli%' ESCAPE '\'`}, nil},
		{"startswith", "  sel:\n    eventName|startswith: Delete\n  condition: sel\n", []string{`event_name ILIKE 'Delete%' ESCAPE '\'`}, nil},
		{"endswith", "  sel:\n    userIdentity.arn|endswith: ':root'\n  condition: sel\n", []string{`user_identity_arn ILIKE '%:root' ESCAPE '\'`}, nil},
		{"wildcards and escapes", "  sel:\n    eventName: 'Put*Polic?'\n    errorMessage: 'a\\*b_c%'\n  condition: sel\n",
			[]string{`event_name ILIKE 'Put%Polic_' ESCAPE '\'`, `lower(error_message) = lower('a*b_c%')`}, nil},
		{"contains all", "  sel:\n    userAgent|contains|all:\n      - Boto3\n      - Python\n  condition: sel\n",
			[]string{`(user_agent ILIKE '%Boto3%' ESCAPE '\' AND user_agent ILIKE '%Python%' ESCAPE '\')`}, nil},
		{"re", "  sel:\n    userAgent|re: '^aws-sdk-go/1\\.'\n  condition: sel\n", []string{`regexp_matches(user_agent, '^aws-sdk-go/1\.')`}, nil},
		{"re i", "  sel:\n    userAgent|re|i: 'KALI'\n  condition: sel\n", []string{`regexp_matches(user_agent, 'KALI', 'i')`}, nil},
		{"cidr", "  sel:\n    sourceIPAddress|cidr: 10.0.0.0/8\n  condition: sel\n", []string{"ipv4_number(source_ip_address) BETWEEN 167772160 AND 184549375"}, nil},
		{"exists", "  sel:\n    requestParameters.policy|exists: true\n  condition: sel\n", []string{"json_extract_string(request_parameters, '$.policy') IS NOT NULL"}, nil},
		{"fieldref", "  sel:\n    userIdentity.userName|fieldref: requestParameters.userName\n  condition: sel\n",
			[]string{"lower(user_identity_user_name) = lower(json_extract_string(request_parameters, '$.userName'))"}, nil},
		{"fieldref contains", "  sel:\n    requestParameters.assumeRolePolicyDocument|fieldref|contains: recipientAccountId\n  condition: sel\n",
			[]string{"contains(lower(json_extract_string(request_parameters, '$.assumeRolePolicyDocument')), lower(recipient_account_id))"}, nil},
		{"fieldref startswith cased", "  sel:\n    userIdentity.arn|startswith|fieldref|cased: userIdentity.sessionContext.sessionIssuer.arn\n  condition: sel\n",
			[]string{"starts_with(user_identity_arn, session_issuer_arn)"}, nil},
		{"fieldref endswith", "  sel:\n    userIdentity.arn|fieldref|endswith: userIdentity.userName\n  condition: sel\n",
			[]string{"suffix(lower(user_identity_arn), lower(user_identity_user_name))"}, nil},
		{"null", "  sel:\n    errorCode: null\n  condition: sel\n", []string{"coalesce(error_code, '') = ''"}, nil},
		{"cased", "  sel:\n    eventName|cased: StopLogging\n  condition: sel\n", []string{"event_name = 'StopLogging'"}, nil},
		{"quote in a value", "  sel:\n    userAgent: \"it's\"\n  condition: sel\n", []string{"lower(user_agent) = lower('it''s')"}, nil},
		{"typed column", "  sel:\n    readOnly: 'false'\n  condition: sel\n", []string{"lower(lower(read_only::VARCHAR)) = lower('false')"}, nil},
		{"not and or parentheses", "  a:\n    eventSource: iam.amazonaws.com\n  b:\n    eventName: CreateUser\n  c:\n    errorCode: AccessDenied\n  condition: a and (b or not c)\n",
			[]string{"(lower(event_source) = lower('iam.amazonaws.com') AND (lower(event_name) = lower('CreateUser') OR NOT coalesce(lower(error_code) = lower('AccessDenied'), false)))"},
			[]string{"iam.amazonaws.com"}},
		{"1 of wildcard", "  selection_a:\n    eventSource: s3.amazonaws.com\n  selection_b:\n    eventSource: ec2.amazonaws.com\n  filter:\n    userAgent: x\n  condition: 1 of selection_* and not filter\n",
			[]string{"((lower(event_source) = lower('s3.amazonaws.com') OR lower(event_source) = lower('ec2.amazonaws.com')) AND NOT"},
			[]string{"s3.amazonaws.com", "ec2.amazonaws.com"}},
		{"all of them", "  a:\n    eventSource: s3.amazonaws.com\n  b:\n    eventName: PutBucketPolicy\n  condition: all of them\n",
			[]string{"(lower(event_source) = lower('s3.amazonaws.com') AND lower(event_name) = lower('PutBucketPolicy'))"}, []string{"s3.amazonaws.com"}},
		{"a whole document", "  sel:\n    requestParameters|contains: 'Status=Suspended'\n  condition: sel\n", []string{`request_parameters ILIKE '%Status=Suspended%' ESCAPE '\'`}, nil},
		{"list of maps", "  sel:\n    - eventName: A\n    - eventName: B\n  condition: sel\n", []string{"(lower(event_name) = lower('A') OR lower(event_name) = lower('B'))"}, nil},
	}
	for _, tt := range tests {
		r, err := sigma.Compile("x.yml", []byte(rule(tt.detection)))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(r.SQL, w) {
				t.Errorf("%s: SQL lacks %s:\n%s", tt.name, w, r.SQL)
			}
		}
		if !slices.Equal(r.Sources, tt.sources) {
			t.Errorf("%s: sources %v, want %v", tt.name, r.Sources, tt.sources)
		}
	}
}

// What the compiler does not support is refused, naming the construct.
func TestCompile_refusals(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, msg string }{
		{"keywords", rule("  keywords:\n    - evil\n  condition: keywords\n"), "keywords"},
		{"aggregation", rule("  sel:\n    eventName: A\n  condition: sel | count() > 5\n"), "aggregations"},
		{"timeframe", rule("  sel:\n    eventName: A\n  timeframe: 5m\n  condition: sel\n"), "timeframe"},
		{"unknown modifier", rule("  sel:\n    eventName|base64offset: A\n  condition: sel\n"), `modifier "base64offset"`},
		{"unmapped field", rule("  sel:\n    foo.bar: A\n  condition: sel\n"), `field "foo.bar" has no mapping`},
		{"IPv6 cidr", rule("  sel:\n    sourceIPAddress|cidr: 'fc00::/7'\n  condition: sel\n"), "IPv6 cidr"},
		{"2 of", rule("  a:\n    eventName: A\n  b:\n    eventName: B\n  condition: 2 of them\n"), "2 of"},
		{"unknown search", rule("  sel:\n    eventName: A\n  condition: other\n"), `no search named "other"`},
		{"two operators", rule("  sel:\n    eventName|contains|startswith: A\n  condition: sel\n"), "together"},
		{"fieldref and re", rule("  sel:\n    eventName|fieldref|re: userAgent\n  condition: sel\n"), "fieldref and re together"},
		{"another logsource", strings.Replace(rule("  sel:\n    eventName: A\n  condition: sel\n"), "service: cloudtrail", "service: guardduty", 1), "only product aws"},
	}
	for _, tt := range tests {
		_, err := sigma.Compile("bad.yml", []byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "bad.yml") {
			t.Errorf("%s: error = %v, want one naming %q and the rule", tt.name, err, tt.msg)
		}
		if tt.name != "unknown search" && !errors.Is(err, sigma.ErrUnsupported) {
			t.Errorf("%s: error %v does not wrap ErrUnsupported", tt.name, err)
		}
	}
}

func TestTypeOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"AWS CloudTrail Stopped":       "SIGMA_AWS_CLOUDTRAIL_STOPPED",
		"S3 bucket made public (ACL)!": "SIGMA_S3_BUCKET_MADE_PUBLIC_ACL",
		"  root   login ":              "SIGMA_ROOT_LOGIN",
	} {
		if got := sigma.TypeOf(in); got != want {
			t.Errorf("TypeOf(%q) = %s, want %s", in, got, want)
		}
	}
}

// A compiled rule written as a rule file reads back as the same rule.
func TestRuleFile_roundTrip(t *testing.T) {
	t.Parallel()
	r, err := sigma.Compile("trail.yml", []byte(rule("  selection:\n    eventSource: cloudtrail.amazonaws.com\n    eventName: [StopLogging, 'Delete*']\n  condition: selection\n")))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"rules/" + r.Type + ".sql": {Data: []byte(sigma.RuleFile(r))}}
	back, err := rules.LoadRules(fsys)
	if err != nil {
		t.Fatalf("%v\n%s", err, sigma.RuleFile(r))
	}
	b := back[0]
	if b.Type != r.Type || b.Title != r.Title || b.Severity != r.Severity || b.Priority != r.Priority || b.Help != r.Help || b.Set != rules.SetSigma ||
		!slices.Equal(b.Sources, r.Sources) || !slices.Equal(b.Events, r.Events) || !strings.Contains(b.SQL, "FROM raw_events") {
		t.Errorf("read back %+v\nwant %+v", b, r)
	}
}

func TestCompileDir(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"sigma/a.yml":      {Data: []byte(rule("  sel:\n    eventName: A\n  condition: sel\n"))},
		"sigma/sub/b.yaml": {Data: []byte(strings.Replace(rule("  sel:\n    eventName: B\n  condition: sel\n"), "AWS CloudTrail Stopped", "Other", 1))},
		"sigma/README.md":  {Data: []byte("not a rule")},
		"sigma/c.yml":      {Data: []byte(rule("  keywords:\n    - x\n  condition: keywords\n"))},
	}
	rs, refused, err := sigma.CompileDir(fsys, "sigma")
	if err != nil || len(rs) != 2 || rs[0].File != "sigma/a.yml" || rs[1].Type != "SIGMA_OTHER" {
		t.Fatalf("CompileDir = %+v, %v", rs, err)
	}
	if len(refused) != 1 || !strings.Contains(refused[0].Error(), "sigma/c.yml") || !strings.Contains(refused[0].Error(), "keywords") {
		t.Errorf("refused = %v, want c.yml's keywords", refused)
	}
	fsys["sigma/d.yml"] = &fstest.MapFile{Data: []byte("title: [unclosed")}
	if _, _, err := sigma.CompileDir(fsys, "sigma"); err == nil || !strings.Contains(err.Error(), "sigma/d.yml") {
		t.Errorf("a file that is not YAML: %v", err)
	}
}

// A rule that names no event source but requires userIdentity.type or
// errorCode values gets the only-filter of the engine's prefilter.
func TestCompile_onlyFilter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		detection, column string
		values            []string
	}{
		{"  sel:\n    userIdentity.type: Root\n  not_svc:\n    eventType: AwsServiceEvent\n  condition: sel and not not_svc\n", "user_identity_type", []string{"Root"}},
		{"  sel:\n    eventName|startswith: List\n    errorCode:\n      - AccessDenied\n      - UnauthorizedOperation\n  condition: sel\n", "error_code", []string{"AccessDenied", "UnauthorizedOperation"}},
		{"  sel:\n    userIdentity.type: 'Ro*'\n  condition: sel\n", "", nil},
		{"  a:\n    userIdentity.type: Root\n  b:\n    userAgent: x\n  condition: a or b\n", "", nil},
		{"  sel:\n    eventSource: iam.amazonaws.com\n    userIdentity.type: Root\n  condition: sel\n", "", nil}, // has sources
	} {
		r, err := sigma.Compile("x.yml", []byte(rule(tc.detection)))
		if err != nil {
			t.Fatal(err)
		}
		if r.OnlyColumn != tc.column || !slices.Equal(r.OnlyValues, tc.values) {
			t.Errorf("%q: only %q %v, want %q %v", tc.detection, r.OnlyColumn, r.OnlyValues, tc.column, tc.values)
		}
		if back, err := rules.LoadRules(fstest.MapFS{"rules/" + r.Type + ".sql": {Data: []byte(sigma.RuleFile(r))}}); err != nil ||
			back[0].OnlyColumn != r.OnlyColumn || !slices.Equal(back[0].OnlyValues, r.OnlyValues) {
			t.Errorf("%q: read back %v %+v", tc.detection, err, back)
		}
	}
}

// Combine takes the rules the compiler wrote, and leaves out any other.
func TestCombine(t *testing.T) {
	t.Parallel()
	a, err := sigma.Compile("a.yml", []byte(rule("  sel:\n    eventName: StopLogging\n  condition: sel\n")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := sigma.Compile("b.yml", []byte(strings.Replace(rule("  sel:\n    eventName: \"it's\"\n  condition: sel\n"), "title: ", "title: B ", 1)))
	if err != nil {
		t.Fatal(err)
	}
	edited := b
	edited.Type, edited.SQL = "EDITED", strings.Replace(b.SQL, "AS username", "AS username /* mine */", 1)
	other := rules.Rule{Type: "OTHER", SQL: "SELECT 1"}
	rs, q := sigma.Combine([]rules.Rule{other, a, edited, b})
	if len(rs) != 2 || rs[0].Type != a.Type || rs[1].Type != b.Type {
		t.Fatalf("combined %v", rs)
	}
	for _, s := range []string{"CASE WHEN lower(event_name) = lower('StopLogging') THEN 0 END", "lower('it''s') THEN 1 END", "AS fullstop_rule, *"} {
		if !strings.Contains(q, s) {
			t.Errorf("query lacks %s:\n%s", s, q)
		}
	}
	if rs, q := sigma.Combine([]rules.Rule{a, other}); rs != nil || q != "" {
		t.Errorf("one rule of ours: %v %q, want nothing combined", rs, q)
	}
}
