package main

import (
	"sort"
	"time"

	"github.com/urfave/cli/v2"
)

func countsCommand() *cli.Command {
	return &cli.Command{
		Name:  "counts",
		Usage: "count violations by account, by type, or by application",
		Description: "--by account (the default): per account and type, as GET /api/violation-count;\n" +
			"--by type: per type over the accounts; --by application: per account, application,\n" +
			"version and type, as GET /api/violation-count/{account}, for each of --accounts.",
		Flags: append(clientFlags(), outputFlag(),
			&cli.StringFlag{Name: "accounts", EnvVars: []string{"FULLSTOP_ACCOUNTS"}, Usage: "comma list of account ids (default: the configured ones; none: all)"},
			&cli.StringFlag{Name: "since", Aliases: []string{"s"}, EnvVars: []string{"FULLSTOP_SINCE"}, Usage: "created since: 7d, 12h, or YYYY-MM-DD HH:MM:SS (UTC)"},
			&cli.StringFlag{Name: "by", Value: "account", EnvVars: []string{"FULLSTOP_COUNT_BY"}, Usage: "account, type or application"},
			&cli.StringFlag{Name: "state", Value: "open", EnvVars: []string{"FULLSTOP_STATE"}, Usage: "open, resolved, whitelisted or any"},
		),
		Action: func(c *cli.Context) error {
			by := c.String("by")
			if by != "account" && by != "type" && by != "application" {
				return usagef("--by (FULLSTOP_COUNT_BY) must be account, type or application, not %q", by)
			}
			state := c.String("state")
			switch state {
			case "open", "resolved", "whitelisted", "any":
			default:
				return usagef("--state (FULLSTOP_STATE) must be open, resolved, whitelisted or any, not %q", state)
			}
			env, err := openClient(c)
			if err != nil {
				return err
			}
			var from *time.Time
			if s := c.String("since"); s != "" {
				t, err := parseSince(s, env.opts.now)
				if err != nil {
					return err
				}
				from = &t
			}
			accounts := env.settings.Accounts
			var rows []row
			var cols []column
			switch by {
			case "application":
				if len(accounts) == 0 {
					return usagef("--by application needs --accounts (or configured accounts)")
				}
				cols = []column{{key: "account"}, {key: "application"}, {key: "version"}, {key: "type"}, {key: "quantity"}}
				for _, a := range accounts {
					cs, err := env.c.CountByApplication(c.Context, a, from, state)
					if err != nil {
						return err
					}
					for _, x := range cs {
						rows = append(rows, row{"account": a, "application": deref(x.Application), "version": deref(x.Version), "type": x.Type, "quantity": x.Quantity})
					}
				}
			default:
				cs, err := env.c.CountByAccount(c.Context, accounts, from, state)
				if err != nil {
					return err
				}
				if by == "account" {
					cols = []column{{key: "account"}, {key: "type"}, {key: "quantity"}}
					for _, x := range cs {
						rows = append(rows, row{"account": x.Account, "type": x.Type, "quantity": x.Quantity})
					}
					break
				}
				cols = []column{{key: "type"}, {key: "quantity"}}
				sum := map[string]int64{}
				for _, x := range cs {
					sum[x.Type] += x.Quantity
				}
				for t, n := range sum {
					rows = append(rows, row{"type": t, "quantity": n})
				}
				sort.Slice(rows, func(i, j int) bool { return rows[i]["type"].(string) < rows[j]["type"].(string) })
			}
			return printTable(env.out, c.String("output"), cols, rows, env.opts)
		},
	}
}
