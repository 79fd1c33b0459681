// Package aws holds fullstop's clients of the member accounts' AWS APIs:
// STS AssumeRole of arn:aws:iam::{account}:role/{role} (session name
// "fullstop"), with the credentials and the clients cached per account
// and region, and the EC2 calls the enrichers need (reference-behaviour.md
// §3.4, §3.5). Not found (an AMI deregistered, an instance gone, no user
// data) is an answer (found false); any other failure is an error.
package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Defaults of Config.
const (
	DefaultRoleName    = "fullstop"
	DefaultSessionName = "fullstop"
	// DefaultClientTTL is how long an account's clients are kept after
	// their last use (the reference: 50 minutes).
	DefaultClientTTL = 50 * time.Minute
	// DefaultMaxClients bounds the cached (account, region) clients.
	DefaultMaxClients = 500
)

// Config configures Clients.
type Config struct {
	// Base is the process's AWS configuration: its credentials assume the
	// role in each member account. Required.
	Base awssdk.Config
	// RoleName is the role assumed in each member account
	// (FULLSTOP_ROLE_NAME). Default DefaultRoleName.
	RoleName string
	// STSRegion is the region of the STS endpoint (FULLSTOP_STS_REGION).
	// Default: Base's region.
	STSRegion string
	// ClientTTL and MaxClients bound the client cache.
	ClientTTL  time.Duration
	MaxClients int
}

// Clients hands out the EC2 clients of member accounts.
type Clients struct {
	cfg Config
	sts *sts.Client

	mu    sync.Mutex
	creds map[string]awssdk.CredentialsProvider // by account
	ec2   map[clientKey]*cachedEC2
	iam   map[string]*iam.Client // by account
	rds   map[clientKey]*rds.Client
	elb   map[clientKey]*elb.Client
	now   func() time.Time
}

type clientKey struct{ account, region string }

type cachedEC2 struct {
	client   *ec2.Client
	lastUsed time.Time
}

// New returns Clients over cfg.
func New(cfg Config) (*Clients, error) {
	if cfg.Base.Credentials == nil {
		return nil, errors.New("aws lookups: no AWS credentials to assume the member accounts' role with")
	}
	if cfg.RoleName = strings.TrimSpace(cfg.RoleName); cfg.RoleName == "" {
		cfg.RoleName = DefaultRoleName
	}
	if cfg.ClientTTL <= 0 {
		cfg.ClientTTL = DefaultClientTTL
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	stsCfg := cfg.Base.Copy()
	if cfg.STSRegion != "" {
		stsCfg.Region = cfg.STSRegion
	}
	if stsCfg.Region == "" {
		stsCfg.Region = "us-east-1"
	}
	return &Clients{
		cfg:   cfg,
		sts:   sts.NewFromConfig(stsCfg),
		creds: map[string]awssdk.CredentialsProvider{},
		ec2:   map[clientKey]*cachedEC2{},
		iam:   map[string]*iam.Client{},
		rds:   map[clientKey]*rds.Client{},
		elb:   map[clientKey]*elb.Client{},
		now:   time.Now,
	}, nil
}

// RoleARN is the role assumed in account.
func (c *Clients) RoleARN(account string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, c.cfg.RoleName)
}

// credentials returns account's assumed-role credentials, cached until
// shortly before they expire.
func (c *Clients) credentials(account string) awssdk.CredentialsProvider {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.credentialsLocked(account)
}

// credentialsLocked is credentials for a caller holding c.mu.
func (c *Clients) credentialsLocked(account string) awssdk.CredentialsProvider {
	if p := c.creds[account]; p != nil {
		return p
	}
	p := awssdk.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c.sts, c.RoleARN(account), func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = DefaultSessionName
	}))
	c.creds[account] = p
	return p
}

// EC2 returns the EC2 client of account in region.
func (c *Clients) EC2(account, region string) *ec2.Client {
	k := clientKey{account, region}
	now := c.now()
	c.mu.Lock()
	if cl := c.ec2[k]; cl != nil && now.Sub(cl.lastUsed) < c.cfg.ClientTTL {
		cl.lastUsed = now
		c.mu.Unlock()
		return cl.client
	}
	c.mu.Unlock()
	creds := c.credentials(account)
	cfg := c.cfg.Base.Copy()
	cfg.Region, cfg.Credentials = region, creds
	cl := ec2.NewFromConfig(cfg)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evict(now)
	c.ec2[k] = &cachedEC2{client: cl, lastUsed: now}
	return cl
}

// evict drops clients unused for the TTL and, when the cache is full, the
// least recently used one. The caller holds c.mu.
func (c *Clients) evict(now time.Time) {
	var oldest clientKey
	var oldestAt time.Time
	for k, cl := range c.ec2 {
		if now.Sub(cl.lastUsed) >= c.cfg.ClientTTL {
			delete(c.ec2, k)
			continue
		}
		if oldestAt.IsZero() || cl.lastUsed.Before(oldestAt) {
			oldest, oldestAt = k, cl.lastUsed
		}
	}
	if len(c.ec2) >= c.cfg.MaxClients && !oldestAt.IsZero() {
		delete(c.ec2, oldest)
	}
}

// Image is what DescribeImages says of an AMI.
type Image struct {
	ID      string `json:"image_id"`
	Name    string `json:"name"`
	OwnerID string `json:"owner_id"`
}

// Image describes one AMI in account and region; found is false when
// there is no such AMI (InvalidAMIID.NotFound or .Malformed, or none
// returned).
func (c *Clients) Image(ctx context.Context, account, region, imageID string) (img Image, found bool, err error) {
	out, err := c.EC2(account, region).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}})
	if isCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable") {
		return Image{}, false, nil
	}
	if err != nil {
		return Image{}, false, fmt.Errorf("ec2 DescribeImages %s in %s %s: %w", imageID, account, region, err)
	}
	for _, im := range out.Images {
		if awssdk.ToString(im.ImageId) == imageID {
			return Image{ID: imageID, Name: awssdk.ToString(im.Name), OwnerID: awssdk.ToString(im.OwnerId)}, true, nil
		}
	}
	return Image{}, false, nil
}

// Instance is what DescribeInstances says of an instance.
type Instance struct {
	ID       string `json:"instance_id"`
	ImageID  string `json:"image_id"`
	SubnetID string `json:"subnet_id,omitempty"`
	VpcID    string `json:"vpc_id,omitempty"`
}

// Instance describes one instance; found is false when there is none
// (InvalidInstanceID.NotFound, or none returned).
func (c *Clients) Instance(ctx context.Context, account, region, instanceID string) (Instance, bool, error) {
	out, err := c.EC2(account, region).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instanceID}})
	if isCode(err, "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed") {
		return Instance{}, false, nil
	}
	if err != nil {
		return Instance{}, false, fmt.Errorf("ec2 DescribeInstances %s in %s %s: %w", instanceID, account, region, err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if awssdk.ToString(in.InstanceId) == instanceID {
				return Instance{ID: instanceID, ImageID: awssdk.ToString(in.ImageId),
					SubnetID: awssdk.ToString(in.SubnetId), VpcID: awssdk.ToString(in.VpcId)}, true, nil
			}
		}
	}
	return Instance{}, false, nil
}

// UserData returns an instance's user data as EC2 returns it (base64);
// found is false when the instance is gone or has none.
func (c *Clients) UserData(ctx context.Context, account, region, instanceID string) (b64 string, found bool, err error) {
	out, err := c.EC2(account, region).DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: awssdk.String(instanceID), Attribute: ec2types.InstanceAttributeNameUserData,
	})
	if isCode(err, "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed") {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("ec2 DescribeInstanceAttribute userData %s in %s %s: %w", instanceID, account, region, err)
	}
	if out.UserData == nil || awssdk.ToString(out.UserData.Value) == "" {
		return "", false, nil
	}
	return awssdk.ToString(out.UserData.Value), true, nil
}

// isCode reports whether err is an AWS API error with one of codes.
func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

// Subnet is how a subnet routes to the internet: it is public when its
// route table (the one explicitly associated with it, else its VPC's main
// table) sends 0.0.0.0/0 or ::/0 to an internet gateway.
type Subnet struct {
	ID           string `json:"subnet_id"`
	VpcID        string `json:"vpc_id"`
	RouteTableID string `json:"route_table_id"`
	// Main is true when the table is the VPC's main table (the subnet has
	// no explicit association).
	Main bool `json:"main_route_table"`
	// Public is true when a route of the table sends the whole IPv4 or
	// IPv6 internet to an internet gateway (GatewayID).
	Public    bool   `json:"public"`
	GatewayID string `json:"gateway_id,omitempty"`
}

// Subnet describes a subnet's routing; found is false when the subnet is
// gone (InvalidSubnetID.NotFound) or has no route table. With its VPC
// known (vpcID not ""), one DescribeRouteTables of the VPC answers.
func (c *Clients) Subnet(ctx context.Context, account, region, subnetID, vpcID string) (Subnet, bool, error) {
	cl := c.EC2(account, region)
	sn := Subnet{ID: subnetID}
	if vpcID != "" {
		tables, err := routeTables(ctx, cl, ec2types.Filter{Name: awssdk.String("vpc-id"), Values: []string{vpcID}})
		if err != nil {
			return Subnet{}, false, fmt.Errorf("ec2 DescribeRouteTables of vpc %s in %s %s: %w", vpcID, account, region, err)
		}
		var explicit, main *ec2types.RouteTable
		for i, t := range tables {
			for _, a := range t.Associations {
				if awssdk.ToString(a.SubnetId) == subnetID && explicit == nil {
					explicit = &tables[i]
				}
				if awssdk.ToBool(a.Main) && main == nil {
					main = &tables[i]
				}
			}
		}
		switch {
		case explicit != nil:
			return routing(sn, *explicit, false), true, nil
		case main != nil:
			return routing(sn, *main, true), true, nil
		}
		return Subnet{}, false, nil
	}
	tables, err := routeTables(ctx, cl, ec2types.Filter{Name: awssdk.String("association.subnet-id"), Values: []string{subnetID}})
	if err != nil {
		return Subnet{}, false, fmt.Errorf("ec2 DescribeRouteTables of subnet %s in %s %s: %w", subnetID, account, region, err)
	}
	if len(tables) == 0 {
		out, err := cl.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnetID}})
		if isCode(err, "InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed") {
			return Subnet{}, false, nil
		}
		if err != nil {
			return Subnet{}, false, fmt.Errorf("ec2 DescribeSubnets %s in %s %s: %w", subnetID, account, region, err)
		}
		if len(out.Subnets) == 0 {
			return Subnet{}, false, nil
		}
		sn.VpcID = awssdk.ToString(out.Subnets[0].VpcId)
		tables, err = routeTables(ctx, cl,
			ec2types.Filter{Name: awssdk.String("vpc-id"), Values: []string{sn.VpcID}},
			ec2types.Filter{Name: awssdk.String("association.main"), Values: []string{"true"}})
		if err != nil {
			return Subnet{}, false, fmt.Errorf("ec2 DescribeRouteTables of vpc %s in %s %s: %w", sn.VpcID, account, region, err)
		}
		if len(tables) == 0 {
			return Subnet{}, false, nil
		}
		sn.Main = true
	}
	return routing(sn, tables[0], sn.Main), true, nil
}

// routing fills sn from its route table t.
func routing(sn Subnet, t ec2types.RouteTable, main bool) Subnet {
	sn.RouteTableID, sn.Main = awssdk.ToString(t.RouteTableId), main
	if sn.VpcID == "" {
		sn.VpcID = awssdk.ToString(t.VpcId)
	}
	for _, r := range t.Routes {
		world := awssdk.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" || awssdk.ToString(r.DestinationIpv6CidrBlock) == "::/0"
		gw := awssdk.ToString(r.GatewayId)
		if world && strings.HasPrefix(gw, "igw-") && r.State != ec2types.RouteStateBlackhole {
			sn.Public, sn.GatewayID = true, gw
			break
		}
	}
	return sn
}

// routeTables lists the route tables matching filters, every page.
func routeTables(ctx context.Context, cl *ec2.Client, filters ...ec2types.Filter) ([]ec2types.RouteTable, error) {
	var out []ec2types.RouteTable
	p := ec2.NewDescribeRouteTablesPaginator(cl, &ec2.DescribeRouteTablesInput{Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.RouteTables...)
	}
	return out, nil
}
