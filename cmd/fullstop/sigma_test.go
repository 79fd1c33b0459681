//go:build duckdb_arrow

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/store/pgtest"
)

const trailDeleted = `title: CloudTrail trail deleted
id: 6a7b8c9d-0000-4000-8000-000000000001
description: A CloudTrail trail was deleted, which stops the audit trail.
level: high
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: cloudtrail.amazonaws.com
    eventName: DeleteTrail
  condition: selection
`

// fullstop sigma compile writes rule files; backfill --sigma runs the
// rules of a folder with the reference's over the invictus logs.
func TestSigma_CompileAndBackfill(t *testing.T) {
	t.Parallel()
	dir, out := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trail.yml"), []byte(trailDeleted), 0o644); err != nil {
		t.Fatal(err)
	}
	// As the issue writes it: the rules, then --out.
	code, stdout, stderr := fullstop(t, nil, "sigma", "compile", dir, "--out", out)
	if code != 0 || !strings.Contains(stdout, "SIGMA_CLOUDTRAIL_TRAIL_DELETED.sql") {
		t.Fatalf("sigma compile: exit %d\n%s\n%s", code, stdout, stderr)
	}
	file, err := os.ReadFile(filepath.Join(out, "SIGMA_CLOUDTRAIL_TRAIL_DELETED.sql"))
	if err != nil || !strings.Contains(string(file), "-- events: DeleteTrail") {
		t.Fatalf("rule file: %v\n%s", err, file)
	}
	db := pgtest.New(t)
	code, stdout, stderr = fullstop(t, []string{"DATABASE_URL=" + db}, "--log-level", "warn", "backfill", "--source", invictusRoot,
		"--from", "2023-07-10", "--to", "2023-07-11", "--progress=false", "--sigma", dir)
	if code != 0 {
		t.Fatalf("backfill --sigma: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.violation WHERE violation_type_entity_id = 'SIGMA_CLOUDTRAIL_TRAIL_DELETED'`); n != 3 {
		// A Sigma rule reads failed calls too (it would say errorCode|exists:
		// false otherwise): the third DeleteTrail was refused.
		t.Errorf("%d SIGMA_CLOUDTRAIL_TRAIL_DELETED violations, want the 3 DeleteTrail calls, 2 successful, 1 refused", n)
	}
	trails := query[string](t, db, `SELECT string_agg(instance_id, ',' ORDER BY instance_id) FROM fullstop_data.violation WHERE violation_type_entity_id = 'SIGMA_CLOUDTRAIL_TRAIL_DELETED'`)
	if trails != "stratus-red-team-cloudtraild-trail-aueolsaccp,stratus-red-team-ctes-trail-qyxyekjbtk,stratus-red-team-ctlr-trail-zqfsvooxqj" {
		t.Errorf("instance ids %q, want the deleted trails (requestParameters.name)", trails)
	}
	if strings.Contains(stderr, "unknown violation type") {
		t.Errorf("a rule's type was created as unknown:\n%s", stderr)
	}
	vt := query[string](t, db, `SELECT title || '|' || violation_severity || '|' || priority || '|' || help_text FROM fullstop_data.violation_type WHERE id = 'SIGMA_CLOUDTRAIL_TRAIL_DELETED'`)
	if !strings.HasPrefix(vt, "CloudTrail trail deleted|3|1|A CloudTrail trail was deleted") {
		t.Errorf("violation type %q, want the rule's title, severity 3 and priority 1 of level high, and help", vt)
	}
	ours := query[string](t, db, `SELECT title FROM fullstop_data.violation_type WHERE id = 'SIGMA_ROOT_USER_USED'`)
	if ours != "Root user used" {
		t.Errorf("our Sigma rule's type: title %q", ours)
	}
	meta := query[string](t, db, `SELECT meta_info FROM fullstop_data.violation WHERE violation_type_entity_id = 'SIGMA_CLOUDTRAIL_TRAIL_DELETED' LIMIT 1`)
	for _, s := range []string{`"sigma_id":"6a7b8c9d-0000-4000-8000-000000000001"`, `"level":"high"`, `"event_name":"DeleteTrail"`, `"request_parameters":{`} {
		if !strings.Contains(meta, s) {
			t.Errorf("meta lacks %s: %s", s, meta)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte(strings.Replace(trailDeleted, "  condition: selection", "  condition: selection | count() > 3", 1)), 0o644)
	if code, _, stderr := fullstop(t, []string{"DATABASE_URL=" + db}, "backfill", "--source", invictusRoot, "--from", "2023-07-10", "--to", "2023-07-11",
		"--sigma", bad); code != exitUsage || !strings.Contains(stderr, "aggregations") {
		t.Errorf("an unsupported Sigma rule: exit %d\n%s", code, stderr)
	}
	// In a folder (someone else's rules), an unsupported rule is left out
	// with a warning and the others run.
	os.Rename(bad, filepath.Join(dir, "bad.yml"))
	code, _, stderr = fullstop(t, []string{"DATABASE_URL=" + pgtest.New(t)}, "--log-level", "warn", "backfill", "--source", invictusRoot,
		"--from", "2023-07-10", "--to", "2023-07-11", "--progress=false", "--sigma", dir)
	if code != 0 || !strings.Contains(stderr, "Sigma rule left out") || !strings.Contains(stderr, "bad.yml") {
		t.Errorf("a folder with an unsupported rule: exit %d\n%s", code, stderr)
	}
}

// rules list --sigma lists the compiled rules with the others.
func TestSigma_RulesList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trail.yml"), []byte(trailDeleted), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := fullstop(t, nil, "rules", "list", "--sigma", dir)
	if code != 0 || !strings.Contains(out, "SIGMA_CLOUDTRAIL_TRAIL_DELETED") || !strings.Contains(out, "WRONG_REGION") {
		t.Errorf("rules list --sigma: exit %d\n%s\n%s", code, out, errOut)
	}
}

// --rules chooses what runs: rules list says which are on, a name that
// matches no rule is a usage error, and a batch runs only the chosen.
func TestRulesSelection(t *testing.T) {
	t.Parallel()
	on := func(args ...string) map[string]bool {
		t.Helper()
		code, out, errOut := fullstop(t, nil, append([]string{"rules", "list", "-o", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("rules list %v: exit %d %s", args, code, errOut)
		}
		var rows []struct {
			Type string `json:"type"`
			On   bool   `json:"on"`
			Set  string `json:"set"`
		}
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, r := range rows {
			m[r.Type] = r.On
			if (r.Set == "sigma") != strings.HasPrefix(r.Type, "SIGMA_") {
				t.Errorf("%s in set %q", r.Type, r.Set)
			}
		}
		return m
	}
	def := on()
	if !def["WRONG_REGION"] || !def["SIGMA_ROOT_USER_USED"] || !def["SIGMA_CONSOLE_LOGIN_WITHOUT_MFA"] || def["SIGMA_IAM_USER_CREATED"] || !def["SIGMA_DISCOVERY_CALLS_DENIED_IN_BULK"] {
		t.Errorf("default: %v, want the reference's rules and Sigma medium and above, not the low ones", def)
	}
	high := on("--rules", "sigma:high")
	if high["WRONG_REGION"] || !high["SIGMA_ROOT_USER_USED"] || high["SIGMA_CONSOLE_LOGIN_WITHOUT_MFA"] {
		t.Errorf("sigma:high: %v", high)
	}
	if m := on("--rules", "-SIGMA_ROOT_USER_USED,SIGMA_IAM_*"); m["SIGMA_ROOT_USER_USED"] || !m["SIGMA_IAM_USER_CREATED"] || !m["WRONG_REGION"] {
		t.Errorf("-SIGMA_ROOT_USER_USED,SIGMA_IAM_*: %v, want the default without root, with the IAM rules", m)
	}
	if code, _, errOut := fullstop(t, nil, "rules", "list", "--rules", "SIGMA_NO_SUCH_RULE"); code != 2 || !strings.Contains(errOut, "names no rule") {
		t.Errorf("a name that matches no rule: exit %d %s, want 2", code, errOut)
	}
	db := pgtest.New(t)
	code, out, errOut := fullstop(t, []string{"DATABASE_URL=" + db, "FULLSTOP_RULES=sigma:high"}, "--log-level", "warn", "backfill", "--source", invictusRoot,
		"--from", "2023-07-10", "--to", "2023-07-11", "--progress=false")
	if code != 0 {
		t.Fatalf("backfill FULLSTOP_RULES=sigma:high: exit %d\n%s\n%s", code, out, errOut)
	}
	types := query[string](t, db, `SELECT string_agg(DISTINCT violation_type_entity_id, ',' ORDER BY violation_type_entity_id) FROM fullstop_data.violation`)
	for _, typ := range strings.Split(types, ",") {
		if !high[typ] {
			t.Errorf("backfill with sigma:high stored %s, which is off", typ)
		}
	}
	if !strings.Contains(types, "SIGMA_CLOUDTRAIL_LOGGING_STOPPED_DELETED_OR_NARROWED") {
		t.Errorf("types %s, want the trail tampering of invictus", types)
	}
	if code, _, errOut := fullstop(t, []string{"DATABASE_URL=" + db}, "backfill", "--source", invictusRoot, "--from", "2023-07-10", "--rules", "sigma:loud"); code != 2 {
		t.Errorf("--rules sigma:loud: exit %d %s, want 2", code, errOut)
	}
}
