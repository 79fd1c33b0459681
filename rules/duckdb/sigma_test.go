//go:build duckdb_arrow

package duckdb

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/sigma"
)

func compileSigma(t *testing.T, src string) rules.Rule {
	t.Helper()
	r, err := sigma.Compile("test.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Compiled Sigma rules run with the reference's, over the Stratus Red Team
// logs: the trail stopped fires on its technique and stays quiet on
// another; the cidr modifier reads the source address.
func TestEngine_SigmaRules(t *testing.T) {
	t.Parallel()
	head := "logsource:\n  product: aws\n  service: cloudtrail\nlevel: high\n"
	stop := compileSigma(t, "title: CloudTrail logging stopped\nid: a\n"+head+
		"detection:\n  selection:\n    eventSource: cloudtrail.amazonaws.com\n    eventName: stoplogging\n  condition: selection\n")
	inRange := compileSigma(t, "title: Stopped from 86.245 slash 16\nid: b\n"+head+
		"detection:\n  selection:\n    sourceIPAddress|cidr: 86.245.0.0/16\n    eventName: StopLogging\n  condition: selection\n")
	private := compileSigma(t, "title: Stopped from a private address\nid: c\n"+head+
		"detection:\n  selection:\n    sourceIPAddress|cidr: 10.0.0.0/8\n    eventName: StopLogging\n  condition: selection\n")
	e := newEngine(t, Config{MoreRules: []rules.Rule{stop, inRange, private}})
	count := func(file string) map[string]int {
		raw, err := os.ReadFile(filepath.Join(cloudtrail, "stratus", file))
		if err != nil {
			t.Fatal(err)
		}
		doc := append(append([]byte(`{"Records":`), raw...), '}') // the stratus files are record arrays
		vs, err := violations(e.Evaluate(context.Background(), decode(t, bytes.NewReader(doc), event.Origin{Key: file})))
		if err != nil {
			t.Fatal(err)
		}
		return countByType(vs)
	}
	got := count("aws.defense-evasion.cloudtrail-stop.json")
	if got["SIGMA_CLOUDTRAIL_LOGGING_STOPPED"] == 0 || got["SIGMA_STOPPED_FROM_86_245_SLASH_16"] == 0 || got["SIGMA_STOPPED_FROM_A_PRIVATE_ADDRESS"] != 0 {
		t.Errorf("cloudtrail-stop: %v, want the first two Sigma rules (eventName compared without case; the caller is 86.245.153.234)", got)
	}
	if got := count("aws.defense-evasion.cloudtrail-delete.json"); got["SIGMA_CLOUDTRAIL_LOGGING_STOPPED"] != 0 {
		t.Errorf("cloudtrail-delete: %v, want no StopLogging", got)
	}
	if _, err := New(context.Background(), Config{Schema: e.input, MoreRules: []rules.Rule{stop, stop}}); err == nil || !strings.Contains(err.Error(), "also the type") {
		t.Errorf("two rules of one type: %v", err)
	}
}
