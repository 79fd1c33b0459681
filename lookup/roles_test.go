package lookup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
	"github.com/fullstop-audit/fullstop/lookup"
	"github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
)

const (
	template = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	// The same document with its keys in another order.
	sameDocument = `{"Statement":[{"Resource":"*","Action":"s3:GetObject","Effect":"Allow"}],"Version":"2012-10-17"}`
	wider        = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

// roleResolver is the protected-role check over the real SDK: templates in
// a bucket of a real MinIO, IAM and STS from lookup/awstest.
func roleResolver(t *testing.T) (*lookup.Resolver, *awstest.Server) {
	t.Helper()
	ctx := context.Background()
	minio := s3test.Start(t)
	client := s3.New(s3.Options{Region: minio.Region, BaseEndpoint: awssdk.String(minio.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(minio.AccessKey, minio.SecretKey, "")})
	var rnd [4]byte
	rand.Read(rnd[:])
	bucket := "templates-" + hex.EncodeToString(rnd[:])
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	for key, body := range map[string]string{
		"roles/protected-role.json": template, "roles/good-role.json": template, "roles/gone-role.json": template,
		"roles/broken-role.json": template, "roles/nested/deep-role.json": template, "other/random-role.json": template,
	} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: awssdk.String(key), Body: bytes.NewReader([]byte(body))}); err != nil {
			t.Fatal(err)
		}
	}
	srv := awstest.New(t)
	srv.AddRole(acct, awstest.Role{Name: "protected-role", AttachedPolicies: []awstest.AttachedPolicy{{Name: "AdministratorAccess"}},
		InlinePolicies: map[string]string{"protected-role": wider}})
	srv.AddRole(acct, awstest.Role{Name: "good-role", InlinePolicies: map[string]string{"good-role": sameDocument}})
	srv.AddRole(acct, awstest.Role{Name: "broken-role", InlinePolicies: map[string]string{"broken-role": "{not json"}})
	srv.AddRole(acct, awstest.Role{Name: "deep-role", AttachedPolicies: []awstest.AttachedPolicy{{Name: "AdministratorAccess"}}})
	base := srv.Config("us-east-1")
	base.BaseEndpoint = awssdk.String(srv.URL())
	c, err := aws.New(aws.Config{Base: base})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &aws.Templates{Client: client, Bucket: bucket, Prefix: "roles"}
	return lookup.New(nil, lookup.RoleKinds(c, tmpl, nil, time.Minute)...), srv
}

func TestResolver_protectedRoles(t *testing.T) {
	t.Parallel()
	r, srv := roleResolver(t)
	check := func(role, event, issuer string) map[string]any {
		t.Helper()
		raw, err := r.Lookup(context.Background(), lookup.KindProtectedRole, []string{acct, role, event, issuer})
		if err != nil {
			t.Fatalf("%s %s by %q: %v", event, role, issuer, err)
		}
		if raw == nil {
			return nil
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	meta := check("protected-role", "AttachRolePolicy", "team-PowerUser")
	msgs, _ := json.Marshal(meta["error_messages"])
	if meta["role_name"] != "protected-role" || !strings.Contains(string(msgs), "You MUST not attach additional policies to this role!") ||
		!strings.Contains(string(msgs), "You MUST not change the main policy document! See diffs for details.") {
		t.Fatalf("meta of the modified role = %v", meta)
	}
	diff, _ := json.Marshal(meta["template_to_policy_diff"])
	if !strings.Contains(string(diff), `"path":"/Statement/0/Action"`) || !strings.Contains(string(diff), `"value":"*"`) {
		t.Errorf("template_to_policy_diff = %s", diff)
	}
	for _, tt := range []struct{ role, event, issuer, why string }{
		{"protected-role", "AttachRolePolicy", "Shibboleth-Administrator", "an admin role"},
		{"protected-role", "AttachRolePolicy", "OrganizationAccountAccessRole", "an admin role"},
		{"protected-role", "ListRoles", "team-PowerUser", "an event the check does not apply to"},
		{"good-role", "PutRolePolicy", "team-PowerUser", "the role matches its template (keys in another order)"},
		{"gone-role", "DeleteRole", "team-PowerUser", "the role is gone"},
		{"broken-role", "PutRolePolicy", "team-PowerUser", "the policy is not JSON: logged by the reference, not reported"},
		{"deep-role", "PutRolePolicy", "team-PowerUser", "its template is in a deeper folder: not protected"},
		{"random-role", "PutRolePolicy", "team-PowerUser", "no template under the prefix"},
	} {
		if m := check(tt.role, tt.event, tt.issuer); m != nil {
			t.Errorf("%s %s by %s (%s): %v, want nothing to report", tt.event, tt.role, tt.issuer, tt.why, m)
		}
	}
	if n := srv.Calls("ListAttachedRolePolicies"); n != 4 { // protected, good, gone and broken
		t.Errorf("ListAttachedRolePolicies calls = %d, want 4 (only the protected roles the check applies to)", n)
	}

	srv.Fail("ListAttachedRolePolicies", awstest.Failure{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	if _, err := r.Lookup(context.Background(), lookup.KindProtectedRole, []string{acct, "good-role", "CreateRole", "x"}); err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Errorf("throttled IAM: error %v, want Throttling", err)
	}
}
