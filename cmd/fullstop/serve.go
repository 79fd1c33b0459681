package main

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl"
)

func serveCommand() *cli.Command {
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
			log, err := newLogger(c, os.Stderr)
			if err != nil {
				return err
			}
			sched, err := cron.ParseStandard(c.String("schedule"))
			if err != nil {
				return usagef("--schedule (FULLSTOP_SCHEDULE): %v", err)
			}
			if c.Bool("no-processing") {
				log.Info("serve: processing is off (--no-processing); waiting for a signal")
				<-c.Context.Done()
				return nil
			}
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
			s := &scheduler{run: func(ctx context.Context) {
				now := time.Now().UTC()
				from, to := now.Add(-lookback), now.Add(time.Hour)
				res, err := env.pipe.Run(ctx, from, to)
				if err != nil {
					log.Error("batch failed", "err", err)
					return
				}
				log.Info("batch done", "objects", res.Objects, "failed", len(res.Failed), "events", res.Events,
					"new", res.New, "seen_again", res.SeenAgain, "duration", res.Duration.Round(time.Millisecond),
					"interrupted", res.Interrupted)
			}}
			log.Info("serve: processing on schedule", "schedule", c.String("schedule"), "source", bc.source)
			s.loop(c.Context, sched)
			log.Info("serve: stopped")
			return nil
		},
	}
}

// scheduler runs batches at start and then on a schedule, one at a time,
// skipping a due run while the previous one is still going.
type scheduler struct {
	run     func(ctx context.Context)
	mu      sync.Mutex
	running bool
	wg      sync.WaitGroup
}

func (s *scheduler) trigger(ctx context.Context) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return false
	}
	s.running = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.run(ctx)
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()
	return true
}

// loop triggers batches until ctx is done, then waits for the running one.
func (s *scheduler) loop(ctx context.Context, sched cron.Schedule) {
	s.trigger(ctx)
	for {
		next := sched.Next(time.Now())
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			s.wg.Wait()
			return
		case <-t.C:
			s.trigger(ctx)
		}
	}
}
