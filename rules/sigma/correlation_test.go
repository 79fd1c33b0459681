package sigma_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/sigma"
)

// base is a detection rule a correlation can count, by its name denied.
const base = `title: Denied call
name: denied
id: 00000000-0000-0000-0000-000000000001
level: low
logsource:
  product: aws
  service: cloudtrail
detection:
  sel:
    eventName|startswith: List
    errorCode: AccessDenied
  condition: sel
`

// correlation is a correlation document of base with body under
// "correlation:".
func correlation(body string) string {
	return `---
title: Denied calls in bulk
id: 00000000-0000-0000-0000-000000000002
description: Many denied calls.
correlation:
` + body + `level: high
`
}

const countBody = `  type: event_count
  rules:
    - denied
  group-by:
    - userIdentity.arn
    - sourceIPAddress
  timespan: 10m
  condition:
    gte: 5
`

func TestCompileFile_correlation(t *testing.T) {
	t.Parallel()
	rs, err := sigma.CompileFile("bulk.yml", []byte(base+correlation(countBody)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("CompileFile() = %d rules, want the correlation alone (generate is false)", len(rs))
	}
	r := rs[0]
	c := r.Correlation
	if r.Type != "SIGMA_DENIED_CALLS_IN_BULK" || r.Severity != 3 || r.Priority != 1 || r.Help != "Many denied calls." || r.Set != rules.SetSigma ||
		c == nil || c.Threshold != 5 || c.Window != 10*time.Minute || !slices.Equal(c.GroupBy, []string{"user_identity_arn", "source_ip_address"}) ||
		c.ID != "00000000-0000-0000-0000-000000000002" || c.Level != "high" {
		t.Fatalf("rule %+v, correlation %+v", r, c)
	}
	for _, s := range []string{"concat_ws(' | ', coalesce(user_identity_arn, ''), coalesce(source_ip_address, '')) AS instance_id",
		"'sigma_id', '00000000-0000-0000-0000-000000000001', 'level', 'low'", "event_name ILIKE 'List%'"} {
		if !strings.Contains(r.SQL, s) {
			t.Errorf("SQL lacks %s:\n%s", s, r.SQL)
		}
	}
	if r.Detector == nil || r.OnlyColumn != "error_code" {
		t.Errorf("detector %v, only %q: want the base rule's", r.Detector, r.OnlyColumn)
	}
	// The rule file reads back with its correlation.
	back, err := rules.LoadRules(fstest.MapFS{"rules/" + r.Type + ".sql": {Data: []byte(sigma.RuleFile(r))}})
	if err != nil {
		t.Fatalf("%v\n%s", err, sigma.RuleFile(r))
	}
	if back[0].Correlation == nil || back[0].Correlation.String() != c.String() {
		t.Errorf("read back correlation %v, want %v", back[0].Correlation, c)
	}
}

// The Go detector's group is the query's instance_id.
func TestCompileFile_correlationDetector(t *testing.T) {
	t.Parallel()
	rs, err := sigma.CompileFile("bulk.yml", []byte(base+correlation(countBody)))
	if err != nil {
		t.Fatal(err)
	}
	ev := mapEvent{"event_name": "ListUsers", "error_code": "AccessDenied", "user_identity_arn": "arn:x", "source_ip_address": "1.2.3.4",
		"event_id": "e", "recipient_account_id": "1", "request_parameters": `{"userName":"bob"}`}
	v, ok, err := rs[0].Detector.Detect(ev)
	if err != nil || !ok || v.InstanceID != "arn:x | 1.2.3.4" {
		t.Errorf("Detect() = %+v, %v, %v; want the group for instance id", v, ok, err)
	}
	delete(ev, "source_ip_address")
	if v, _, _ := rs[0].Detector.Detect(ev); v.InstanceID != "arn:x | " {
		t.Errorf("Detect() without an IP: instance %q, want %q", v.InstanceID, "arn:x | ")
	}
}

func TestCompileFile_generateAndForms(t *testing.T) {
	t.Parallel()
	gen := strings.Replace(countBody, "  timespan: 10m\n", "  timespan: 1h\n  generate: true\n", 1)
	rs, err := sigma.CompileFile("bulk.yml", []byte(base+correlation(gen)))
	if err != nil || len(rs) != 2 || rs[0].Correlation != nil || rs[0].Type != "SIGMA_DENIED_CALL" || rs[1].Correlation == nil ||
		rs[1].Correlation.Window != time.Hour {
		t.Fatalf("generate: true: %+v, %v; want the rule and its correlation", rs, err)
	}
	byID := strings.Replace(strings.Replace(countBody, "    - denied\n", "    - 00000000-0000-0000-0000-000000000001\n", 1),
		"    gte: 5\n", "    gt: 5\n", 1)
	rs, err = sigma.CompileFile("bulk.yml", []byte(base+correlation(byID)))
	if err != nil || len(rs) != 1 || rs[0].Correlation.Threshold != 6 {
		t.Fatalf("by id, gt 5: %+v, %v; want a threshold of 6", rs, err)
	}
	noGroup := strings.Replace(countBody, "  group-by:\n    - userIdentity.arn\n    - sourceIPAddress\n", "", 1)
	rs, err = sigma.CompileFile("bulk.yml", []byte(base+correlation(noGroup)))
	if err != nil || len(rs[0].Correlation.GroupBy) != 0 || !strings.Contains(rs[0].SQL, "'' AS instance_id") {
		t.Fatalf("no group-by: %+v, %v", rs, err)
	}
	// A single rule still compiles through CompileFile.
	rs, err = sigma.CompileFile("one.yml", []byte(base))
	if err != nil || len(rs) != 1 || rs[0].Correlation != nil {
		t.Fatalf("one rule: %+v, %v", rs, err)
	}
}

func TestCompileFile_correlationRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, msg string }{
		{"value_count", base + correlation(strings.Replace(countBody, "event_count", "value_count", 1)), `type "value_count"; only event_count`},
		{"temporal", base + correlation(strings.Replace(countBody, "event_count", "temporal", 1)), `type "temporal"`},
		{"lt", base + correlation(strings.Replace(countBody, "gte: 5", "lt: 5", 1)), "condition lt; only gte and gt"},
		{"two conditions", base + correlation(strings.Replace(countBody, "    gte: 5\n", "    gte: 5\n    lte: 9\n", 1)), "one of gte or gt"},
		{"two rules", base + correlation(strings.Replace(countBody, "    - denied\n", "    - denied\n    - other\n", 1)), "counts 2 rules"},
		{"rule elsewhere", base + correlation(strings.Replace(countBody, "    - denied\n", "    - elsewhere\n", 1)), `"elsewhere", which is not in this file`},
		{"unmapped group", base + correlation(strings.Replace(countBody, "    - sourceIPAddress\n", "    - requestParameters.userName\n", 1)), `group-by field "requestParameters.userName"`},
		{"timed group", base + correlation(strings.Replace(countBody, "    - sourceIPAddress\n", "    - eventTime\n", 1)), `group-by field "eventTime"`},
		{"month timespan", base + correlation(strings.Replace(countBody, "10m", "1M", 1)), `timespan "1M"`},
		{"aliases", base + correlation(countBody+"  aliases:\n    ip:\n      denied: sourceIPAddress\n"), "aliases"},
		{"correlation alone", strings.TrimPrefix(correlation(countBody), "---\n"), "not in this file"},
		{"a correlation of a correlation", base + correlation(countBody) +
			strings.Replace(correlation(strings.Replace(countBody, "    - denied\n", "    - 00000000-0000-0000-0000-000000000002\n", 1)),
				"00000000-0000-0000-0000-000000000002\ndescription", "00000000-0000-0000-0000-000000000003\ndescription", 1), "correlations of correlations"},
		{"unsupported base rule", strings.Replace(base, "  condition: sel\n", "  keywords:\n    - x\n  condition: keywords\n", 1) + correlation(countBody), "keywords"},
	}
	for _, tt := range tests {
		_, err := sigma.CompileFile("bad.yml", []byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "bad.yml") {
			t.Errorf("%s: error = %v, want one naming %q and the file", tt.name, err, tt.msg)
			continue
		}
		if !errors.Is(err, sigma.ErrUnsupported) {
			t.Errorf("%s: error %v does not wrap ErrUnsupported", tt.name, err)
		}
	}
	// Compile takes one document: a correlation needs its rule.
	if _, err := sigma.Compile("c.yml", []byte(strings.TrimPrefix(correlation(countBody), "---\n"))); err == nil || !strings.Contains(err.Error(), "same file") {
		t.Errorf("Compile(correlation) error = %v", err)
	}
}

// mapEvent is a rules.Event over string columns.
type mapEvent map[string]string

func (m mapEvent) Text(c string) (string, bool) { s, ok := m[c]; return s, ok }
func (m mapEvent) Time(string) (time.Time, bool) {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), true
}
func (m mapEvent) JSONText(c string, path []string) (string, bool, error) {
	s, ok := m[c]
	if !ok {
		return "", false, nil
	}
	if len(path) == 0 {
		return s, true, nil
	}
	if c == "request_parameters" && len(path) == 1 && path[0] == "userName" {
		return "bob", true, nil
	}
	return "", false, nil
}
