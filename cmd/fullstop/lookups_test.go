//go:build duckdb_arrow

package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

const (
	lookupAccount = "111122223333"
	taupageOwner  = "999988887777"
	taupageAMI    = "ami-0123456789abcdef0"
	goneAMI       = "ami-0fedcba9876543210"
)

// launchLog writes one CloudTrail object of a RunInstances per instance
// (id, AMI) into a folder source; by default an instance of a Taupage AMI
// with user data naming no source, one of a Taupage AMI without user data,
// and one of an AMI that is gone.
func launchLog(t *testing.T, instances ...[2]string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "AWSLogs", lookupAccount, "CloudTrail", "eu-west-1", "2024", "03", "01")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var recs []string
	if len(instances) == 0 {
		instances = [][2]string{{"i-0aaaaaaaaaaaaaaa1", taupageAMI}, {"i-0aaaaaaaaaaaaaaa2", taupageAMI}, {"i-0aaaaaaaaaaaaaaa3", goneAMI}}
	}
	for i, in := range instances {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventID":"launch-%d","eventTime":"2024-03-01T10:0%d:00Z",
"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"eu-west-1",
"userIdentity":{"type":"IAMUser","accountId":%q,"arn":"arn:aws:iam::%s:user/deployer"},
"responseElements":{"instancesSet":{"items":[{"instanceId":%q,"imageId":%q}]}}}`, i, i, lookupAccount, lookupAccount, in[0], in[1]))
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
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.lifecycle`); n != 0 {
		t.Fatalf("%d lifecycle rows while the lookups failed, want none", n)
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
	// The one instance whose user data names its application and version
	// has a lifecycle row, stored once however often its object is read.
	const lifecycleRows = `SELECT string_agg(concat_ws(' ', l.event_id, l.event_type, l.instance_id, a.name, v.name, l.image_id, l.image_name,
		to_char(l.event_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')), ', ') FROM fullstop_data.lifecycle l
		JOIN fullstop_data.application a ON a.id = l.application JOIN fullstop_data.app_version v ON v.id = l.application_version`
	wantRow := "launch-0 RunInstances i-0aaaaaaaaaaaaaaa1 kio 1.2 " + taupageAMI + " Taupage-AMI-20240201 2024-03-01T10:00:00"
	if got := query[string](t, db, lifecycleRows); got != wantRow {
		t.Fatalf("lifecycle rows: %q, want %q", got, wantRow)
	}
	if !strings.Contains(out, "lifecycle   1 rows added") {
		t.Errorf("summary does not count the lifecycle row:\n%s", out)
	}
	if code, out, errOut := fullstop(t, env, append(args, "--reprocess")...); code != 0 {
		t.Fatalf("backfill --reprocess: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := query[string](t, db, lifecycleRows); got != wantRow {
		t.Errorf("lifecycle rows after --reprocess: %q, want only %q", got, wantRow)
	}
}

// backfill with Kio and Pier One: the user data of a Taupage instance
// names an application Kio does not know and an image Pier One does not
// have; another's image was built from a dirty working copy of a
// repository other than its application's. The service token goes along.
func TestBackfill_RegistryLookups(t *testing.T) {
	t.Parallel()
	var unauthorized atomic.Int64
	authorized := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			unauthorized.Add(1)
			http.Error(w, "no", http.StatusUnauthorized)
			return false
		}
		return true
	}
	kioSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r) {
			return
		}
		if r.URL.Path == "/apps/shop" {
			w.Write([]byte(`{"id":"shop","scm_url":"https://github.com/acme/shop"}`))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(kioSrv.Close)
	pierSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r) {
			return
		}
		switch r.URL.Path {
		case "/teams/acme/artifacts/shop/tags":
			w.Write([]byte(`[{"name":"2.0"}]`))
		case "/teams/acme/artifacts/shop/tags/2.0/scm-source":
			w.Write([]byte(`{"url":"https://github.com/acme/shop-fork","revision":"ab12","author":"x","status":"M pom.xml"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(pierSrv.Close)
	registry := strings.TrimPrefix(pierSrv.URL, "http://")

	srv := awstest.New(t)
	srv.AddImage(lookupAccount, "eu-west-1", awstest.Image{ID: taupageAMI, Name: "Taupage-AMI-20240201", OwnerID: taupageOwner})
	srv.AddInstance(lookupAccount, "eu-west-1", awstest.Instance{ID: "i-0bbbbbbbbbbbbbbb1", ImageID: taupageAMI,
		UserData: []byte("application_id: ghost\napplication_version: '1'\nruntime: Docker\nsource: " + registry + "/acme/ghost:1\n")})
	srv.AddInstance(lookupAccount, "eu-west-1", awstest.Instance{ID: "i-0bbbbbbbbbbbbbbb2", ImageID: taupageAMI,
		UserData: []byte("application_id: shop\napplication_version: '2.0'\nruntime: Docker\nsource: " + registry + "/acme/shop:2.0\n")})

	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "AWS_ACCESS_KEY_ID=" + awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awstest.SecretAccessKey,
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_EC2=" + srv.URL(), "AWS_ENDPOINT_URL_STS=" + srv.URL(),
		"FULLSTOP_KIO_URL=" + kioSrv.URL, "FULLSTOP_PIERONE_URLS=" + pierSrv.URL, "FULLSTOP_SCM_HOSTS=github.com=acme", "FULLSTOP_SERVICE_TOKEN=s3cret"}
	root := launchLog(t, [2]string{"i-0bbbbbbbbbbbbbbb1", taupageAMI}, [2]string{"i-0bbbbbbbbbbbbbbb2", taupageAMI})
	code, out, errOut := fullstop(t, env, "--log-level", "error", "backfill", "--source", root, "--from", "2024-03-01", "--to", "2024-03-02",
		"--aws-lookups", "--taupage-owners", taupageOwner)
	if code != 0 {
		t.Fatalf("backfill: exit %d\n%s\n%s", code, out, errOut)
	}
	got := query[string](t, db, `SELECT string_agg(violation_type_entity_id || ' ' || instance_id, ', ' ORDER BY violation_type_entity_id, instance_id)
		FROM fullstop_data.violation WHERE violation_type_entity_id NOT IN ('WRONG_REGION')`)
	want := "APPLICATION_NOT_PRESENT_IN_KIO i-0bbbbbbbbbbbbbbb1, ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY i-0bbbbbbbbbbbbbbb2, " +
		"IMAGE_IN_PIERONE_NOT_FOUND i-0bbbbbbbbbbbbbbb1, SCM_URL_NOT_MATCH_WITH_KIO i-0bbbbbbbbbbbbbbb2"
	if got != want {
		t.Fatalf("violations: %s\nwant %s", got, want)
	}
	if n := unauthorized.Load(); n != 0 {
		t.Errorf("%d requests to Kio or Pier One without the service token", n)
	}
	meta := query[string](t, db, `SELECT meta_info FROM fullstop_data.violation WHERE violation_type_entity_id = 'SCM_URL_NOT_MATCH_WITH_KIO'`)
	if !strings.Contains(meta, `"normalized_kio_scm_url":"https://github.com/acme/shop"`) || !strings.Contains(meta, `"normalized_scm_source_url":"https://github.com/acme/shop-fork"`) {
		t.Errorf("SCM_URL_NOT_MATCH_WITH_KIO meta %s", meta)
	}
}

// backfill with --role-templates-bucket: a PowerUser attaching a policy to
// a protected role is MODIFIED_ROLE_OR_SERVICE; an admin role doing the
// same is not. The templates are in a real MinIO, IAM answers from
// lookup/awstest.
func TestBackfill_ProtectedRoles(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	minio := s3test.Start(t)
	client := awss3.New(awss3.Options{Region: minio.Region, BaseEndpoint: aws.String(minio.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(minio.AccessKey, minio.SecretKey, "")})
	bucket := fmt.Sprintf("roles-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	tmpl := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	if _, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &bucket, Key: aws.String("templates/app-role.json"), Body: strings.NewReader(tmpl)}); err != nil {
		t.Fatal(err)
	}
	srv := awstest.New(t)
	srv.AddRole(lookupAccount, awstest.Role{Name: "app-role", AttachedPolicies: []awstest.AttachedPolicy{{Name: "AdministratorAccess"}},
		InlinePolicies: map[string]string{"app-role": tmpl}})

	root := t.TempDir()
	dir := filepath.Join(root, "AWSLogs", lookupAccount, "CloudTrail", "us-east-1", "2024", "03", "01")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var recs []string
	for i, issuer := range []string{"team-PowerUser", "Shibboleth-Administrator"} {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventID":"attach-%d","eventTime":"2024-03-01T10:0%d:00Z",
"eventSource":"iam.amazonaws.com","eventName":"AttachRolePolicy","awsRegion":"us-east-1","recipientAccountId":%q,
"userIdentity":{"type":"AssumedRole","accountId":%q,"arn":"arn:aws:sts::%s:assumed-role/%s/someone",
 "sessionContext":{"sessionIssuer":{"type":"Role","accountId":%q,"userName":%q}}},
"requestParameters":{"roleName":"app-role","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}}`,
			i, i, lookupAccount, lookupAccount, lookupAccount, issuer, lookupAccount, issuer))
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintf(zw, `{"Records":[%s]}`, strings.Join(recs, ","))
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, lookupAccount+"_CloudTrail_us-east-1_20240301T1005Z_iam.json.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "AWS_ACCESS_KEY_ID=" + minio.AccessKey, "AWS_SECRET_ACCESS_KEY=" + minio.SecretKey,
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_IAM=" + srv.URL(), "AWS_ENDPOINT_URL_STS=" + srv.URL(), "AWS_ENDPOINT_URL_EC2=" + srv.URL()}
	code, out, errOut := fullstop(t, env, "--log-level", "error", "backfill", "--source", root, "--from", "2024-03-01", "--to", "2024-03-02",
		"--aws-lookups", "--role-templates-bucket", bucket, "--role-templates-prefix", "templates/", "--s3-endpoint", minio.Endpoint,
		"--rules", "reference") // SIGMA_ADMINISTRATOR_POLICY_ATTACHED fires on both calls
	if code != 0 {
		t.Fatalf("backfill: exit %d\n%s\n%s", code, out, errOut)
	}
	got := query[string](t, db, `SELECT coalesce(string_agg(event_id || ' ' || violation_type_entity_id, ', ' ORDER BY event_id), '') FROM fullstop_data.violation`)
	if got != "attach-0 MODIFIED_ROLE_OR_SERVICE" {
		t.Fatalf("violations: %q, want the PowerUser's AttachRolePolicy only", got)
	}
	meta := query[string](t, db, `SELECT meta_info FROM fullstop_data.violation`)
	if !strings.Contains(meta, `"attached_policy_names":["AdministratorAccess"]`) || !strings.Contains(meta, "You MUST not attach additional policies to this role!") {
		t.Errorf("meta %s", meta)
	}
}

// DATABASE_PASSWORD=aws:kms:<ciphertext> is decrypted with KMS at start;
// a ciphertext KMS refuses stops the command with a configuration error.
func TestDatabasePassword_KMS(t *testing.T) {
	t.Parallel()
	srv := awstest.New(t)
	srv.AddKMSPlaintext([]byte("ciphertext-1"), []byte("s3cret"))
	env := []string{"AWS_ACCESS_KEY_ID=" + awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awstest.SecretAccessKey,
		"AWS_REGION=eu-central-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_KMS=" + srv.URL()}
	enc := "aws:kms:" + base64.StdEncoding.EncodeToString([]byte("ciphertext-1"))

	db := pgtest.New(t)
	code, out, errOut := fullstop(t, append(env, "DATABASE_URL="+db, "DATABASE_PASSWORD="+enc), "migrate")
	if code != 0 || srv.Calls("Decrypt") != 1 {
		t.Fatalf("migrate with a KMS password: exit %d, %d Decrypt calls\n%s\n%s", code, srv.Calls("Decrypt"), out, errOut)
	}
	pw, err := databasePassword(t.Context(), "plain")
	if err != nil || pw != "plain" {
		t.Errorf("a plain password: %q, %v", pw, err)
	}

	bad := "aws:kms:" + base64.StdEncoding.EncodeToString([]byte("not-a-ciphertext"))
	code, _, errOut = fullstop(t, append(env, "DATABASE_URL="+db, "DATABASE_PASSWORD="+bad), "migrate")
	if code != exitUsage || !strings.Contains(errOut, "decrypt it with KMS") || !strings.Contains(errOut, "InvalidCiphertextException") {
		t.Fatalf("migrate with a ciphertext KMS refuses: exit %d\n%s", code, errOut)
	}
	code, _, errOut = fullstop(t, append(env, "DATABASE_URL="+db, "DATABASE_PASSWORD=aws:kms:%%%"), "migrate")
	if code != exitUsage || !strings.Contains(errOut, "not base64") {
		t.Fatalf("migrate with a non-base64 ciphertext: exit %d\n%s", code, errOut)
	}
}
