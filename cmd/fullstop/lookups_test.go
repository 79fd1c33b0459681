//go:build duckdb_arrow

package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/lookup/awstest"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

const (
	lookupAccount = "111122223333"
	taupageOwner  = "999988887777"
	taupageAMI    = "ami-0123456789abcdef0"
	goneAMI       = "ami-0fedcba9876543210"
)

// launchLog writes one CloudTrail object of three RunInstances into a
// folder source: an instance of a Taupage AMI with user data naming no
// source, one of a Taupage AMI without user data, and one of an AMI that
// is gone.
func launchLog(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "AWSLogs", lookupAccount, "CloudTrail", "eu-west-1", "2024", "03", "01")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var recs []string
	for i, in := range []struct{ id, ami string }{
		{"i-0aaaaaaaaaaaaaaa1", taupageAMI}, {"i-0aaaaaaaaaaaaaaa2", taupageAMI}, {"i-0aaaaaaaaaaaaaaa3", goneAMI},
	} {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventID":"launch-%d","eventTime":"2024-03-01T10:0%d:00Z",
"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"eu-west-1",
"userIdentity":{"type":"IAMUser","accountId":%q,"arn":"arn:aws:iam::%s:user/deployer"},
"responseElements":{"instancesSet":{"items":[{"instanceId":%q,"imageId":%q}]}}}`, i, i, lookupAccount, lookupAccount, in.id, in.ami))
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintf(zw, `{"Records":[%s]}`, strings.Join(recs, ","))
	zw.Close()
	name := lookupAccount + "_CloudTrail_eu-west-1_20240301T1005Z_launches.json.gz"
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// backfill --aws-lookups over the real AWS SDK against a local EC2 and
// STS: throttled lookups leave the object for the next batch, which then
// reports what the lookups say.
func TestBackfill_AWSLookups(t *testing.T) {
	t.Parallel()
	srv := awstest.New(t)
	srv.AddImage(lookupAccount, "eu-west-1", awstest.Image{ID: taupageAMI, Name: "Taupage-AMI-20240201", OwnerID: taupageOwner})
	srv.AddInstance(lookupAccount, "eu-west-1", awstest.Instance{ID: "i-0aaaaaaaaaaaaaaa1", ImageID: taupageAMI,
		UserData: []byte("#taupage-ami-config\napplication_id: kio\napplication_version: \"1.2\"\nruntime: Docker\n")})
	srv.AddInstance(lookupAccount, "eu-west-1", awstest.Instance{ID: "i-0aaaaaaaaaaaaaaa2", ImageID: taupageAMI})
	// Both AMIs' lookups are throttled on all three of the SDK's attempts.
	srv.Fail("DescribeImages", awstest.Failure{Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded.", Times: 6})

	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "AWS_ACCESS_KEY_ID=" + awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awstest.SecretAccessKey,
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_EC2=" + srv.URL(), "AWS_ENDPOINT_URL_STS=" + srv.URL()}
	args := []string{"--log-level", "error", "backfill", "--source", launchLog(t), "--from", "2024-03-01", "--to", "2024-03-02",
		"--aws-lookups", "--taupage-owners", taupageOwner}

	code, out, errOut := fullstop(t, env, args...)
	if code != exitFailed || !strings.Contains(out, "objects not read") || !strings.Contains(out, "RequestLimitExceeded") {
		t.Fatalf("backfill while EC2 throttles: exit %d\n%s\n%s\nwant 1 and the object not read with the reason", code, out, errOut)
	}
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.violation`); n != 0 {
		t.Fatalf("%d violations stored while the lookups failed, want none", n)
	}
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger`); n != 0 {
		t.Fatalf("%d ledger rows while the lookups failed, want none (the object waits for the next batch)", n)
	}

	code, out, errOut = fullstop(t, env, args...)
	if code != 0 {
		t.Fatalf("backfill after the throttling: exit %d\n%s\n%s", code, out, errOut)
	}
	got := query[string](t, db, `SELECT string_agg(violation_type_entity_id || ' ' || instance_id, ', ' ORDER BY violation_type_entity_id, instance_id) FROM fullstop_data.violation
		WHERE violation_type_entity_id IN ('WRONG_AMI', 'MISSING_USER_DATA', 'MISSING_SOURCE_IN_USER_DATA', 'MISSING_APPLICATION_ID_IN_USER_DATA')`)
	want := "MISSING_SOURCE_IN_USER_DATA i-0aaaaaaaaaaaaaaa1, MISSING_USER_DATA i-0aaaaaaaaaaaaaaa2, WRONG_AMI i-0aaaaaaaaaaaaaaa3"
	if got != want {
		t.Fatalf("violations after the throttling: %s, want %s", got, want)
	}
	if roles := srv.AssumedRoles(); len(roles) == 0 || roles[0] != "arn:aws:iam::"+lookupAccount+":role/fullstop" {
		t.Errorf("assumed roles %v, want the fullstop role of %s", roles, lookupAccount)
	}
	app := query[string](t, db, `SELECT coalesce(a.name, '') || ' ' || coalesce(v.name, '') FROM fullstop_data.violation x
		LEFT JOIN fullstop_data.application a ON a.id = x.application_id LEFT JOIN fullstop_data.app_version v ON v.id = x.application_version_id
		WHERE x.violation_type_entity_id = 'MISSING_SOURCE_IN_USER_DATA'`)
	if app != "kio 1.2" {
		t.Errorf("application and version of MISSING_SOURCE_IN_USER_DATA: %q, want \"kio 1.2\" from the user data", app)
	}
}
