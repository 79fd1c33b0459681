package jobs

import (
	"context"
	"net/http"
	"time"

	"github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/taupage"
	"github.com/fullstop-audit/fullstop/rules"
)

// EC2 is what FetchEC2 reads of an account's region (lookup/aws.Clients).
type EC2 interface {
	PublicInstances(ctx context.Context, account, region string) ([]aws.PublicInstance, error)
	Image(ctx context.Context, account, region, imageID string) (aws.Image, bool, error)
	SecurityGroups(ctx context.Context, account, region string, ids []string) (aws.SecurityGroups, bool, error)
	UserData(ctx context.Context, account, region, instanceID string) (string, bool, error)
}

// unsecuredGroupMessage is the reference's message for open groups.
const unsecuredGroupMessage = "Unsecured security group! Only ports 80 and 443 are allowed"

// FetchEC2 is the reference's FetchEC2Job: UNSECURED_PUBLIC_ENDPOINT for a
// running instance with a public IP whose security groups open a port
// other than 80, 443 and 22 to the outside, or, when they do not, whose
// port 80 or 443 answers an HTTP GET of / without asking for
// credentials.
type FetchEC2 struct {
	EC2 EC2
	// Public skips the root check of an application Kio marks publicly
	// accessible; nil checks every one.
	Public *PublicApps
	HTTP   *http.Client // the root checks' client; nil: NewRootCheckClient
	// Ports are the ports whose root is checked; default 80 and 443 (22
	// is never checked).
	Ports []int
}

func (*FetchEC2) Name() string { return "fetchEC2Job" }
func (*FetchEC2) Description() string {
	return "UNSECURED_PUBLIC_ENDPOINT: public EC2 instances open to the outside"
}
func (*FetchEC2) Regional() bool { return true }

// Scan checks each public instance of the region.
func (j *FetchEC2) Scan(ctx context.Context, t Target, now time.Time) ([]rules.Violation, error) {
	instances, err := j.EC2.PublicInstances(ctx, t.Account, t.Region)
	if err != nil {
		return nil, err
	}
	client := j.HTTP
	if client == nil {
		client = NewRootCheckClient()
	}
	var out []rules.Violation
	for _, in := range instances {
		meta, err := j.amiMeta(ctx, t, in.ImageID)
		if err != nil {
			return nil, err
		}
		v := rules.Violation{Type: "UNSECURED_PUBLIC_ENDPOINT", EventID: "checkPublicEC2InstanceJob", AccountID: t.Account,
			Region: t.Region, InstanceID: in.ID, Rule: ruleName(j.Name()), EventTime: now.UTC()}
		b64, found, err := j.EC2.UserData(ctx, t.Account, t.Region, in.ID)
		if err != nil {
			return nil, err
		}
		if u, ok := taupage.Decode(b64); found && ok {
			v.Application, v.Version = u.ApplicationID, u.ApplicationVersion
		}
		if len(in.SecurityGroupIDs) > 0 {
			sgs, found, err := j.EC2.SecurityGroups(ctx, t.Account, t.Region, in.SecurityGroupIDs)
			if err != nil {
				return nil, err
			}
			if open := UnsecuredGroups(sgs.SecurityGroups, EC2AllowedPorts); found && len(open) > 0 {
				m := cloneMeta(meta)
				m["unsecuredSecurityGroups"], m["errorMessages"] = open, []string{unsecuredGroupMessage}
				v.MetaInfo = metaJSON(m)
				out = append(out, v)
				continue
			}
		}
		ports := j.Ports
		if len(ports) == 0 {
			ports = []int{80, 443}
		}
		if public, err := j.Public.Public(ctx, t.Account, t.Region, []string{in.ID}); err != nil {
			return nil, err
		} else if public {
			continue
		}
		for _, port := range ports {
			if open, msg := CheckRoot(ctx, client, in.PublicIP, port); open {
				m := cloneMeta(meta)
				m["instancePublicIpAddress"], m["Port"], m["Error"] = in.PublicIP, port, msg
				pv := v
				pv.MetaInfo = metaJSON(m)
				out = append(out, pv)
			}
		}
	}
	return out, nil
}

// amiMeta is the reference's "AMI details": {ami_id, ami_name, ami_owner_id},
// the last two when the AMI is known.
func (j *FetchEC2) amiMeta(ctx context.Context, t Target, imageID string) (map[string]any, error) {
	m := map[string]any{"ami_id": imageID}
	img, found, err := j.EC2.Image(ctx, t.Account, t.Region, imageID)
	if err != nil {
		return nil, err
	}
	if found {
		m["ami_name"], m["ami_owner_id"] = img.Name, img.OwnerID
	}
	return m, nil
}

func cloneMeta(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+3)
	for k, v := range m {
		out[k] = v
	}
	return out
}
