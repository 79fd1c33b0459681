package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/api"
)

// errSomeFailed is the error of a command that went on after per-item
// failures, each already reported on its line.
var errSomeFailed = errors.New("some violations could not be changed (see the lines above)")

func resolveViolationsCommand() *cli.Command {
	return &cli.Command{
		Name:      "resolve-violations",
		Usage:     "resolve open violations with a comment",
		ArgsUsage: "COMMENT",
		Description: "Resolves the violations --violation-ids names, or the newest --limit open ones the filters\n" +
			"select; at least one of --accounts, --type, --region or --violation-ids is required. Violations\n" +
			"that have a comment already are skipped. One line per violation, OK or the error; it goes on\n" +
			"after a failure and exits 1 if any failed.",
		Flags: append(append(clientFlags(),
			&cli.StringFlag{Name: "violation-ids", Aliases: []string{"i"}, EnvVars: []string{"FULLSTOP_VIOLATION_IDS"}, Usage: "comma list of violation ids"}),
			filterFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 || strings.TrimSpace(c.Args().First()) == "" {
				return usagef("resolve-violations takes one COMMENT (quote it)")
			}
			comment := c.Args().First()
			env, err := openClient(c)
			if err != nil {
				return err
			}
			f, err := readFilter(c, env)
			if err != nil {
				return err
			}
			ids, err := parseIDs(c.String("violation-ids"))
			if err != nil {
				return err
			}
			if len(f.query.Accounts) == 0 && f.query.Type == "" && f.region == "" && len(ids) == 0 {
				return usagef("At least one of --accounts, --type, --region or --violation-ids must be specified")
			}
			var candidates []api.Violation
			if len(ids) > 0 {
				for _, id := range ids {
					v, err := env.c.Violation(c.Context, id)
					if err != nil {
						return err
					}
					candidates = append(candidates, v)
				}
			} else if candidates, err = env.c.ViolationsUpTo(c.Context, f.query, f.limit); err != nil {
				return err
			}
			var items items
			for _, v := range candidates {
				if !f.keep(v) || v.Comment != nil {
					continue
				}
				items.do(env, fmt.Sprintf("Resolving violation %s/%s %s %d", str(v.AccountID), str(v.Region), v.ViolationType.ID, v.ID),
					func() error { _, err := env.c.Resolve(c.Context, v.ID, comment); return err })
			}
			return items.err()
		},
	}
}

func reopenCommand() *cli.Command {
	return &cli.Command{
		Name:      "reopen",
		Usage:     "reopen resolved or whitelisted violations",
		ArgsUsage: "ID...",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			ids, err := parseIDs(strings.Join(c.Args().Slice(), ","))
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				return usagef("reopen takes one or more violation ids")
			}
			env, err := openClient(c)
			if err != nil {
				return err
			}
			var items items
			for _, id := range ids {
				items.do(env, fmt.Sprintf("Reopening violation %d", id),
					func() error { _, err := env.c.Reopen(c.Context, id); return err })
			}
			return items.err()
		},
	}
}

// items runs changes one by one, as the reference: a line each, "OK" or
// the error, going on after a failure.
type items struct{ failed bool }

func (it *items) do(env *clientEnv, label string, change func() error) {
	fmt.Fprintf(env.out, "%s.. ", label)
	if err := change(); err != nil {
		it.failed = true
		fmt.Fprintf(env.out, "EXCEPTION OCCURRED: %v\n", err)
		return
	}
	fmt.Fprintln(env.out, "OK")
}

// err is errSomeFailed when a change failed.
func (it *items) err() error {
	if it.failed {
		return errSomeFailed
	}
	return nil
}

// parseIDs reads a comma list of violation ids.
func parseIDs(s string) ([]int64, error) {
	var out []int64
	for _, f := range splitList(s) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id < 1 {
			return nil, usagef("%q is not a violation id", f)
		}
		out = append(out, id)
	}
	return out, nil
}

// str is a nullable string as text.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
