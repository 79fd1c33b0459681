package main

// The lookups part: fullstop backfill with --aws-lookups against the same
// without, on the same corpus, with EC2 and STS answered by a local server
// (lookup/awstest, the real SDK's wire formats) that waits 5 ms before
// every answer. The corpus's launches name AMIs the server does not know,
// so every image lookup is answered "not found" (and WRONG_AMI reported);
// no AMI is a Taupage AMI, so no user data is looked up.

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/lookup/awstest"
)

const (
	partLookups = "lookups"
	// lookupLatency is the local server's latency of every answer.
	lookupLatency = 5 * time.Millisecond
	// lookupTargetThroughput: the lookups cost at most 10% of the events/s.
	lookupTargetThroughput = 0.90
)

// lookupActions are the calls the server delays.
var lookupActions = []string{"AssumeRole", "DescribeImages", "DescribeInstances", "DescribeInstanceAttribute", "DescribeRouteTables", "DescribeSubnets"}

type lookupRun struct {
	lookups bool
	m       *measurement
	calls   map[string]int // calls made in the run, by action
}

type lookupResult struct {
	runs     map[int][]lookupRun // by workers
	problems []string
	load     string
}

func (e *env) lookups(ctx context.Context) (*lookupResult, error) {
	r := &lookupResult{runs: map[int][]lookupRun{}, load: loadAverage()}
	srv := awstest.Start()
	defer srv.Close()
	for _, a := range lookupActions {
		srv.Fail(a, awstest.Failure{Delay: lookupLatency})
	}
	env := []string{"AWS_ACCESS_KEY_ID=" + awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awstest.SecretAccessKey, "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_EC2=" + srv.URL(), "AWS_ENDPOINT_URL_STS=" + srv.URL()}
	for _, w := range e.o.workers {
		for i := range e.o.lakeRuns {
			for _, with := range []bool{false, true} {
				source, label := []string{"--source", e.dir}, "nolookups"
				if with {
					source, label = append(source, "--aws-lookups", "--taupage-owners", "999988887777"), "lookups"
				}
				before := map[string]int{}
				for _, a := range lookupActions {
					before[a] = srv.Calls(a)
				}
				m, problem, err := e.backfill(ctx, label, w, source, env)
				if err != nil {
					return nil, fmt.Errorf("backfill (lookups %v), %d workers, run %d: %w", with, w, i+1, err)
				}
				if problem != "" {
					r.problems = append(r.problems, fmt.Sprintf("backfill (lookups %v), %d workers, run %d: %s", with, w, i+1, problem))
				}
				calls := map[string]int{}
				for _, a := range lookupActions {
					calls[a] = srv.Calls(a) - before[a]
				}
				e.o.log.Info("measured lookups backfill", "lookups", with, logWorkers, w, logWall, m.Wall.Round(time.Millisecond),
					logEventsPerS, int64(float64(e.corpus.Events)/m.Wall.Seconds()), "describe_images", calls["DescribeImages"])
				r.runs[w] = append(r.runs[w], lookupRun{lookups: with, m: m, calls: calls})
			}
		}
	}
	return r, nil
}

func printLookups(w io.Writer, e *env, r *lookupResult) {
	fmt.Fprintf(w, "\nLookups: fullstop backfill with --aws-lookups against without, local folder → fresh PostgreSQL, EC2 and STS answered by a local server "+
		"in their wire formats after %s each (%d CPUs, load average %s before, %s after; median of %d runs, alternating):\n\n",
		lookupLatency, runtime.NumCPU(), r.load, loadAverage(), e.o.lakeRuns)
	t := &table{left: 2, header: []string{"workers", "run", "wall", "CPU", "events/s", "events/s of each run", "calls a run", "with ÷ without", "target", ""}}
	for _, wk := range e.o.workers {
		var base float64
		for _, with := range []bool{false, true} {
			med, mw, each := medianRun(r.runs[wk], func(run lookupRun) bool { return run.lookups == with },
				func(run lookupRun) time.Duration { return run.m.Wall }, e.corpus.Events)
			if med == nil {
				continue
			}
			eps := float64(e.corpus.Events) / mw.Seconds()
			label, ratio, target, v, calls := "fullstop backfill", "", "", "", ""
			if with {
				label = "fullstop backfill --aws-lookups"
				var parts []string
				for _, a := range lookupActions {
					if n := med.calls[a]; n > 0 {
						parts = append(parts, fmt.Sprintf("%s %d", a, n))
					}
				}
				calls = strings.Join(parts, ", ")
				if base > 0 {
					q := eps / base
					ratio, target, v = fmt.Sprintf("%.2f", q), fmt.Sprintf("≥ %.2f", lookupTargetThroughput), verdict(q >= lookupTargetThroughput)
				}
			} else {
				base = eps
			}
			t.add(strconv.Itoa(wk), label, seconds(mw), seconds(med.m.CPU), thousands(int64(eps)), strings.Join(each, ", "), calls, ratio, target, v)
		}
	}
	t.write(w)
	fmt.Fprintf(w, "\ncalls a run: requests the server received in the median run (SDK retries included). Every AMI of the corpus is unknown to the server, "+
		"so the image lookups answer \"not found\", WRONG_AMI is reported for every launch, and no user data, Kio or Pier One lookup is made.\n")
	for _, p := range r.problems {
		fmt.Fprintln(w, "⚠", p)
	}
}
