//go:build duckdb_arrow

package main

import (
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
	code, stdout, stderr := fullstop(t, nil, "sigma", "compile", "--out", out, dir)
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
