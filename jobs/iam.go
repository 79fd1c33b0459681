package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"time"

	"github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/rules"
)

// IAM is what the IAM jobs read of an account (lookup/aws.Clients).
type IAM interface {
	AccessKeys(ctx context.Context, account string) ([]aws.AccessKey, error)
	Roles(ctx context.Context, account string) ([]aws.IAMRole, error)
}

// The regions the reference wrote on the violations of the IAM jobs.
const (
	noRegion  = "no-region"
	iamRegion = "eu-west-1"
)

// DefaultAccessKeyMaxAge is the age in days after which an active access
// key is too old (FULLSTOP_ACCESS_KEYS_EXPIRE_AFTER_DAYS).
const DefaultAccessKeyMaxAge = 30

// KeyRotation is the reference's KeyRotationJob: ACTIVE_KEY_TOO_OLD for
// every active access key created before midnight (UTC) MaxAgeDays days
// ago.
type KeyRotation struct {
	IAM        IAM
	MaxAgeDays int // default DefaultAccessKeyMaxAge
}

func (*KeyRotation) Name() string { return "keyRotationJob" }
func (*KeyRotation) Description() string {
	return "ACTIVE_KEY_TOO_OLD: active IAM access keys older than the maximum age"
}
func (*KeyRotation) Regional() bool { return false }

// Scan lists every user's access keys of the account.
func (j *KeyRotation) Scan(ctx context.Context, t Target, now time.Time) ([]rules.Violation, error) {
	days := j.MaxAgeDays
	if days <= 0 {
		days = DefaultAccessKeyMaxAge
	}
	y, m, d := now.UTC().Date()
	limit := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -days)
	keys, err := j.IAM.AccessKeys(ctx, t.Account)
	if err != nil {
		return nil, err
	}
	var out []rules.Violation
	for _, k := range keys {
		if k.Status != "Active" || !k.Created.Before(limit) {
			continue
		}
		meta := metaJSON(map[string]any{"access_key_id": k.ID, "user_name": k.User, "access_key_created": k.Created.UnixMilli()})
		out = append(out, rules.Violation{Type: "ACTIVE_KEY_TOO_OLD", EventID: "check-access-key_" + k.ID, AccountID: t.Account,
			Region: noRegion, MetaInfo: meta, Rule: ruleName(j.Name()), EventTime: now.UTC()})
	}
	return out, nil
}

// CrossAccountRoles is the reference's CrossAccountPolicyForIAMJob:
// CROSS_ACCOUNT_ROLE for every role whose trust policy lets principals of
// other accounts (neither the scanned one nor ManagementAccount) assume it.
type CrossAccountRoles struct {
	IAM               IAM
	ManagementAccount string // FULLSTOP_JOBS_MANAGEMENT_ACCOUNT
}

func (*CrossAccountRoles) Name() string { return "crossAccountPolicyForIAMJob" }
func (*CrossAccountRoles) Description() string {
	return "CROSS_ACCOUNT_ROLE: IAM roles that principals of other accounts may assume"
}
func (*CrossAccountRoles) Regional() bool { return false }

// Scan lists the account's roles. A role whose trust policy does not parse
// has no grantees: one bad role never stops the others.
func (j *CrossAccountRoles) Scan(ctx context.Context, t Target, now time.Time) ([]rules.Violation, error) {
	roles, err := j.IAM.Roles(ctx, t.Account)
	if err != nil {
		return nil, err
	}
	var out []rules.Violation
	for _, r := range roles {
		grantees := CrossAccountGrantees(r.TrustPolicy, t.Account, j.ManagementAccount)
		if len(grantees) == 0 {
			continue
		}
		meta := metaJSON(map[string]any{"role_arn": r.Arn, "role_name": r.Name, "grantees": grantees})
		out = append(out, rules.Violation{Type: "CROSS_ACCOUNT_ROLE", EventID: "crossAccountPolicyForIAMJob", AccountID: t.Account,
			Region: iamRegion, InstanceID: r.ID, MetaInfo: meta, Rule: ruleName(j.Name()), EventTime: now.UTC()})
	}
	return out, nil
}

var principalARN = regexp.MustCompile(`^arn:aws:iam::(\d{12}):.+$`)

// CrossAccountGrantees returns the AWS principals of a trust policy that
// belong to another account than account and management, in order, each
// once. Principal.AWS may be one string or an array (the reference failed
// on arrays); bare principal ids (of deleted roles), service and federated
// principals and "*" are not grantees. A policy that does not parse has
// none.
func CrossAccountGrantees(policy []byte, account, management string) []string {
	var doc struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(policy, &doc); err != nil {
		return nil
	}
	var statements []struct {
		Principal json.RawMessage `json:"Principal"`
	}
	if s := bytes.TrimSpace(doc.Statement); len(s) > 0 && s[0] == '{' {
		var one struct {
			Principal json.RawMessage `json:"Principal"`
		}
		if json.Unmarshal(s, &one) != nil {
			return nil
		}
		statements = append(statements, one)
	} else if json.Unmarshal(doc.Statement, &statements) != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, st := range statements {
		var p struct {
			AWS json.RawMessage `json:"AWS"`
		}
		if json.Unmarshal(st.Principal, &p) != nil { // "*" or absent
			continue
		}
		for _, arn := range stringOrList(p.AWS) {
			m := principalARN.FindStringSubmatch(arn)
			if m == nil || m[1] == account || m[1] == management || seen[arn] {
				continue
			}
			seen[arn] = true
			out = append(out, arn)
		}
	}
	return out
}

// stringOrList reads a JSON string or array of strings.
func stringOrList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}
