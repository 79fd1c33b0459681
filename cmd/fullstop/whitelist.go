package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/api"
)

func whitelistCommand() *cli.Command {
	ruleFlags := []cli.Flag{
		&cli.StringFlag{Name: "account", EnvVars: []string{"FULLSTOP_RULE_ACCOUNT"}, Usage: "criterion: the account id"},
		&cli.StringFlag{Name: "rule-region", EnvVars: []string{"FULLSTOP_RULE_REGION"}, Usage: "criterion: the region"},
		&cli.StringFlag{Name: "rule-type", EnvVars: []string{"FULLSTOP_RULE_TYPE"}, Usage: "criterion: the violation type"},
		&cli.StringFlag{Name: "image-name", EnvVars: []string{"FULLSTOP_RULE_IMAGE_NAME"}, Usage: "criterion: a regular expression the AMI name (meta_info.ami_name) matches in full"},
		&cli.StringFlag{Name: "image-owner", EnvVars: []string{"FULLSTOP_RULE_IMAGE_OWNER"}, Usage: "criterion: the AMI owner (meta_info.ami_owner_id)"},
		&cli.StringFlag{Name: "application", EnvVars: []string{"FULLSTOP_RULE_APPLICATION"}, Usage: "criterion: the application name"},
		&cli.StringFlag{Name: "application-version", EnvVars: []string{"FULLSTOP_RULE_APPLICATION_VERSION"}, Usage: "criterion: the version name"},
		&cli.StringFlag{Name: "meta-path", EnvVars: []string{"FULLSTOP_RULE_META_PATH"}, Usage: "criterion: a JSONPath that must select something in meta_info, e.g. $.[?(@.user_name =~ /ci-.+/)]"},
		&cli.StringFlag{Name: "reason", EnvVars: []string{"FULLSTOP_RULE_REASON"}, Usage: "why (required); the whitelisted violations' comment"},
		&cli.StringFlag{Name: "expires", EnvVars: []string{"FULLSTOP_RULE_EXPIRES"}, Usage: "expiry: YYYY-MM-DD or RFC 3339 (default: never)"},
	}
	idOf := func(c *cli.Context) (int64, error) {
		ids, err := parseIDs(c.Args().First())
		if err != nil || len(ids) != 1 || c.NArg() != 1 {
			return 0, usagef("%s takes one rule id", c.Command.HelpName)
		}
		return ids[0], nil
	}
	return &cli.Command{
		Name:  "whitelist",
		Usage: "list, add, expire and apply whitelisting rules",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "every rule, expired ones too",
				Flags: append(clientFlags(), outputFlag()),
				Action: func(c *cli.Context) error {
					env, err := openClient(c)
					if err != nil {
						return err
					}
					rs, err := env.c.WhitelistRules(c.Context)
					if err != nil {
						return err
					}
					rows := make([]row, len(rs))
					for i, r := range rs {
						state := "in force"
						if !time.Time(r.ExpiryDate).After(env.opts.now) {
							state = "expired"
						}
						rows[i] = row{"id": r.ID, "account_id": deref(r.AccountID), "region": deref(r.Region),
							"violation_type": deref(r.ViolationType), "image_name": deref(r.ImageName), "image_owner": deref(r.ImageOwner),
							"application_id": deref(r.ApplicationID), "application_version": deref(r.ApplicationVersion),
							"meta_info_json_path": deref(r.MetaInfoJSONPath), "reason": r.Reason,
							"expiry_date": time.Time(r.ExpiryDate).UTC().Format("2006-01-02 15:04"), "state": state}
					}
					return printTable(env.out, c.String("output"), []column{{key: "id"}, {key: "account_id"}, {key: "region"},
						{key: "violation_type"}, {key: "image_name"}, {key: "image_owner"}, {key: "application_id", title: "Application"},
						{key: "application_version", title: "Application Version"}, {key: "meta_info_json_path", title: "Meta Path"},
						{key: "reason"}, {key: "expiry_date", title: "Expires"}, {key: "state"}}, rows, env.opts)
				},
			},
			{
				Name:  "add",
				Usage: "create a rule; it whitelists the violations stored from now on (apply it for the open ones)",
				Flags: append(clientFlags(), ruleFlags...),
				Action: func(c *cli.Context) error {
					opt := func(name string) *string {
						if v := strings.TrimSpace(c.String(name)); v != "" {
							return &v
						}
						return nil
					}
					in := api.RuleInput{AccountID: opt("account"), Region: opt("rule-region"), ViolationType: opt("rule-type"),
						ImageName: opt("image-name"), ImageOwner: opt("image-owner"), ApplicationID: opt("application"),
						ApplicationVersion: opt("application-version"), MetaInfoJSONPath: opt("meta-path"), Reason: opt("reason")}
					if in.Reason == nil {
						return usagef("whitelist add needs --reason")
					}
					if s := opt("expires"); s != nil {
						t, err := parseTime(*s)
						if err != nil {
							return usagef("--expires (FULLSTOP_RULE_EXPIRES): %v", err)
						}
						iso := t.UTC().Format(time.RFC3339)
						in.ExpiryDate = &iso
					}
					env, err := openClient(c)
					if err != nil {
						return err
					}
					r, err := env.c.CreateWhitelistRule(c.Context, in)
					if err != nil {
						return err
					}
					fmt.Fprintf(env.out, "Created whitelisting rule %d (expires %s). Apply it to the open violations stored before: fullstop whitelist apply %d\n",
						r.ID, time.Time(r.ExpiryDate).UTC().Format("2006-01-02 15:04 UTC"), r.ID)
					return nil
				},
			},
			{
				Name:      "expire",
				Usage:     "end a rule (default: in one minute)",
				ArgsUsage: "ID",
				Flags: append(clientFlags(),
					&cli.StringFlag{Name: "at", EnvVars: []string{"FULLSTOP_RULE_EXPIRE_AT"}, Usage: "when: YYYY-MM-DD or RFC 3339, in the future"}),
				Action: func(c *cli.Context) error {
					id, err := idOf(c)
					if err != nil {
						return err
					}
					var at *time.Time
					if s := c.String("at"); s != "" {
						t, err := parseTime(s)
						if err != nil {
							return usagef("--at (FULLSTOP_RULE_EXPIRE_AT): %v", err)
						}
						at = &t
					}
					env, err := openClient(c)
					if err != nil {
						return err
					}
					if err := env.c.ExpireWhitelistRule(c.Context, id, at); err != nil {
						return err
					}
					fmt.Fprintf(env.out, "Whitelisting rule %d expires.\n", id)
					return nil
				},
			},
			{
				Name:      "apply",
				Usage:     "whitelist the open violations a rule matches",
				ArgsUsage: "ID",
				Flags: append(clientFlags(),
					&cli.BoolFlag{Name: "dry-run", EnvVars: []string{"FULLSTOP_RULE_DRY_RUN"}, Usage: "only count them"}),
				Action: func(c *cli.Context) error {
					id, err := idOf(c)
					if err != nil {
						return err
					}
					env, err := openClient(c)
					if err != nil {
						return err
					}
					res, err := env.c.ApplyWhitelistRule(c.Context, id, c.Bool("dry-run"))
					if err != nil {
						return err
					}
					if res.DryRun {
						fmt.Fprintf(env.out, "Whitelisting rule %d would whitelist %d open violations.\n", id, res.Violations)
					} else {
						fmt.Fprintf(env.out, "Whitelisting rule %d whitelisted %d open violations.\n", id, res.Violations)
					}
					return nil
				},
			},
		},
	}
}
