package main

import (
	"github.com/robfig/cron/v3"
	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl"
)

func serveCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "keep running: process new log objects on a schedule until SIGTERM",
		Description: "Runs a batch at start and then on --schedule (a cron expression with five fields, or\n" +
			"@every 5m). Never runs two batches at once: a batch still running when the next is due\n" +
			"makes that one skip. SIGTERM or Ctrl-C lets the current object group commit, then exits.",
		Flags: append(append(databaseFlags(), sourceFlags()...), lookbackFlag(),
			&cli.StringFlag{Name: "schedule", Value: "*/5 * * * *", EnvVars: []string{"FULLSTOP_SCHEDULE"}, Usage: "cron schedule of batches"},
			&cli.BoolFlag{Name: "no-processing", EnvVars: []string{"FULLSTOP_NO_PROCESSING"}, Usage: "run no batches (the reference's autoStart=false)"},
		),
		Action: func(c *cli.Context) error {
			sched, err := cron.ParseStandard(c.String("schedule"))
			if err != nil {
				return usagef("--schedule (FULLSTOP_SCHEDULE): %v", err)
			}
			if c.Bool("no-processing") {
				a.log.Info("serve: processing is off (--no-processing); waiting for a signal")
				<-c.Context.Done()
				return nil
			}
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
			batches, err := etl.NewScheduler(etl.SchedulerConfig{Batches: env.pipe, Schedule: sched, Lookback: lookback, Log: a.log})
			if err != nil {
				return err
			}
			if err := batches.Start(c.Context); err != nil {
				return err
			}
			a.log.Info("serve: processing on schedule", logSchedule, c.String("schedule"), logSource, bs.source)
			<-c.Context.Done()
			batches.Stop()
			a.log.Info("serve: stopped")
			return nil
		},
	}
}
