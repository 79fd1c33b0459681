package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/urfave/cli/v2"
	"golang.org/x/oauth2"

	"github.com/fullstop-audit/fullstop/lookup"
	lookupaws "github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/kio"
	"github.com/fullstop-audit/fullstop/lookup/pierone"
	"github.com/fullstop-audit/fullstop/lookup/scm"
	"github.com/fullstop-audit/fullstop/rules/duckdb"
)

// roleTemplates is where the protected roles' templates are: a bucket of
// fullstop's own account, read with the process's credentials (the
// --s3-region and --s3-endpoint settings apply).
type roleTemplates struct {
	bucket, prefix   string
	adminRoles       []string
	region, endpoint string
}

func (rt *roleTemplates) open(ctx context.Context) (*lookupaws.Templates, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, usagef("--role-templates-bucket: load the AWS configuration: %v", err)
	}
	if rt.region != "" {
		cfg.Region = rt.region
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if rt.endpoint != "" {
			o.BaseEndpoint, o.UsePathStyle = &rt.endpoint, true
		}
	})
	return &lookupaws.Templates{Client: client, Bucket: rt.bucket, Prefix: rt.prefix}, nil
}

// registrySetup is the Kio and Pier One settings.
type registrySetup struct {
	kioURL      string
	pieroneURLs []string
	hosts       scm.Hosts
	token       oauth2.TokenSource
}

// readRegistries reads --kio-url, --pierone-urls, --scm-hosts and the
// service token; nil when neither registry is set.
func readRegistries(c *cli.Context) (*registrySetup, error) {
	rs := &registrySetup{kioURL: c.String("kio-url"), pieroneURLs: splitList(c.String("pierone-urls"))}
	hosts, err := scm.ParseHosts(c.String("scm-hosts"))
	if err != nil {
		return nil, usagef("--scm-hosts (FULLSTOP_SCM_HOSTS): %v", err)
	}
	rs.hosts = hosts
	if rs.kioURL == "" && len(rs.pieroneURLs) == 0 {
		return nil, nil
	}
	if rs.token, err = serviceToken(c); err != nil {
		return nil, err
	}
	return rs, nil
}

// openLookups returns the resolver of the lookups a batch is configured
// for, nil for none.
func openLookups(ctx context.Context, bs *batchSetup) (duckdb.Resolver, error) {
	var kinds []lookup.Kind
	if bs.awsLookups != nil {
		clients, err := openAWSClients(ctx, *bs.awsLookups, bs.credentialsTimeout)
		if err != nil {
			return nil, err
		}
		kinds = append(kinds, lookup.EC2Kinds(clients, lookup.DefaultEC2TTL)...)
		if rt := bs.roleTemplates; rt != nil {
			tmpl, err := rt.open(ctx)
			if err != nil {
				return nil, err
			}
			kinds = append(kinds, lookup.RoleKinds(clients, tmpl, rt.adminRoles, lookup.DefaultRoleTTL)...)
		}
	}
	if rs := bs.registries; rs != nil {
		if rs.kioURL != "" {
			k, err := kio.New(kio.Config{BaseURL: rs.kioURL, Token: rs.token})
			if err != nil {
				return nil, usagef("--kio-url (FULLSTOP_KIO_URL): %v", err)
			}
			kinds = append(kinds, lookup.KioKinds(k, rs.hosts, lookup.DefaultKioTTL)...)
		}
		if len(rs.pieroneURLs) > 0 {
			p, err := pierone.New(pierone.Config{URLs: rs.pieroneURLs, Token: rs.token})
			if err != nil {
				return nil, usagef("--pierone-urls (FULLSTOP_PIERONE_URLS): %v", err)
			}
			kinds = append(kinds, lookup.PierOneKinds(p, rs.hosts, lookup.DefaultPierOneTTL)...)
		}
	}
	if len(kinds) == 0 {
		return nil, nil
	}
	return lookup.New(bs.lookupMetrics, kinds...), nil
}

// openAWSClients loads the process's AWS configuration (the SDK's usual
// environment, shared files and instance role; AWS_ENDPOINT_URL_EC2 and
// AWS_ENDPOINT_URL_STS point it elsewhere) and returns the member
// accounts' clients. Credentials that cannot be found within timeout are a
// configuration error.
func openAWSClients(ctx context.Context, cfg lookupaws.Config, timeout time.Duration) (*lookupaws.Clients, error) {
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, usagef("the member accounts (--aws-lookups, jobs): load the AWS configuration: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := base.Credentials.Retrieve(cctx); err != nil {
		return nil, usagef("the member accounts (--aws-lookups, jobs): no AWS credentials to assume the member accounts' role %q with: %v", cfg.RoleName, err)
	}
	cfg.Base = base
	clients, err := lookupaws.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("--aws-lookups: %w", err)
	}
	return clients, nil
}
