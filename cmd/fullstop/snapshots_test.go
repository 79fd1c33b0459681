//go:build duckdb_arrow

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

// bucketKeys lists the keys of bucket below prefix, sorted.
func bucketKeys(t *testing.T, srv *s3test.Server, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := awss3.NewListObjectsV2Paginator(srv.Client(), &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys
}

// backfill --aws-lookups --instance-logs-bucket: a launch's security groups
// are written into the folder its instance's boot made in the
// instance-data bucket (a real MinIO), under the same name however often
// the object is processed; while the bucket cannot be listed the object is
// left for the next batch.
func TestBackfill_SecurityGroupSnapshots(t *testing.T) {
	t.Parallel()
	const instance, other = "i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa12"
	srv := awstest.New(t)
	srv.AddImage(lookupAccount, "eu-west-1", awstest.Image{ID: taupageAMI, Name: "Taupage-AMI-20240201", OwnerID: taupageOwner})
	srv.AddInstance(lookupAccount, "eu-west-1", awstest.Instance{ID: instance, ImageID: taupageAMI,
		UserData: []byte("application_id: kio\napplication_version: \"1.2\"\nsource: pierone.example.org/team/kio:1.2\n")})
	srv.AddSecurityGroup(lookupAccount, "eu-west-1", awstest.SecurityGroup{ID: "sg-0a1", Name: "kio", Description: "kio app",
		Ingress: []awstest.Permission{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"0.0.0.0/0"}}}})

	minio := s3test.Start(t)
	bucket := minio.NewBucket(t)
	day := "data/" + lookupAccount + "/eu-west-1/2024/03/01/"
	// The boot folder of the instance, and one of an instance whose id
	// starts with the same characters, booted nearer the launch.
	minio.Put(t, bucket, day+instance+"-2024-03-01T10:02:00.000Z/taupage.yaml", []byte("application_id: kio\n"))
	minio.Put(t, bucket, day+other+"-2024-03-01T10:01:00.000Z/taupage.yaml", []byte("application_id: x\n"))

	root := t.TempDir()
	dir := filepath.Join(root, "AWSLogs", lookupAccount, "CloudTrail", "eu-west-1", "2024", "03", "01")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintf(zw, `{"Records":[{"eventVersion":"1.08","eventID":"launch-0","eventTime":"2024-03-01T10:00:00Z",
"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"eu-west-1","recipientAccountId":%q,
"userIdentity":{"type":"IAMUser","accountId":%q,"arn":"arn:aws:iam::%s:user/deployer"},
"responseElements":{"groupSet":{"items":[{"groupId":"sg-0a1"}]},"instancesSet":{"items":[{"instanceId":%q,"imageId":%q,
 "launchTime":1709287260000,"groupSet":{"items":[{"groupId":"sg-0a1"}]}}]}}}]}`, lookupAccount, lookupAccount, lookupAccount, instance, taupageAMI)
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, lookupAccount+"_CloudTrail_eu-west-1_20240301T1005Z_launch.json.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "AWS_ACCESS_KEY_ID=" + minio.AccessKey, "AWS_SECRET_ACCESS_KEY=" + minio.SecretKey,
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_EC2=" + srv.URL(), "AWS_ENDPOINT_URL_STS=" + srv.URL()}
	args := func(bucket string, more ...string) []string {
		return append([]string{"--log-level", "error", "backfill", "--source", root, "--from", "2024-03-01", "--to", "2024-03-02",
			"--aws-lookups", "--taupage-owners", taupageOwner, "--s3-endpoint", minio.Endpoint,
			"--instance-logs-bucket", "s3://" + bucket + "/data"}, more...)
	}

	// A bucket that does not exist: the object waits, nothing is stored.
	code, out, errOut := fullstop(t, env, args("fullstop-no-such-bucket")...)
	if code != exitFailed || !strings.Contains(out, "security-group snapshots") {
		t.Fatalf("backfill with a missing instance-data bucket: exit %d\n%s\n%s\nwant 1 and the object not read", code, out, errOut)
	}
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger`); n != 0 {
		t.Fatalf("%d ledger rows while the snapshots could not be written, want none", n)
	}

	want := day + instance + "-2024-03-01T10:02:00.000Z/" + instance + "security-groups-2024-03-01T10:00:00.000Z.json"
	for _, more := range [][]string{nil, {"--reprocess"}} {
		code, out, errOut = fullstop(t, env, args(bucket, more...)...)
		if code != 0 {
			t.Fatalf("backfill %v: exit %d\n%s\n%s", more, code, out, errOut)
		}
		if !strings.Contains(out, "snapshots   1 security-group snapshots written") {
			t.Errorf("summary does not count the snapshot:\n%s", out)
		}
		keys := bucketKeys(t, minio, bucket, "data/")
		if len(keys) != 3 || !slices.Contains(keys, want) {
			t.Fatalf("bucket after backfill %v: %v, want the two boots' user data and %s", more, keys, want)
		}
	}
	got, err := minio.Client().GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(want)})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(got.Body)
	for _, s := range []string{`"securityGroups":[`, `"groupId":"sg-0a1"`, `"groupName":"kio"`, `"ipProtocol":"tcp"`, `"fromPort":443`, `"ipRanges":["0.0.0.0/0"]`} {
		if !strings.Contains(body.String(), s) {
			t.Errorf("snapshot lacks %s: %s", s, body.String())
		}
	}
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.lifecycle`); n != 1 {
		t.Errorf("%d lifecycle rows, want 1", n)
	}
	if n := srv.Calls("DescribeSecurityGroups"); n != 3 {
		t.Errorf("DescribeSecurityGroups calls = %d, want one per backfill, each of which evaluated the launch (3)", n)
	}
}

// serve with INSTANCE_LOGS_S3_BUCKET: an instance's upload lands in the
// bucket (below its prefix), its boot is listed as a lifecycle row, and
// the folder it made is where the snapshot of its launch then goes.
func TestServe_InstanceLogs(t *testing.T) {
	t.Parallel()
	minio := s3test.Start(t)
	bucket := minio.NewBucket(t)
	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "INSTANCE_LOGS_S3_BUCKET=s3://" + bucket + "/boots", "AWS_ACCESS_KEY_ID=" + minio.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + minio.SecretKey, "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"}
	_, base := startServe(t, env, "--no-processing", "--auth", "none", "--s3-endpoint", minio.Endpoint)

	body := fmt.Sprintf(`{"log_type":"USER_DATA","instance_id":"i-0aaaaaaaaaaaaaaa1","account_id":%q,"region":"eu-west-1",
"instance_boot_time":1709287320000,"log_data":%q}`, lookupAccount, base64.StdEncoding.EncodeToString([]byte("application_id: kio\napplication_version: \"1.2\"\n")))
	resp, err := http.Post(base+"/api/instance-logs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/instance-logs: %d, want 201", resp.StatusCode)
	}
	key := "boots/" + lookupAccount + "/eu-west-1/2024/03/01/i-0aaaaaaaaaaaaaaa1-2024-03-01T10:02:00.000Z/taupage.yaml"
	if keys := bucketKeys(t, minio, bucket, ""); len(keys) != 1 || keys[0] != key {
		t.Fatalf("bucket holds %v, want %s", keys, key)
	}
	resp, err = http.Get(base + "/api/lifecycles/applications/kio/versions/1.2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Content []struct {
			InstanceID       string `json:"instance_id"`
			InstanceBootTime string `json:"instance_boot_time"`
		} `json:"content"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || len(page.Content) != 1 ||
		page.Content[0].InstanceID != "i-0aaaaaaaaaaaaaaa1" || page.Content[0].InstanceBootTime != "2024-03-01T10:02:00.000Z" {
		t.Fatalf("lifecycle rows of kio 1.2: %+v, %v", page, err)
	}
	path := query[string](t, db, `SELECT userdata_path FROM fullstop_data.lifecycle`)
	if path != bucket+"/"+key {
		t.Errorf("userdata_path = %q, want %q", path, bucket+"/"+key)
	}
}
