package aws

import (
	"context"
	"fmt"
	"net/url"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// AccessKey is an IAM user's access key.
type AccessKey struct {
	ID      string
	User    string
	Status  string // Active or Inactive
	Created time.Time
}

// AccessKeys lists the access keys of every IAM user of account, every
// page of users and of keys (the reference read only the first page of
// each).
func (c *Clients) AccessKeys(ctx context.Context, account string) ([]AccessKey, error) {
	cl := c.IAM(account)
	var out []AccessKey
	users := iam.NewListUsersPaginator(cl, &iam.ListUsersInput{})
	for users.HasMorePages() {
		page, err := users.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam ListUsers in %s: %w", account, err)
		}
		for _, u := range page.Users {
			name := awssdk.ToString(u.UserName)
			keys := iam.NewListAccessKeysPaginator(cl, &iam.ListAccessKeysInput{UserName: u.UserName})
			for keys.HasMorePages() {
				kp, err := keys.NextPage(ctx)
				if isCode(err, "NoSuchEntity") {
					break // deleted since it was listed
				}
				if err != nil {
					return nil, fmt.Errorf("iam ListAccessKeys %s in %s: %w", name, account, err)
				}
				for _, k := range kp.AccessKeyMetadata {
					out = append(out, AccessKey{ID: awssdk.ToString(k.AccessKeyId), User: name, Status: string(k.Status),
						Created: awssdk.ToTime(k.CreateDate).UTC()})
				}
			}
		}
	}
	return out, nil
}

// IAMRole is an IAM role with its trust policy.
type IAMRole struct {
	ID, Name, Arn string
	// TrustPolicy is the assume-role policy document, URL-decoded.
	TrustPolicy []byte
}

// Roles lists every IAM role of account, every page.
func (c *Clients) Roles(ctx context.Context, account string) ([]IAMRole, error) {
	var out []IAMRole
	p := iam.NewListRolesPaginator(c.IAM(account), &iam.ListRolesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam ListRoles in %s: %w", account, err)
		}
		for _, r := range page.Roles {
			doc := awssdk.ToString(r.AssumeRolePolicyDocument)
			if d, err := url.QueryUnescape(doc); err == nil {
				doc = d
			}
			out = append(out, IAMRole{ID: awssdk.ToString(r.RoleId), Name: awssdk.ToString(r.RoleName),
				Arn: awssdk.ToString(r.Arn), TrustPolicy: []byte(doc)})
		}
	}
	return out, nil
}

// CredentialReport asks IAM to generate the account's credential report
// until it is complete (at most attempts times, waiting 0, 0.5, 1, 1.5 …
// seconds between them, as the reference), then returns its CSV.
func (c *Clients) CredentialReport(ctx context.Context, account string, attempts int) ([]byte, error) {
	cl := c.IAM(account)
	for i := 0; ; i++ {
		out, err := cl.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, fmt.Errorf("iam GenerateCredentialReport in %s: %w", account, err)
		}
		if out.State == iamtypes.ReportStateTypeComplete {
			break
		}
		if i+1 >= attempts {
			return nil, fmt.Errorf("iam GenerateCredentialReport in %s: still %s after %d attempts", account, out.State, attempts)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(i) * 500 * time.Millisecond):
		}
	}
	out, err := cl.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		return nil, fmt.Errorf("iam GetCredentialReport in %s: %w", account, err)
	}
	if out.ReportFormat != iamtypes.ReportFormatTypeTextCsv {
		return nil, fmt.Errorf("iam GetCredentialReport in %s: format %q, want text/csv", account, out.ReportFormat)
	}
	return out.Content, nil
}
