package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// RDS returns the RDS client of account in region (cached; at most
// MaxClients, the cache emptied when full).
func (c *Clients) RDS(account, region string) *rds.Client {
	return regionalClient(c, c.rds, account, region, func(cfg awssdk.Config) *rds.Client { return rds.NewFromConfig(cfg) })
}

// regionalClient returns the client of account in region from cache,
// making it with newClient from the base configuration and the account's
// assumed-role credentials when it is not there; a full cache is emptied.
func regionalClient[T any](c *Clients, cache map[clientKey]*T, account, region string, newClient func(awssdk.Config) *T) *T {
	k := clientKey{account, region}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := cache[k]; cl != nil {
		return cl
	}
	cfg := c.cfg.Base.Copy()
	cfg.Region, cfg.Credentials = region, c.credentialsLocked(account)
	cl := newClient(cfg)
	if len(cache) >= c.cfg.MaxClients {
		clear(cache)
	}
	cache[k] = cl
	return cl
}

// Database is an RDS database instance.
type Database struct {
	ID                 string
	Address            string // the endpoint's address; "" while it has none
	Port               int32
	PubliclyAccessible bool
}

// Databases lists the RDS database instances of account in region, every
// page.
func (c *Clients) Databases(ctx context.Context, account, region string) ([]Database, error) {
	var out []Database
	p := rds.NewDescribeDBInstancesPaginator(c.RDS(account, region), &rds.DescribeDBInstancesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("rds DescribeDBInstances in %s %s: %w", account, region, err)
		}
		for _, db := range page.DBInstances {
			d := Database{ID: awssdk.ToString(db.DBInstanceIdentifier), PubliclyAccessible: awssdk.ToBool(db.PubliclyAccessible)}
			if db.Endpoint != nil {
				d.Address, d.Port = awssdk.ToString(db.Endpoint.Address), awssdk.ToInt32(db.Endpoint.Port)
			}
			out = append(out, d)
		}
	}
	return out, nil
}
