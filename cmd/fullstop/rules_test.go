//go:build duckdb_arrow

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesList(t *testing.T) {
	t.Parallel()
	code, out, errOut := fullstop(t, nil, "rules", "list", "-o", "json")
	if code != 0 {
		t.Fatalf("rules list: exit %d\n%s", code, errOut)
	}
	var rows []ruleRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	byType := map[string]ruleRow{}
	for _, r := range rows {
		byType[r.Type] = r
	}
	ami := byType["WRONG_AMI"]
	if ami.Title != "EC2 instance using illegal AMI" || ami.Severity != 3 || ami.Priority != 1 || ami.File != "sql/rules/WRONG_AMI.sql" ||
		strings.Join(ami.Events, ",") != "RunInstances" || strings.Join(ami.Lookups, ",") != "images,instances?" {
		t.Errorf("WRONG_AMI = %+v", ami)
	}
	if len(rows) < 17 {
		t.Errorf("%d rules listed, want every rule file", len(rows))
	}
	code, out, _ = fullstop(t, nil, "rules", "list")
	if code != 0 || !strings.HasPrefix(out, "TYPE ") || !strings.Contains(out, "MODIFIED_ROLE_OR_SERVICE") {
		t.Errorf("rules list as a table: exit %d\n%s", code, out)
	}
}

// rules test runs the cases: each PASS or FAIL with a diff, exit 1 when
// one fails, 2 for a type without cases.
func TestRulesTest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []string{"WRONG_AMI/unknown-ami-fires", "WRONG_AMI/taupage-quiet", "EC2_WITH_KEYPAIR/keyname-fires"} {
		for _, f := range []string{"events.json", "config.json", "lookups.json", "expected.json"} {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rules", c, f))
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, c), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, c, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	code, out, errOut := fullstop(t, nil, "rules", "test", "--dir", dir)
	if code != 0 || !strings.Contains(out, "PASS WRONG_AMI/unknown-ami-fires") || !strings.Contains(out, "3 cases, 3 passed, 0 failed") {
		t.Fatalf("rules test: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = fullstop(t, nil, "rules", "test", "--dir", dir, "EC2_WITH_KEYPAIR")
	if code != 0 || strings.Contains(out, "WRONG_AMI") || !strings.Contains(out, "1 cases, 1 passed") {
		t.Fatalf("rules test EC2_WITH_KEYPAIR: exit %d\n%s", code, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "WRONG_AMI/unknown-ami-fires/expected.json"), []byte("[]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = fullstop(t, nil, "rules", "test", "--dir", dir, "WRONG_AMI")
	if code != exitFailed || !strings.Contains(out, "FAIL WRONG_AMI/unknown-ami-fires: the violations differ from expected.json") ||
		!strings.Contains(out, `"instance_id": string("i-abf9ac4f")`) || !strings.Contains(out, "2 cases, 1 passed, 1 failed") {
		t.Fatalf("rules test with a wrong expected.json: exit %d\n%s", code, out)
	}
	if code, _, errOut = fullstop(t, nil, "rules", "test", "--dir", dir, "NOPE"); code != exitUsage || !strings.Contains(errOut, "no fixture cases for NOPE") {
		t.Fatalf("rules test NOPE: exit %d\n%s", code, errOut)
	}
}
