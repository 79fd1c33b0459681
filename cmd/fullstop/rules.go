package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/duckdb"
	"github.com/fullstop-audit/fullstop/rules/fixture"
	"github.com/fullstop-audit/fullstop/rules/sigma"
	sqlfiles "github.com/fullstop-audit/fullstop/sql"
)

// errRuleCases marks a rules test run in which a case failed.
var errRuleCases = errors.New("some rule fixture cases failed")

func rulesCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "rules",
		Usage: "list the rules, and run their fixture cases",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the rules: type, whether --rules turns it on, set, title, severity, priority, the events they read, their lookups and file",
				Flags: []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "table", EnvVars: []string{"FULLSTOP_RULES_OUTPUT"}, Usage: "table or json"}, sigmaFlag(), rulesFlag()},
				Action: func(c *cli.Context) error {
					sel, err := parseRulesFlag(c)
					if err != nil {
						return err
					}
					rs, err := rules.LoadRules(sqlfiles.Rules)
					if err != nil {
						return err
					}
					more, err := sigmaRules(splitSlice(c.StringSlice("sigma")), a.log)
					if err != nil {
						return err
					}
					rs = append(rs, more...)
					on, err := sel.Apply(rs)
					if err != nil {
						return usagef("--rules (FULLSTOP_RULES): %v", err)
					}
					return printRules(c.App.Writer, rs, on, c.String("output"))
				},
			},
			{
				Name:      "test",
				Usage:     "run the fixture cases of the rules (all, or of the TYPEs given): PASS or FAIL per case with a diff; exit 1 when one fails",
				ArgsUsage: "[TYPE...]",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "dir", Value: "testdata/rules", EnvVars: []string{"FULLSTOP_RULES_FIXTURES"}, Usage: "the folder of the cases, <dir>/<TYPE>/<case>/"}},
				Action: func(c *cli.Context) error {
					return testRules(c, a, c.App.Writer)
				},
			},
		},
	}
}

type ruleRow struct {
	Type     string   `json:"type"`
	On       bool     `json:"on"`
	Set      string   `json:"set"`
	Title    string   `json:"title"`
	Severity int      `json:"severity"`
	Priority int      `json:"priority"`
	Sources  []string `json:"sources"`
	Events   []string `json:"events"`
	Lookups  []string `json:"lookups"`
	File     string   `json:"file"`
	// Correlation is the rule's correlation header, for a correlation rule.
	Correlation string `json:"correlation,omitempty"`
}

// printRules lists rs, saying which are among on.
func printRules(w io.Writer, rs, on []rules.Rule, format string) error {
	isOn := make(map[string]bool, len(on))
	for _, r := range on {
		isOn[r.Type] = true
	}
	rows := make([]ruleRow, 0, len(rs))
	for _, r := range rs {
		lookups := append([]string{}, r.Lookups...)
		for _, o := range r.OptionalLookups {
			lookups = append(lookups, o+"?")
		}
		row := ruleRow{r.Type, isOn[r.Type], r.SetName(), r.Title, r.Severity, r.Priority, nonNil(r.Sources), nonNil(r.Events), lookups, r.File, ""}
		if r.Correlation != nil {
			row.Correlation = r.Correlation.String()
		}
		rows = append(rows, row)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "table":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TYPE\tON\tSET\tTITLE\tSEVERITY\tPRIORITY\tEVENTS\tLOOKUPS\tFILE")
		for _, r := range rows {
			events := strings.Join(r.Sources, ",")
			if len(r.Events) > 0 {
				events += ": " + strings.Join(r.Events, ",")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.Type, yesNo(r.On), r.Set, r.Title, r.Severity, r.Priority, orDash(events), orDash(strings.Join(r.Lookups, ",")), r.File)
		}
		return tw.Flush()
	}
	return usagef("--output (-o): %q is not table or json", format)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// testRules runs each case through an engine configured as the case says,
// with the case's lookup answers.
func testRules(c *cli.Context, a *app, w io.Writer) error {
	cases, err := fixture.Load(c.String("dir"), c.Args().Slice()...)
	if err != nil {
		return usagef("rules test: %v", err)
	}
	if len(cases) == 0 {
		return usagef("rules test: no fixture cases under %s (--dir)", c.String("dir"))
	}
	own, err := ownSigma()
	if err != nil {
		return err
	}
	failed := 0
	for _, tc := range cases {
		problems, diff, err := runCase(c, a, tc, own)
		if err != nil {
			problems = []string{err.Error()}
		}
		if len(problems) == 0 {
			fmt.Fprintf(w, "PASS %s/%s\n", tc.Type, tc.Name)
			continue
		}
		failed++
		fmt.Fprintf(w, "FAIL %s/%s: %s\n", tc.Type, tc.Name, strings.Join(problems, "; "))
		for _, line := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
			if line != "" {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	fmt.Fprintf(w, "%d cases, %d passed, %d failed\n", len(cases), len(cases)-failed, failed)
	if failed > 0 {
		return errRuleCases
	}
	return nil
}

// runCase runs tc through the reference's rules and own, our Sigma rules.
func runCase(c *cli.Context, a *app, tc fixture.Case, own []rules.Rule) ([]string, string, error) {
	cfg := duckdb.Config{Schema: event.Schema, Log: a.log, MoreRules: own, Combine: sigma.Combine,
		AllowedRegions: tc.AllowedRegions, LambdaTrustedBuckets: tc.LambdaTrustedBuckets, IncludeFailedCalls: tc.IncludeFailedCalls,
		TaupageOwners: tc.TaupageOwners, TaupageNamePrefix: tc.TaupageNamePrefix}
	if r := fixture.NewResolver(tc.Lookups); r != nil {
		cfg.Resolver = r
	}
	eng, err := duckdb.New(c.Context, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("load rules: %w", err)
	}
	defer eng.Close()
	f, err := os.Open(tc.EventsFile())
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	res, err := event.NewDecoder(nil, 0).Decode(f, event.Origin{Key: tc.ObjectKey()})
	if err != nil {
		return nil, "", fmt.Errorf("decode events.json: %w", err)
	}
	defer res.Release()
	found, err := eng.Evaluate(c.Context, res.Batches)
	if err != nil {
		return nil, "", fmt.Errorf("evaluate: %w", err)
	}
	// The correlation rules' matches counted as an empty database counts them.
	return tc.Check(rules.Correlate(found.Violations))
}
