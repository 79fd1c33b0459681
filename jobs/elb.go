package jobs

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/taupage"
	"github.com/fullstop-audit/fullstop/rules"
)

// ELBs is what FetchELB reads of an account's region (lookup/aws.Clients).
type ELBs interface {
	LoadBalancers(ctx context.Context, account, region string) ([]aws.LoadBalancer, error)
	Instance(ctx context.Context, account, region, instanceID string) (aws.Instance, bool, error)
	Image(ctx context.Context, account, region, imageID string) (aws.Image, bool, error)
	SecurityGroups(ctx context.Context, account, region string, ids []string) (aws.SecurityGroups, bool, error)
	UserData(ctx context.Context, account, region, instanceID string) (string, bool, error)
}

// FetchELB is the reference's FetchElasticLoadBalancersJob:
// UNSECURED_PUBLIC_ENDPOINT for an internet-facing classic load balancer
// (not one a Kubernetes cluster owns) that listens on a port other than
// 80 and 443, whose security groups open such a port to the outside, or,
// when neither, whose port 80 or 443 answers GET / without asking for
// credentials.
type FetchELB struct {
	ELB ELBs
	// Public skips the root check of an application Kio marks publicly
	// accessible; nil checks every one.
	Public *PublicApps
	HTTP   *http.Client // nil: NewRootCheckClient
	Ports  []int        // the ports whose root is checked; default 80 and 443
}

func (*FetchELB) Name() string { return "fetchElasticLoadBalancersJob" }
func (*FetchELB) Description() string {
	return "UNSECURED_PUBLIC_ENDPOINT: internet-facing classic load balancers open to the outside"
}
func (*FetchELB) Regional() bool { return true }

// Scan checks the region's classic load balancers.
func (j *FetchELB) Scan(ctx context.Context, t Target, now time.Time) ([]rules.Violation, error) {
	lbs, err := j.ELB.LoadBalancers(ctx, t.Account, t.Region)
	if err != nil {
		return nil, err
	}
	client := j.HTTP
	if client == nil {
		client = NewRootCheckClient()
	}
	ports := j.Ports
	if len(ports) == 0 {
		ports = []int{80, 443}
	}
	var out []rules.Violation
	for _, lb := range lbs {
		if lb.Scheme != "internet-facing" || kubernetesOwned(lb.Tags) {
			continue
		}
		v := rules.Violation{Type: "UNSECURED_PUBLIC_ENDPOINT", EventID: "checkElbJob", AccountID: t.Account, Region: t.Region,
			InstanceID: lb.DNSName, Rule: ruleName(j.Name()), EventTime: now.UTC()}
		meta, err := j.instanceFacts(ctx, t, lb, &v)
		if err != nil {
			return nil, err
		}
		var errs []string
		var unsecured []int32
		for _, p := range lb.Ports {
			if !slices.Contains(ELBAllowedPorts, p) && !slices.Contains(unsecured, p) {
				unsecured = append(unsecured, p)
			}
		}
		if len(unsecured) > 0 {
			meta["unsecuredPorts"] = unsecured
			errs = append(errs, fmt.Sprintf("ELB %s listens on insecure ports! Only ports 80 and 443 are allowed", lb.Name))
		}
		if len(lb.SecurityGroupIDs) > 0 {
			sgs, found, err := j.ELB.SecurityGroups(ctx, t.Account, t.Region, lb.SecurityGroupIDs)
			if err != nil {
				return nil, err
			}
			if open := UnsecuredGroups(sgs.SecurityGroups, ELBAllowedPorts); found && len(open) > 0 {
				meta["unsecuredSecurityGroups"] = open
				errs = append(errs, unsecuredGroupMessage)
			}
		}
		if len(errs) > 0 {
			meta["errorMessages"] = errs
			v.MetaInfo = metaJSON(meta)
			out = append(out, v)
			continue
		}
		if public, err := j.Public.Public(ctx, t.Account, t.Region, lb.InstanceIDs); err != nil {
			return nil, err
		} else if public {
			continue
		}
		for _, port := range ports {
			if open, msg := CheckRoot(ctx, client, lb.DNSName, port); open {
				m := cloneMeta(meta)
				m["canonicalHostedZoneName"], m["port"], m["Error"] = lb.DNSName, port, msg
				pv := v
				pv.MetaInfo = metaJSON(m)
				out = append(out, pv)
			}
		}
	}
	return out, nil
}

// instanceFacts starts the meta with the AMI details of the first
// registered instance EC2 can describe, and sets the application and
// version of the first whose user data parses.
func (j *FetchELB) instanceFacts(ctx context.Context, t Target, lb aws.LoadBalancer, v *rules.Violation) (map[string]any, error) {
	meta := map[string]any{}
	for _, id := range lb.InstanceIDs {
		if _, done := meta["ami_id"]; !done {
			in, found, err := j.ELB.Instance(ctx, t.Account, t.Region, id)
			if err != nil {
				return nil, err
			}
			if found {
				meta["ami_id"] = in.ImageID
				img, found, err := j.ELB.Image(ctx, t.Account, t.Region, in.ImageID)
				if err != nil {
					return nil, err
				}
				if found {
					meta["ami_name"], meta["ami_owner_id"] = img.Name, img.OwnerID
				}
			}
		}
		if v.Application == "" {
			b64, found, err := j.ELB.UserData(ctx, t.Account, t.Region, id)
			if err != nil {
				return nil, err
			}
			if u, ok := taupage.Decode(b64); found && ok {
				v.Application, v.Version = u.ApplicationID, u.ApplicationVersion
			}
		}
		if _, done := meta["ami_id"]; done && v.Application != "" {
			break
		}
	}
	return meta, nil
}

// kubernetesOwned reports whether a Kubernetes cluster owns the load
// balancer: a tag kubernetes.io/cluster/<name> = owned.
func kubernetesOwned(tags map[string]string) bool {
	for k, v := range tags {
		if strings.HasPrefix(k, "kubernetes.io/cluster/") && v == "owned" {
			return true
		}
	}
	return false
}
