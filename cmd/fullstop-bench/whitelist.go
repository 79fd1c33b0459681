package main

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"github.com/jackc/pgx/v5"
)

// backfillWhitelist is run 1 with o.rules whitelisting rules in force: as
// many kinds of criteria as the reference has, most of them needing the
// violation's meta_info (a regex or a JSONPath), a few matching.
func (e *env) backfillWhitelist(ctx context.Context, workers int) (*measurement, string, error) {
	meas, problem, err := e.backfillPrepared(ctx, "whitelist", workers, []string{"--source", e.dir}, nil, e.insertRules)
	return meas, problem, err
}

// insertRules migrates the database at dbURL and inserts the rules.
func (e *env) insertRules(ctx context.Context, dbURL string) error {
	cmd := exec.CommandContext(ctx, e.o.fullstop, "--log-level", "warn", "migrate")
	cmd.Env = childEnv("DATABASE_URL=" + dbURL)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("fullstop migrate: %w: %s", err, out)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	rows := make([][]any, 0, e.o.rules)
	expiry := time.Now().Add(365 * 24 * time.Hour)
	for i := range e.o.rules {
		// account, region, type, image_name, meta_info_json_path
		var r [5]any
		switch i % 5 {
		case 0: // an account and a type, no meta needed
			r = [5]any{fmt.Sprintf("%012d", 900000000000+i), nil, "WRONG_REGION", nil, nil}
		case 1: // a region and a regex on the AMI name
			r = [5]any{nil, "eu-west-1", nil, fmt.Sprintf("team-%d-.*", i), nil}
		case 2: // the reference's JSONPath form with a list
			r = [5]any{nil, nil, nil, nil, fmt.Sprintf("$.[?(@.grantees == ['arn:aws:iam::%012d:root'])]", i)}
		case 3: // a regex filter
			r = [5]any{nil, nil, "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION", nil, fmt.Sprintf("$.[?(@.function_name =~ /ci-%d-.+/)]", i)}
		case 4: // a plain path
			r = [5]any{nil, nil, "EC2_WITH_KEYPAIR", nil, fmt.Sprintf("$.[?(@.key_name == 'key-%d')]", i)}
		}
		rows = append(rows, []any{r[0], r[1], r[2], r[3], r[4], fmt.Sprintf("bench rule %d", i), expiry, time.Now(), "bench"})
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"fullstop_data", "rule"},
		[]string{"account_id", "region", "violation_type_entity_id", "image_name", "meta_info_json_path", "reason", "expiry_date", "created", "created_by"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("insert whitelisting rules: %w", err)
	}
	return nil
}
