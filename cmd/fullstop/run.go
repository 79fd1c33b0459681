package main

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl"
)

const defaultLookback = 48 * time.Hour

func lookbackFlag() cli.Flag {
	return &cli.DurationFlag{Name: "lookback", Value: defaultLookback, EnvVars: []string{"FULLSTOP_LOOKBACK"},
		Usage: "how far back a batch re-lists day folders for new or late files"}
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run one batch: process the new log objects of the look-back window, print a summary, exit",
		Description: "Lists the day folders inside the look-back window, processes every log object the ledger\n" +
			"does not hold yet, and exits non-zero if any object could not be read.",
		Flags: append(append(databaseFlags(), sourceFlags()...), lookbackFlag()),
		Action: func(c *cli.Context) error {
			bc, err := readBatchConfig(c)
			if err != nil {
				return err
			}
			lookback := c.Duration("lookback")
			if lookback <= 0 {
				return usagef("--lookback (FULLSTOP_LOOKBACK) must be positive, not %s", lookback)
			}
			env, err := openBatchEnv(c.Context, c, bc, etl.Config{})
			if err != nil {
				return err
			}
			defer env.Close()
			now := time.Now().UTC()
			from, to := now.Add(-lookback), now.Add(time.Hour)
			res, err := env.pipe.Run(c.Context, from, to)
			printSummary(os.Stdout, "run", bc.source, from, to, res)
			if err != nil {
				return err
			}
			if len(res.Failed) > 0 {
				return errFailedObjects
			}
			return nil
		},
	}
}
