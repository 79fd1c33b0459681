//go:build duckdb_arrow

package duckdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/sigma"
)

// goldenDetections is the detections of every rule over the real logs,
// checked by hand: per Stratus Red Team technique the violation types it
// triggers, then the invictus logs' (an attack simulation of its own).
const goldenDetections = "../../testdata/rules/detections.golden"

// Stratus techniques for which no rule of ours fires, and why. Every
// other technique must trigger at least one Sigma detection.
var undetected = map[string]string{
	"aws.credential-access.secretsmanager-retrieve-secrets": "GetSecretValue of one secret after the other: telling many reads from few needs an aggregation (count), which the compiler refuses",
	"aws.execution.ec2-launch-unusual-instances":            "a refused RunInstances of a large instance type; what is unusual depends on the account",
	"aws.impact.bedrock-invoke-model":                       "model invocations are ordinary use of Bedrock",
	"aws.persistence.lambda-overwrite-code":                 "UpdateFunctionCode is every deployment",
}

// All rules, over each Stratus technique's log and over the invictus logs,
// give the detections of the golden file; run with -update to rewrite it
// and read the diff.
func TestEngine_DetectionsGolden(t *testing.T) {
	t.Parallel()
	sel, err := rules.ParseSelection("*")
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, Config{MoreRules: ownSigma(t), Selection: &sel, Combine: sigma.Combine})
	var b strings.Builder
	b.WriteString("# Detections of every rule (--rules '*', no lookups) over the real logs of testdata/cloudtrail.\n" +
		"# Rewritten by go test -tags duckdb_arrow ./rules/duckdb -run DetectionsGolden -update; checked by hand.\n")
	count := func(batches []arrow.RecordBatch) []string {
		vs, err := violations(e.Evaluate(context.Background(), batches))
		if err != nil {
			t.Fatal(err)
		}
		n := countByType(rules.Correlate(vs))
		var lines []string
		for typ, c := range n {
			lines = append(lines, fmt.Sprintf("  %s %d", typ, c))
		}
		slices.Sort(lines)
		return lines
	}
	for _, f := range stratusFiles(t) {
		technique := strings.TrimSuffix(filepath.Base(f), ".json")
		lines := count(decodeStratus(t, f))
		fmt.Fprintf(&b, "\nstratus %s\n", technique)
		if len(lines) == 0 {
			b.WriteString("  (none)\n")
		}
		b.WriteString(strings.Join(lines, "\n"))
		if len(lines) > 0 {
			b.WriteString("\n")
		}
		sigmaFired := slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  SIGMA_") })
		why, known := undetected[technique]
		switch {
		case !sigmaFired && !known:
			t.Errorf("stratus %s: no Sigma detection fires", technique)
		case sigmaFired && known:
			t.Errorf("stratus %s: detected now, drop it from undetected (%s)", technique, why)
		}
	}
	inv, _ := filepath.Glob(filepath.Join(cloudtrail, "invictus", "AWSLogs", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz"))
	if len(inv) == 0 {
		t.Fatal("no invictus files")
	}
	var batches []arrow.RecordBatch
	for _, f := range inv {
		key, _ := filepath.Rel(filepath.Join(cloudtrail, "invictus"), f)
		batches = append(batches, decodeFile(t, f, key)...)
	}
	fmt.Fprintf(&b, "\ninvictus (%d files)\n%s\n", len(inv), strings.Join(count(batches), "\n"))

	got := b.String()
	if *update {
		if err := os.WriteFile(goldenDetections, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenDetections)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("detections differ from %s (run with -update and read the diff):\n%s", goldenDetections, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for _, l := range w {
		if !slices.Contains(g, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// Running our Sigma rules combined into one query (sigma.Combine) finds
// exactly what running them one query each finds, over every real log,
// failed calls included.
func TestEngine_CombinedSigmaRulesChangeNothing(t *testing.T) {
	t.Parallel()
	batches := realLogs(t)
	sel, err := rules.ParseSelection("*")
	if err != nil {
		t.Fatal(err)
	}
	one := newEngine(t, Config{MoreRules: ownSigma(t), Selection: &sel, QueriesOnly: true})
	combined := newEngine(t, Config{MoreRules: ownSigma(t), Selection: &sel, Combine: sigma.Combine, QueriesOnly: true})
	// A correlation's query (its group for instance_id) runs alone.
	plain := slices.DeleteFunc(ownSigma(t), func(r rules.Rule) bool { return r.Correlation != nil })
	if len(combined.full.combined) != len(plain) || len(plain) == len(ownSigma(t)) || len(one.full.combined) != 0 {
		t.Fatalf("%d rules combined, want all %d of ours but the correlations (of %d)", len(combined.full.combined), len(plain), len(ownSigma(t)))
	}
	want, err := violations(one.Evaluate(context.Background(), batches))
	if err != nil {
		t.Fatal(err)
	}
	got, err := violations(combined.Evaluate(context.Background(), batches))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("combined: %d violations, one query a rule: %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("violation %d: combined\n%+v\none query a rule\n%+v", i, got[i], want[i])
		}
	}
}
