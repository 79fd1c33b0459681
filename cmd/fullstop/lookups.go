package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/fullstop-audit/fullstop/lookup"
	lookupaws "github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/rules/duckdb"
)

// openAWSLookups loads the process's AWS configuration (the SDK's usual
// environment, shared files and instance role; AWS_ENDPOINT_URL_EC2 and
// AWS_ENDPOINT_URL_STS point it elsewhere) and returns the EC2 lookups of
// the member accounts. Credentials that cannot be found within timeout
// are a configuration error.
func openAWSLookups(ctx context.Context, cfg lookupaws.Config, m *lookup.Metrics, timeout time.Duration) (duckdb.Resolver, error) {
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, usagef("--aws-lookups: load the AWS configuration: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := base.Credentials.Retrieve(cctx); err != nil {
		return nil, usagef("--aws-lookups: no AWS credentials to assume the member accounts' role %q with: %v", cfg.RoleName, err)
	}
	cfg.Base = base
	clients, err := lookupaws.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("--aws-lookups: %w", err)
	}
	return lookup.New(m, lookup.EC2Kinds(clients, lookup.DefaultEC2TTL)...), nil
}
