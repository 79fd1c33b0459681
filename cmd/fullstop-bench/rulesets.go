package main

// The rule sets part: fullstop backfill with every rule on (--rules '*',
// the reference's and all our Sigma detections) and with the default set
// against the reference's rules alone, on the same corpus.

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"
)

const (
	partRules = "rules"
	// rulesTargetThroughput: every rule on keeps at least 80% of the
	// events/s of the reference's rules alone.
	rulesTargetThroughput = 0.80
)

type rulesRun struct {
	set   int // index in ruleSets
	m     *measurement
	pgCPU time.Duration // PostgreSQL's CPU time during the run
}

type rulesResult struct {
	runs     map[int][]rulesRun // by workers
	problems []string
	load     string
}

func (e *env) ruleSetRuns(ctx context.Context) (*rulesResult, error) {
	r := &rulesResult{runs: map[int][]rulesRun{}, load: loadAverage()}
	for _, w := range e.o.workers {
		for i := range e.o.lakeRuns {
			for s, spec := range e.o.ruleSets {
				pgBefore, err := e.pg.cpu()
				if err != nil {
					return nil, err
				}
				m, problem, err := e.backfill(ctx, "rules_"+strconv.Itoa(s), w, []string{"--source", e.dir, "--rules", spec}, nil)
				if err != nil {
					return nil, fmt.Errorf("backfill --rules %s, %d workers, run %d: %w", spec, w, i+1, err)
				}
				pgAfter, err := e.pg.cpu()
				if err != nil {
					return nil, err
				}
				if problem != "" {
					r.problems = append(r.problems, fmt.Sprintf("backfill --rules %s, %d workers, run %d: %s", spec, w, i+1, problem))
				}
				e.o.log.Info("measured rule set backfill", "rules", spec, logWorkers, w, logWall, m.Wall.Round(time.Millisecond),
					logEventsPerS, int64(float64(e.corpus.Events)/m.Wall.Seconds()))
				r.runs[w] = append(r.runs[w], rulesRun{set: s, m: m, pgCPU: pgAfter - pgBefore})
			}
		}
	}
	return r, nil
}

func printRuleSets(w io.Writer, e *env, r *rulesResult) {
	fmt.Fprintf(w, "\nRule sets: fullstop backfill --rules SET against the first, local folder → fresh PostgreSQL "+
		"(%d CPUs, load average %s before, %s after; median of %d runs, alternating; CPU is fullstop's, "+
		"PostgreSQL CPU its cluster's during the same run):\n\n", runtime.NumCPU(), r.load, loadAverage(), e.o.lakeRuns)
	t := &table{left: 2, header: []string{"workers", "--rules", "wall", "CPU", "PostgreSQL CPU", "events/s", "events/s of each run", "÷ reference", "target", ""}}
	for _, wk := range e.o.workers {
		var base float64
		for s, spec := range e.o.ruleSets {
			med, mw, each := medianRun(r.runs[wk], func(run rulesRun) bool { return run.set == s },
				func(run rulesRun) time.Duration { return run.m.Wall }, e.corpus.Events)
			if med == nil {
				continue
			}
			eps := float64(e.corpus.Events) / mw.Seconds()
			ratio, target, v := "", "", ""
			if s == 0 {
				base = eps
			} else if base > 0 {
				q := eps / base
				ratio = fmt.Sprintf("%.2f", q)
				if spec == "*" { // every rule on: the target
					target, v = fmt.Sprintf("≥ %.2f", rulesTargetThroughput), verdict(q >= rulesTargetThroughput)
				}
			}
			t.add(strconv.Itoa(wk), spec, seconds(mw), seconds(med.m.CPU), seconds(med.pgCPU), thousands(int64(eps)), strings.Join(each, ", "), ratio, target, v)
		}
	}
	t.write(w)
	for _, p := range r.problems {
		fmt.Fprintln(w, "⚠", p)
	}
}
