package jobs

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/taupage"
	"github.com/fullstop-audit/fullstop/rules"
)

// AMIs is what FetchAmi reads of an account's region (lookup/aws.Clients).
type AMIs interface {
	RunningInstances(ctx context.Context, account, region string) ([]aws.PublicInstance, error)
	Image(ctx context.Context, account, region, imageID string) (aws.Image, bool, error)
	ImageTag(ctx context.Context, account, region, imageID, key string) (string, bool, error)
	UserData(ctx context.Context, account, region, instanceID string) (string, bool, error)
}

// ExpirationTag is the AMI tag that says until when a Taupage AMI may run.
const ExpirationTag = "ExpirationTime"

// FetchAmi is the reference's FetchAmiJob: OUTDATED_TAUPAGE for a running
// instance of a Taupage AMI whose ExpirationTime tag (read in the AMI
// owner's account, the only one that sees it) has passed.
type FetchAmi struct {
	EC2               AMIs
	TaupageOwners     []string // FULLSTOP_TAUPAGE_OWNERS
	TaupageNamePrefix string   // FULLSTOP_TAUPAGE_NAME_PREFIX; default "Taupage"
}

func (*FetchAmi) Name() string { return "fetchAmiJob" }
func (*FetchAmi) Description() string {
	return "OUTDATED_TAUPAGE: running instances of Taupage AMIs past their ExpirationTime"
}
func (*FetchAmi) Regional() bool { return true }

// Scan checks the region's running instances, each AMI and its tag once.
func (j *FetchAmi) Scan(ctx context.Context, t Target, now time.Time) ([]rules.Violation, error) {
	instances, err := j.EC2.RunningInstances(ctx, t.Account, t.Region)
	if err != nil {
		return nil, err
	}
	prefix := j.TaupageNamePrefix
	if prefix == "" {
		prefix = "Taupage"
	}
	type expiry struct {
		img     aws.Image
		at      time.Time
		expires bool // a Taupage AMI with a readable ExpirationTime
	}
	seen := map[string]expiry{}
	var out []rules.Violation
	for _, in := range instances {
		e, ok := seen[in.ImageID]
		if !ok {
			img, found, err := j.EC2.Image(ctx, t.Account, t.Region, in.ImageID)
			if err != nil {
				return nil, err
			}
			e.img = img
			if found && strings.HasPrefix(img.Name, prefix) && slices.Contains(j.TaupageOwners, img.OwnerID) {
				v, found, err := j.EC2.ImageTag(ctx, img.OwnerID, t.Region, img.ID, ExpirationTag)
				if err != nil {
					return nil, err
				}
				if at, ok := parseExpiration(v); found && ok {
					e.at, e.expires = at, true
				}
			}
			seen[in.ImageID] = e
		}
		if !e.expires || !now.After(e.at) {
			continue
		}
		v := rules.Violation{Type: "OUTDATED_TAUPAGE", EventID: "checkAmiJob", AccountID: t.Account, Region: t.Region, InstanceID: in.ID,
			MetaInfo: metaJSON(map[string]string{"ami_owner_id": e.img.OwnerID, "ami_id": e.img.ID, "ami_name": e.img.Name,
				"expiration_date": e.at.UTC().Format(time.RFC3339Nano)}),
			Rule: ruleName(j.Name()), EventTime: now.UTC()}
		b64, found, err := j.EC2.UserData(ctx, t.Account, t.Region, in.ID)
		if err != nil {
			return nil, err
		}
		if u, ok := taupage.Decode(b64); found && ok {
			v.Application, v.Version = u.ApplicationID, u.ApplicationVersion
		}
		out = append(out, v)
	}
	return out, nil
}

// parseExpiration reads an ExpirationTime tag: an ISO 8601 date-time
// (without a zone: UTC), or a date.
func parseExpiration(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
