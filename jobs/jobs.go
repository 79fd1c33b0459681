// Package jobs runs the scheduled scans of live AWS state (reference §5):
// a Job scans one account (or one account and region) at a time, and the
// Runner runs it over every account and region, one run of a job at a time
// across processes (the Sink's lock), storing the violations through the
// same path as the pipeline (identity merge, whitelisting on insert) and
// recording each run with the error of every target that failed. One
// target's failure never stops the others.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fullstop-audit/fullstop/rules"
)

// Target is what one scan of a job covers: an account, and a region for
// the jobs that scan regions ("" for the global ones, such as IAM).
type Target struct{ Account, Region string }

func (t Target) String() string {
	if t.Region == "" {
		return t.Account
	}
	return t.Account + "/" + t.Region
}

// Job is one scheduled scan.
type Job interface {
	// Name is the job's name, the reference's bean name: keyRotationJob.
	Name() string
	// Description says in one line what it looks for.
	Description() string
	// Regional reports whether the job scans each region of an account
	// (else each account once).
	Regional() bool
	// Scan scans one target at the time now and returns its violations.
	Scan(ctx context.Context, t Target, now time.Time) ([]rules.Violation, error)
}

// Summarizer is a job that, besides its violations per target, reports
// on what all the targets of a run found together (the reference's one
// UNSECURED_ROOT_USER a day).
type Summarizer interface {
	Job
	// ScanFor is Scan that also returns what Summarize needs of the target.
	ScanFor(ctx context.Context, t Target, now time.Time) ([]rules.Violation, any, error)
	// Summarize is called once after every target, with the details of
	// the targets scanned without error.
	Summarize(now time.Time, details []any) ([]rules.Violation, error)
}

// summaryTarget is where a summary's failure is recorded in a run.
const summaryTarget = "summary"

// Sink is where runs store what they find and record themselves; the
// store implements it.
type Sink interface {
	// ViolationUpsert stores violations as the pipeline does.
	ViolationUpsert(ctx context.Context, vs []rules.Violation, user string) (inserted, seenAgain int, err error)
	// JobLock takes the lock of a job for the process; ok false: taken.
	JobLock(ctx context.Context, name string) (release func(), ok bool, err error)
	JobRunStart(ctx context.Context, job string, started time.Time, user string) (int64, error)
	JobRunFinish(ctx context.Context, id int64, finished time.Time, accounts, regions []string, inserted, seenAgain int, errs map[string]string) error
}

// Accounts lists the accounts to scan (the team service's enabled
// accounts, or a fixed list).
type Accounts interface {
	Accounts(ctx context.Context) ([]string, error)
}

// StaticAccounts is a fixed list of accounts (FULLSTOP_ACCOUNTS).
type StaticAccounts []string

// Accounts returns the list.
func (a StaticAccounts) Accounts(context.Context) ([]string, error) { return slices.Clone(a), nil }

// ErrRunning is Run's error when the job runs already, here or in another
// process on the same database.
var ErrRunning = errors.New("the job is running already")

// DefaultConcurrency is how many targets a run scans at once by default.
const DefaultConcurrency = 4

// Runner runs jobs.
type Runner struct {
	Sink     Sink
	Accounts Accounts
	// Regions are the regions of the regional jobs.
	Regions []string
	// Concurrency bounds the targets scanned at once; default
	// DefaultConcurrency.
	Concurrency int
	Log         *slog.Logger     // default: discarded
	Now         func() time.Time // default: time.Now
	Metrics     *Metrics         // nil: not counted
	Progress    func(p Progress) // called after each target, if set
}

// Progress is one finished target of a run.
type Progress struct {
	Job       string
	Target    Target
	Found     int   // violations the scan returned
	Err       error // why the target failed, nil if it did not
	Done, All int   // targets finished so far, and in all
}

// Result is what a run did.
type Result struct {
	ID                int64 // the recorded run
	Job               string
	Started, Finished time.Time
	Accounts, Regions []string
	New, SeenAgain    int
	// Errors maps each failed target (account, or account/region) to why.
	Errors map[string]string
}

// Run runs job once over accounts (nil: the Runner's Accounts), recording
// the run; user is who asked for it (the scheduler: ""). It returns
// ErrRunning without running when the job runs already.
func (r *Runner) Run(ctx context.Context, job Job, accounts []string, user string) (Result, error) {
	run, err := r.Start(ctx, job, accounts, user)
	if err != nil {
		return Result{}, err
	}
	return run(ctx)
}

// Start takes the job's lock and returns the run, which the caller calls
// (at once, or in a goroutine) to run the job and release the lock; it
// returns ErrRunning when the job runs already. A trigger can so answer
// "running already" before it lets the run go on by itself.
func (r *Runner) Start(ctx context.Context, job Job, accounts []string, user string) (func(context.Context) (Result, error), error) {
	release, ok, err := r.Sink.JobLock(ctx, job.Name())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("job %s: %w", job.Name(), ErrRunning)
	}
	return func(ctx context.Context) (Result, error) {
		defer release()
		return r.run(ctx, job, accounts, user)
	}, nil
}

func (r *Runner) run(ctx context.Context, job Job, accounts []string, user string) (Result, error) {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	var err error
	if accounts == nil {
		if accounts, err = r.Accounts.Accounts(ctx); err != nil {
			return Result{}, fmt.Errorf("job %s: list the accounts: %w", job.Name(), err)
		}
	}
	res := Result{Job: job.Name(), Started: now().UTC(), Accounts: accounts, Errors: map[string]string{}}
	targets := make([]Target, 0, len(accounts))
	for _, a := range accounts {
		if !job.Regional() {
			targets = append(targets, Target{Account: a})
			continue
		}
		for _, reg := range r.Regions {
			targets = append(targets, Target{Account: a, Region: reg})
		}
	}
	if job.Regional() {
		res.Regions = slices.Clone(r.Regions)
	}
	if res.ID, err = r.Sink.JobRunStart(ctx, job.Name(), res.Started, user); err != nil {
		return Result{}, err
	}
	log.InfoContext(ctx, "job started", logJob, job.Name(), logTargets, len(targets))

	var mu sync.Mutex
	var details []any
	done := 0
	concurrency := r.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			vs, detail, err := r.scan(ctx, job, t, now())
			var n, again int
			if err == nil && len(vs) > 0 {
				n, again, err = r.Sink.ViolationUpsert(ctx, vs, auditUser(job))
			}
			mu.Lock()
			defer mu.Unlock()
			done++
			if err == nil && detail != nil {
				details = append(details, detail)
			}
			res.New += n
			res.SeenAgain += again
			if err != nil {
				res.Errors[t.String()] = err.Error()
				log.WarnContext(ctx, "job target failed", logJob, job.Name(), logTarget, t.String(), logErr, err)
			}
			r.Metrics.target(job.Name(), err)
			if r.Progress != nil {
				r.Progress(Progress{Job: job.Name(), Target: t, Found: len(vs), Err: err, Done: done, All: len(targets)})
			}
		}()
	}
	wg.Wait()
	if sj, ok := job.(Summarizer); ok && ctx.Err() == nil {
		vs, err := sj.Summarize(now(), details)
		var n, again int
		if err == nil && len(vs) > 0 {
			n, again, err = r.Sink.ViolationUpsert(ctx, vs, auditUser(job))
		}
		res.New, res.SeenAgain = res.New+n, res.SeenAgain+again
		if err != nil {
			res.Errors[summaryTarget] = err.Error()
			log.WarnContext(ctx, "job summary failed", logJob, job.Name(), logErr, err)
		}
	}
	res.Finished = now().UTC()
	// The end is recorded even when the run was cancelled.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.Sink.JobRunFinish(fctx, res.ID, res.Finished, res.Accounts, res.Regions, res.New, res.SeenAgain, res.Errors); err != nil {
		return res, err
	}
	r.Metrics.run(job.Name(), res)
	log.InfoContext(ctx, "job done", logJob, job.Name(), logNew, res.New, logSeenAgain, res.SeenAgain, logFailed, len(res.Errors),
		logDuration, res.Finished.Sub(res.Started).Round(time.Millisecond))
	return res, ctx.Err()
}

// scan runs one scan, turning a panic of a job into an error of its
// target.
func (r *Runner) scan(ctx context.Context, job Job, t Target, now time.Time) (vs []rules.Violation, detail any, err error) {
	defer func() {
		if p := recover(); p != nil {
			vs, detail, err = nil, nil, fmt.Errorf("scan %s: panic: %v", t, p)
		}
	}()
	if sj, ok := job.(Summarizer); ok {
		return sj.ScanFor(ctx, t, now)
	}
	vs, err = job.Scan(ctx, t, now)
	return vs, nil, err
}

// auditUser is who the violations of a job are created by.
func auditUser(j Job) string { return "fullstop-job:" + j.Name() }

// SortedErrors returns the failed targets of a result, sorted.
func (res Result) SortedErrors() []string {
	out := make([]string, 0, len(res.Errors))
	for t, e := range res.Errors {
		out = append(out, t+": "+e)
	}
	sort.Strings(out)
	return out
}

// metaJSON is v as a violation's meta_info: JSON without HTML escapes
// (<root_account> stays as it is).
func metaJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "{}"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// ruleName is the Rule field of a job's violations.
func ruleName(job string) string { return "jobs/" + strings.TrimSpace(job) }
