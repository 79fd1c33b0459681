package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/robfig/cron/v3"
	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/api"
	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/jobs"
	"github.com/fullstop-audit/fullstop/lookup"
	"github.com/fullstop-audit/fullstop/store"
)

func serveCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "keep running: serve the REST API and process new log objects on a schedule until SIGTERM",
		Description: "Serves the REST API on --listen and runs a batch at start and then on --schedule (a cron\n" +
			"expression with five fields, or @every 5m). Never runs two batches at once: a batch still\n" +
			"running when the next is due makes that one skip. --no-processing serves the API only and\n" +
			"needs no --source. --auth is required: tokeninfo, jwt or none (loopback only).\n" +
			"SIGTERM or Ctrl-C: stop accepting connections, let requests in flight finish (at most\n" +
			"--shutdown-timeout), let the current object group commit, exit 0.",
		Flags: append(append(append(append(databaseFlags(), sourceFlags()...), serviceTokenFlags()...), lookbackFlag(),
			&cli.StringFlag{Name: "schedule", Value: "*/5 * * * *", EnvVars: []string{"FULLSTOP_SCHEDULE"}, Usage: "cron schedule of batches"},
			&cli.BoolFlag{Name: "no-processing", EnvVars: []string{"FULLSTOP_NO_PROCESSING"}, Usage: "serve the API only, run no batches (the reference's autoStart=false)"},
			&cli.StringFlag{Name: "listen", Value: ":8080", EnvVars: []string{"FULLSTOP_LISTEN"}, Usage: "address the REST API listens on"},
			&cli.DurationFlag{Name: "shutdown-timeout", Value: 20 * time.Second, EnvVars: []string{"FULLSTOP_SHUTDOWN_TIMEOUT"}, Usage: "how long requests in flight may run on at SIGTERM"},
			&cli.BoolFlag{Name: "jobs", EnvVars: []string{"FULLSTOP_JOBS"}, Usage: "run the scheduled AWS scans on their schedules (FULLSTOP_JOB_<NAME>_SCHEDULE); the accounts come from --accounts or the team service"},
		), append(authFlags(), jobSettingFlags()...)...),
		Action: func(c *cli.Context) error {
			sched, err := cron.ParseStandard(c.String("schedule"))
			if err != nil {
				return usagef("--schedule (FULLSTOP_SCHEDULE): %v", err)
			}
			if c.Duration("shutdown-timeout") <= 0 {
				return usagef("--shutdown-timeout (FULLSTOP_SHUTDOWN_TIMEOUT) must be positive")
			}
			ac, err := readAuth(c)
			if err != nil {
				return err
			}
			if err := checkListen(c.String("listen"), ac.mode); err != nil {
				return err
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

			var st *store.Store
			var batches *etl.Scheduler
			source := ""
			if c.Bool("no-processing") {
				s, _, err := openStoreFromFlags(c, a.log)
				if err != nil {
					return err
				}
				st = s
				defer st.Close()
			} else {
				bs, err := readBatchSetup(c, etl.Config{Metrics: etl.NewMetrics(reg)})
				if err != nil {
					return err
				}
				bs.lookupMetrics = lookup.NewMetrics(reg)
				lookback, err := readLookback(c)
				if err != nil {
					return err
				}
				env, err := openBatch(c.Context, a.log, bs)
				if err != nil {
					return err
				}
				defer env.Close()
				st = env.store
				batches, err = etl.NewScheduler(etl.SchedulerConfig{Batches: env.pipe, Schedule: sched, Lookback: lookback, Log: a.log})
				if err != nil {
					return err
				}
				source = bs.source
			}
			reg.MustRegister(st.LedgerCollector())

			ac.jwt.Log = a.log
			verifier, rights, err := ac.open(c.Context)
			if err != nil {
				return err
			}
			if rights == nil && ac.mode != authNone {
				a.log.Warn("serve: no team service (--team-service-url, FULLSTOP_TEAM_SERVICE_URL): nobody may resolve violations or manage whitelisting rules")
			}
			acfg := api.Config{Store: st, Verifier: verifier, Rights: rights, AllowedTeams: ac.allowedTeams,
				Log: a.log, Registerer: reg, Gatherer: reg}
			var scans *jobs.Scheduler
			if c.Bool("jobs") {
				runner, all, err := openJobs(c, a.log, st, c.Duration("s3-credentials-timeout"))
				if err != nil {
					return err
				}
				runner.Metrics = jobs.NewMetrics(reg)
				if scans, err = jobs.NewScheduler(runner, all, nil); err != nil {
					return usagef("%v", err)
				}
				acfg.Jobs = scans
			}
			if ic, err := readInstanceData(c); err != nil {
				return err
			} else if ic != nil {
				b, err := openInstanceBucket(c.Context, ic)
				if err != nil {
					return err
				}
				acfg.InstanceData, acfg.InstanceDataName = b, b.name
			}
			h, err := api.New(acfg)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", c.String("listen"))
			if err != nil {
				return usagef("--listen (FULLSTOP_LISTEN): %v", err)
			}
			srv := api.NewServer(h)
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			a.log.Info("serve: REST API listening", logListen, ln.Addr().String(), logAuth, ac.mode)

			if batches != nil {
				if err := batches.Start(c.Context); err != nil {
					shutdown(srv, time.Second, a.log)
					return err
				}
				a.log.Info("serve: processing on schedule", logSchedule, c.String("schedule"), logSource, source)
			} else {
				a.log.Info("serve: processing is off (--no-processing)")
			}
			if scans != nil {
				if err := scans.Start(c.Context); err != nil {
					return err
				}
				defer scans.Stop()
				for _, j := range scans.Jobs() {
					a.log.Info("serve: job scheduled", logJob, j.Name, logSchedule, j.Schedule)
				}
			}
			select {
			case <-c.Context.Done():
			case err := <-served:
				if batches != nil {
					batches.Stop()
				}
				return fmt.Errorf("REST API on %s: %w", c.String("listen"), err)
			}
			// Requests in flight and the batch's current group finish
			// side by side.
			done := make(chan struct{})
			go func() {
				shutdown(srv, c.Duration("shutdown-timeout"), a.log)
				close(done)
			}()
			if batches != nil {
				batches.Stop()
			}
			<-done
			a.log.Info("serve: stopped")
			return nil
		},
	}
}

// checkListen refuses --auth none on an address other hosts can reach.
func checkListen(addr, mode string) error {
	if mode != authNone {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--listen (FULLSTOP_LISTEN) %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usagef("--auth none allows everything to anyone who can connect: --listen (FULLSTOP_LISTEN) must be a loopback address such as 127.0.0.1:8080, not %q", addr)
}

// shutdown stops srv accepting connections and waits at most timeout for
// the requests in flight, then closes what is left.
func shutdown(srv *http.Server, timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			log.Warn("serve: requests still running after the shutdown timeout were cut", logDuration, timeout)
		}
		_ = srv.Close()
	}
}
