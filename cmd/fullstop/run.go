package main

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl"
)

func lookbackFlag() cli.Flag {
	return &cli.DurationFlag{Name: "lookback", Value: etl.DefaultLookback, EnvVars: []string{"FULLSTOP_LOOKBACK"},
		Usage: "how far back a batch re-lists day folders for new or late files"}
}

// readLookback reads --lookback.
func readLookback(c *cli.Context) (time.Duration, error) {
	lookback := c.Duration("lookback")
	if lookback <= 0 {
		return 0, usagef("--lookback (FULLSTOP_LOOKBACK) must be positive, not %s", lookback)
	}
	return lookback, nil
}

func runCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run one batch: process the new log objects of the look-back window, print a summary, exit",
		Description: "Lists the day folders inside the look-back window and processes every log object the ledger\n" +
			"does not hold yet (or holds with another ETag or size), claiming each first, so that several\n" +
			"processes on one database split the work. " + exitCodesHelp,
		Flags: append(append(append(databaseFlags(), sourceFlags()...), serviceTokenFlags()...), lookbackFlag()),
		Action: func(c *cli.Context) error {
			bs, err := readBatchSetup(c, etl.Config{})
			if err != nil {
				return err
			}
			lookback, err := readLookback(c)
			if err != nil {
				return err
			}
			env, err := openBatch(c.Context, a.log, bs)
			if err != nil {
				return err
			}
			defer env.Close()
			from, to := etl.LookbackWindow(time.Now(), lookback)
			res, err := env.pipe.Run(c.Context, from, to)
			printSummary(os.Stdout, "run", bs.source, from, to, res, err)
			return batchError(bs.databaseURL, res, err)
		},
	}
}
