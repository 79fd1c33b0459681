package jobs

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/rules"
)

// CredentialReports is what NoPasswords reads of an account
// (lookup/aws.Clients).
type CredentialReports interface {
	CredentialReport(ctx context.Context, account string, attempts int) ([]byte, error)
}

// credentialReportAttempts is how often the report is asked for before
// it is given up on (the reference's 10).
const credentialReportAttempts = 10

// NoPasswords is the reference's NoPasswordsJob: PASSWORD_USED for every
// IAM user of an account with a console password, from the account's
// credential report, and, after all accounts, one UNSECURED_ROOT_USER a
// day in ManagementAccount listing the root users that have a password
// without MFA or an active access key.
type NoPasswords struct {
	IAM               CredentialReports
	ManagementAccount string // FULLSTOP_JOBS_MANAGEMENT_ACCOUNT
}

func (*NoPasswords) Name() string { return "noPasswordsJob" }
func (*NoPasswords) Description() string {
	return "PASSWORD_USED: IAM users with a password; UNSECURED_ROOT_USER: root users with a password but no MFA, or an access key"
}
func (*NoPasswords) Regional() bool { return false }

// Scan reports the account's users with a password.
func (j *NoPasswords) Scan(ctx context.Context, t Target, now time.Time) ([]rules.Violation, error) {
	vs, _, err := j.ScanFor(ctx, t, now)
	return vs, err
}

// unsecuredRoot is one entry of the UNSECURED_ROOT_USER meta.
type unsecuredRoot struct {
	AccountID        string `json:"account_id"`
	User             string `json:"user"`
	Arn              string `json:"arn"`
	PasswordEnabled  string `json:"is_password_enabled"`
	MFAActive        string `json:"is_mfa_active"`
	AccessKey1Active string `json:"is_access_key_1_active"`
	AccessKey2Active string `json:"is_access_key_2_active"`
}

// ScanFor reports the account's users with a password, and returns its
// unsecured root users for Summarize.
func (j *NoPasswords) ScanFor(ctx context.Context, t Target, now time.Time) ([]rules.Violation, any, error) {
	report, err := j.IAM.CredentialReport(ctx, t.Account, credentialReportAttempts)
	if err != nil {
		return nil, nil, err
	}
	rows, err := ParseCredentialReport(report)
	if err != nil {
		return nil, nil, fmt.Errorf("credential report of %s: %w", t.Account, err)
	}
	var vs []rules.Violation
	var roots []unsecuredRoot
	for _, r := range rows {
		if r.PasswordEnabled {
			meta := metaJSON(map[string]string{"user_name": r.User})
			vs = append(vs, rules.Violation{Type: "PASSWORD_USED", EventID: "check-iam-user_" + r.User, AccountID: t.Account,
				Region: noRegion, MetaInfo: meta, Rule: ruleName(j.Name()), EventTime: now.UTC()})
		}
		root := r.User == "<root_account>" || strings.HasSuffix(r.User, ":root")
		if root && (r.PasswordEnabled && !r.MFAActive || r.AccessKey1Active || r.AccessKey2Active) {
			roots = append(roots, unsecuredRoot{AccountID: t.Account, User: r.User, Arn: r.Arn, PasswordEnabled: fmt.Sprint(r.PasswordEnabled),
				MFAActive: fmt.Sprint(r.MFAActive), AccessKey1Active: fmt.Sprint(r.AccessKey1Active), AccessKey2Active: fmt.Sprint(r.AccessKey2Active)})
		}
	}
	return vs, roots, nil
}

// Summarize reports the unsecured root users of every account scanned as
// one UNSECURED_ROOT_USER of the management account, with the day in its
// event id: at most one a day. Without a management account they cannot be
// stored, which is an error of the run.
func (j *NoPasswords) Summarize(now time.Time, details []any) ([]rules.Violation, error) {
	var roots []unsecuredRoot
	for _, d := range details {
		if rs, ok := d.([]unsecuredRoot); ok {
			roots = append(roots, rs...)
		}
	}
	if len(roots) == 0 {
		return nil, nil
	}
	if strings.TrimSpace(j.ManagementAccount) == "" {
		return nil, fmt.Errorf("%d unsecured root users found, but no management account (--management-account, FULLSTOP_JOBS_MANAGEMENT_ACCOUNT) to report them in", len(roots))
	}
	slices.SortFunc(roots, func(a, b unsecuredRoot) int { return strings.Compare(a.AccountID+a.User, b.AccountID+b.User) })
	meta := metaJSON(roots)
	return []rules.Violation{{Type: "UNSECURED_ROOT_USER", EventID: "check-iam-root-user-" + now.UTC().Format(time.DateOnly),
		AccountID: strings.TrimSpace(j.ManagementAccount), Region: noRegion, MetaInfo: meta, Rule: ruleName(j.Name()), EventTime: now.UTC()}}, nil
}

// CredentialUser is one row of a credential report.
type CredentialUser struct {
	User, Arn                                                      string
	PasswordEnabled, MFAActive, AccessKey1Active, AccessKey2Active bool
}

var credentialColumns = []string{"user", "arn", "password_enabled", "mfa_active", "access_key_1_active", "access_key_2_active"}

// ParseCredentialReport reads the CSV of a credential report. The header
// must name the columns the job reads; "true" in any case is true,
// anything else (false, not_supported, N/A) false.
func ParseCredentialReport(report []byte) ([]CredentialUser, error) {
	r := csv.NewReader(bytes.NewReader(report))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read CSV: %w", err)
	}
	if len(recs) == 0 {
		return nil, errors.New("no header")
	}
	idx := map[string]int{}
	for i, h := range recs[0] {
		idx[strings.TrimSpace(h)] = i
	}
	for _, c := range credentialColumns {
		if _, ok := idx[c]; !ok {
			return nil, fmt.Errorf("the header lacks the column %q", c)
		}
	}
	field := func(rec []string, c string) string {
		if i := idx[c]; i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	flag := func(rec []string, c string) bool { return strings.EqualFold(field(rec, c), "true") }
	out := make([]CredentialUser, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		out = append(out, CredentialUser{User: field(rec, "user"), Arn: field(rec, "arn"), PasswordEnabled: flag(rec, "password_enabled"),
			MFAActive: flag(rec, "mfa_active"), AccessKey1Active: flag(rec, "access_key_1_active"), AccessKey2Active: flag(rec, "access_key_2_active")})
	}
	return out, nil
}
