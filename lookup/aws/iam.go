package aws

import (
	"context"
	"fmt"
	"net/url"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// RoleState is what IAM says of a role now: the names of its attached
// managed policies and of its inline policies, and the document of the
// inline policy named like the role (URL-decoded; nil when there is none).
type RoleState struct {
	Attached   []string
	Inline     []string
	MainPolicy []byte
}

// IAM returns the IAM client of account (IAM is global: the client's
// region is the STS region, else the base configuration's).
func (c *Clients) IAM(account string) *iam.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := c.iam[account]; cl != nil {
		return cl
	}
	cfg := c.cfg.Base.Copy()
	cfg.Credentials = c.credentialsLocked(account)
	if c.cfg.STSRegion != "" {
		cfg.Region = c.cfg.STSRegion
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cl := iam.NewFromConfig(cfg)
	if len(c.iam) >= c.cfg.MaxClients {
		clear(c.iam)
	}
	c.iam[account] = cl
	return cl
}

// Role reads a role's policies, every page; found is false when the role
// does not exist (NoSuchEntity), as after DeleteRole.
func (c *Clients) Role(ctx context.Context, account, role string) (RoleState, bool, error) {
	cl := c.IAM(account)
	var st RoleState
	attached := iam.NewListAttachedRolePoliciesPaginator(cl, &iam.ListAttachedRolePoliciesInput{RoleName: awssdk.String(role)})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if isCode(err, "NoSuchEntity") {
			return RoleState{}, false, nil
		}
		if err != nil {
			return RoleState{}, false, fmt.Errorf("iam ListAttachedRolePolicies %s in %s: %w", role, account, err)
		}
		for _, p := range page.AttachedPolicies {
			st.Attached = append(st.Attached, awssdk.ToString(p.PolicyName))
		}
	}
	inline := iam.NewListRolePoliciesPaginator(cl, &iam.ListRolePoliciesInput{RoleName: awssdk.String(role)})
	for inline.HasMorePages() {
		page, err := inline.NextPage(ctx)
		if isCode(err, "NoSuchEntity") {
			return RoleState{}, false, nil
		}
		if err != nil {
			return RoleState{}, false, fmt.Errorf("iam ListRolePolicies %s in %s: %w", role, account, err)
		}
		st.Inline = append(st.Inline, page.PolicyNames...)
	}
	for _, name := range st.Inline {
		if name != role {
			continue
		}
		out, err := cl.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: awssdk.String(role), PolicyName: awssdk.String(role)})
		if isCode(err, "NoSuchEntity") {
			break // deleted in between: no main policy
		}
		if err != nil {
			return RoleState{}, false, fmt.Errorf("iam GetRolePolicy %s %s in %s: %w", role, role, account, err)
		}
		doc, err := url.QueryUnescape(awssdk.ToString(out.PolicyDocument))
		if err != nil {
			return RoleState{}, false, fmt.Errorf("iam GetRolePolicy %s in %s: the document is not URL-encoded: %w", role, account, err)
		}
		st.MainPolicy = []byte(doc)
		break
	}
	return st, true, nil
}
