package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/store"
)

func ledgerCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "ledger",
		Usage: "see the ledger of log objects, and release failed or quarantined ones",
		Subcommands: []*cli.Command{
			ledgerListCommand(a),
			ledgerRetryCommand(a),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("unknown command %q: want fullstop ledger list or fullstop ledger retry (see fullstop ledger --help)", "ledger "+c.Args().First())
			}
			return cli.ShowSubcommandHelp(c)
		},
	}
}

var ledgerStatuses = []string{etl.StatusDone, etl.StatusFailed, etl.StatusQuarantined}

func ledgerListCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list ledger rows in key order (default: the failed and quarantined ones)",
		Flags: append(databaseFlags(),
			&cli.StringFlag{Name: "status", Value: "failed,quarantined", EnvVars: []string{"FULLSTOP_LEDGER_STATUS"}, Usage: "comma list of done, failed, quarantined; or any"},
			&cli.BoolFlag{Name: "rewritten", EnvVars: []string{"FULLSTOP_LEDGER_REWRITTEN"}, Usage: "only objects whose ETag or size changed after the ledger held them"},
			&cli.IntFlag{Name: "limit", Value: 100, EnvVars: []string{"FULLSTOP_LEDGER_LIMIT"}, Usage: "at most this many rows; 0 for all"},
			&cli.StringFlag{Name: "format", Value: "text", EnvVars: []string{"FULLSTOP_LEDGER_FORMAT"}, Usage: "text (a table) or json (one object a line)"},
		),
		Action: func(c *cli.Context) error {
			f := store.LedgerFilter{Rewritten: c.Bool("rewritten"), Limit: c.Int("limit")}
			if st := strings.TrimSpace(c.String("status")); st != "any" {
				f.Statuses = splitList(st)
				for _, s := range f.Statuses {
					if !slices.Contains(ledgerStatuses, s) {
						return usagef("--status: %q is not one of done, failed, quarantined, any", s)
					}
				}
				if len(f.Statuses) == 0 {
					return usagef("--status: name at least one of done, failed, quarantined, or any")
				}
			}
			if f.Limit < 0 {
				return usagef("--limit must not be negative")
			}
			format := c.String("format")
			if format != "text" && format != "json" {
				return usagef("--format: %q is not text or json", format)
			}
			st, dbURL, err := openStoreFromFlags(c, a.log)
			if err != nil {
				return err
			}
			defer st.Close()
			rows, err := st.LedgerList(c.Context, f)
			if err != nil {
				return dbError(dbURL, err)
			}
			if format == "json" {
				return printLedgerJSON(rows)
			}
			printLedgerTable(rows)
			if f.Limit > 0 && len(rows) == f.Limit {
				fmt.Fprintf(os.Stderr, "fullstop ledger list: the first %d rows; --limit 0 lists all\n", f.Limit)
			}
			return nil
		},
	}
}

func printLedgerTable(rows []store.LedgerEntry) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tATTEMPTS\tLAST ATTEMPT\tREWRITES\tKEY\tERROR")
	for _, r := range rows {
		last := "-"
		if r.LastAttemptAt != nil {
			last = r.LastAttemptAt.UTC().Format(time.RFC3339)
		}
		errText := oneLine(r.Error)
		if len(errText) > 120 {
			errText = errText[:117] + "..."
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\n", r.Status, r.Attempts, last, r.Rewrites, r.Key, errText)
	}
	tw.Flush()
}

// ledgerJSON is a ledger row as `ledger list --format json` prints it.
type ledgerJSON struct {
	Key            string     `json:"key"`
	Status         string     `json:"status"`
	ETag           string     `json:"etag,omitempty"`
	Size           int64      `json:"size"`
	Attempts       int        `json:"attempts"`
	Error          string     `json:"error,omitempty"`
	Events         *int       `json:"events,omitempty"`
	SkippedRecords *int       `json:"skipped_records,omitempty"`
	Violations     *int       `json:"violations,omitempty"`
	FirstAttemptAt *time.Time `json:"first_attempt_at,omitempty"`
	LastAttemptAt  *time.Time `json:"last_attempt_at,omitempty"`
	FinishedAt     *time.Time `json:"finished_at,omitempty"`
	Rewrites       int        `json:"rewrites"`
	PreviousETag   string     `json:"previous_etag,omitempty"`
	PreviousSize   *int64     `json:"previous_size,omitempty"`
	RewrittenAt    *time.Time `json:"rewritten_at,omitempty"`
}

func printLedgerJSON(rows []store.LedgerEntry) error {
	enc := json.NewEncoder(os.Stdout)
	for _, r := range rows {
		err := enc.Encode(ledgerJSON{Key: r.Key, Status: r.Status, ETag: r.ETag, Size: r.Size, Attempts: r.Attempts,
			Error: r.Error, Events: r.Events, SkippedRecords: r.SkippedRecords, Violations: r.Violations,
			FirstAttemptAt: r.FirstAttemptAt, LastAttemptAt: r.LastAttemptAt, FinishedAt: r.FinishedAt,
			Rewrites: r.Rewrites, PreviousETag: r.PreviousETag, PreviousSize: r.PreviousSize, RewrittenAt: r.RewrittenAt})
		if err != nil {
			return fmt.Errorf("write ledger rows: %w", err)
		}
	}
	return nil
}

func ledgerRetryCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "retry",
		Usage:     "release objects so that the next batch reads them again (whatever their status)",
		ArgsUsage: "KEY... | --quarantined | --failed",
		Description: "A released object is failed with no attempt counted; the next run or backfill whose window\n" +
			"holds its key reads it again, and its violations merge with those stored. Exits 1 if a KEY\n" +
			"is not in the ledger.",
		Flags: append(databaseFlags(),
			&cli.BoolFlag{Name: "quarantined", EnvVars: []string{"FULLSTOP_RETRY_QUARANTINED"}, Usage: "release every quarantined object"},
			&cli.BoolFlag{Name: "failed", EnvVars: []string{"FULLSTOP_RETRY_FAILED"}, Usage: "release every failed object (its attempts start again)"},
		),
		Action: func(c *cli.Context) error {
			keys := c.Args().Slice()
			var statuses []string
			if c.Bool("quarantined") {
				statuses = append(statuses, etl.StatusQuarantined)
			}
			if c.Bool("failed") {
				statuses = append(statuses, etl.StatusFailed)
			}
			switch {
			case len(keys) > 0 && len(statuses) > 0:
				return usagef("ledger retry: give KEYs or --quarantined/--failed, not both")
			case len(keys) == 0 && len(statuses) == 0:
				return usagef("ledger retry: give the KEYs to release, or --quarantined or --failed")
			}
			st, dbURL, err := openStoreFromFlags(c, a.log)
			if err != nil {
				return err
			}
			defer st.Close()
			var keyArg []string
			if len(keys) > 0 {
				keyArg = keys
			}
			released, err := st.LedgerRetry(c.Context, keyArg, statuses)
			if err != nil {
				return dbError(dbURL, err)
			}
			fmt.Fprintf(os.Stdout, "fullstop ledger retry: released %d objects; the next batch that lists them reads them again\n", len(released))
			if len(keys) > 0 {
				var missing []string
				for _, k := range keys {
					if !slices.Contains(released, k) {
						missing = append(missing, k)
					}
				}
				if len(missing) > 0 {
					return fmt.Errorf("%d keys are not in the ledger: %s", len(missing), strings.Join(missing, ", "))
				}
			}
			return nil
		},
	}
}
