package jobs

import (
	"context"
	"time"

	"github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/rules"
)

// Databases is what FetchRds reads of an account's region
// (lookup/aws.Clients).
type Databases interface {
	Databases(ctx context.Context, account, region string) ([]aws.Database, error)
}

// FetchRds is the reference's FetchRdsJob: UNSECURED_PUBLIC_ENDPOINT for
// every RDS database instance that is publicly accessible and has an
// endpoint.
type FetchRds struct {
	RDS Databases
}

func (*FetchRds) Name() string { return "fetchRdsJob" }
func (*FetchRds) Description() string {
	return "UNSECURED_PUBLIC_ENDPOINT: publicly accessible RDS databases"
}
func (*FetchRds) Regional() bool { return true }

// Scan lists the region's databases.
func (j *FetchRds) Scan(ctx context.Context, t Target, now time.Time) ([]rules.Violation, error) {
	dbs, err := j.RDS.Databases(ctx, t.Account, t.Region)
	if err != nil {
		return nil, err
	}
	var out []rules.Violation
	for _, db := range dbs {
		if !db.PubliclyAccessible || db.Address == "" {
			continue
		}
		// errorMessages is a string, not a list, as in the reference.
		meta := metaJSON(map[string]string{"unsecuredDatabase": db.Address,
			"errorMessages": "Unsecured Database! Your DB can be reached from outside"})
		out = append(out, rules.Violation{Type: "UNSECURED_PUBLIC_ENDPOINT", EventID: "checkRdsJob", AccountID: t.Account,
			Region: t.Region, InstanceID: db.Address, MetaInfo: meta, Rule: ruleName(j.Name()), EventTime: now.UTC()})
	}
	return out, nil
}
