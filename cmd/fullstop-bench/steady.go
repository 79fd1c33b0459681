package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/cmd/fullstop-bench/internal/corpus"
)

// The steady-state bucket: small synthetic objects in a few folders.
var (
	steadyAccounts = []string{"111111111111", "222222222222"}
	steadyRegions  = []string{"eu-central-1", "us-east-1"}
)

const (
	steadyFilesPerDay = 3  // per account and region
	steadyRecords     = 20 // per object
	steadyNewFiles    = 5
	steadyLookback    = "48h"
)

// steadyResult is one steady-state measurement: the second `fullstop run`
// over a bucket, after a first one filled the ledger and steadyNewFiles
// objects arrived.
type steadyResult struct {
	days     int // of history in the bucket
	objects  int // in the bucket before the new files
	fill     map[string]int
	requests map[string]int
	summary  batchSummary
	meas     *measurement
	problem  string
}

// steady builds a bucket with days of history (dated back from today,
// UTC), runs `fullstop run` once to fill the ledger, adds the new files and
// measures a second run through the counting proxy.
func (e *env) steady(ctx context.Context, pool *corpus.Pool, days int) (*steadyResult, error) {
	bucket := fmt.Sprintf("steady-%dd", days)
	if err := e.minio.createBucket(ctx, bucket); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(e.o.seed, uint64(days)))
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	var objs []s3Object
	add := func(acct, region string, t time.Time) error {
		body, _, err := pool.GzipDocument(rng, steadyRecords, acct, region, t)
		if err != nil {
			return err
		}
		objs = append(objs, s3Object{corpus.ObjectKey(rng, acct, region, t), body})
		return nil
	}
	for d := days - 1; d >= 0; d-- {
		day := today.AddDate(0, 0, -d)
		for _, acct := range steadyAccounts {
			for _, region := range steadyRegions {
				for range steadyFilesPerDay {
					span := 24 * time.Hour
					if d == 0 {
						span = now.Sub(today) // today's files are from before now
					}
					t := day.Add(time.Duration(rng.Int64N(int64(span) + 1))).Truncate(time.Minute)
					if err := add(acct, region, t); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	if err := e.putAll(ctx, bucket, objs); err != nil {
		return nil, err
	}
	res := &steadyResult{days: days, objects: len(objs)}

	proxy, err := startProxy(e.minio.Endpoint)
	if err != nil {
		return nil, err
	}
	defer proxy.close()
	dbURL, drop, err := e.pg.freshDatabase(ctx, bucket)
	if err != nil {
		return nil, err
	}
	defer drop()
	runEnv := childEnv(append(e.minio.env(), "DATABASE_URL="+dbURL)...)
	args := []string{"--log-level", "warn", "run", "--lookback", steadyLookback,
		"--source", "s3://" + bucket, "--s3-endpoint", proxy.url}
	if _, err := measure(ctx, e.o.log, runEnv, e.o.fullstop, args...); err != nil {
		return nil, err
	}
	res.fill = proxy.take()

	objs = objs[:0]
	at := time.Now().UTC().Truncate(time.Minute)
	for i := range steadyNewFiles {
		if err := add(steadyAccounts[i%len(steadyAccounts)], steadyRegions[(i/len(steadyAccounts))%len(steadyRegions)], at); err != nil {
			return nil, err
		}
	}
	if err := e.putAll(ctx, bucket, objs); err != nil {
		return nil, err
	}
	proxy.take()
	if res.meas, err = measure(ctx, e.o.log, runEnv, e.o.fullstop, args...); err != nil {
		return nil, err
	}
	res.requests = proxy.take()
	if res.summary, err = parseSummary(res.meas.Stdout); err != nil {
		return nil, err
	}
	var problems []string
	if res.summary.processed != steadyNewFiles || res.summary.failed != 0 {
		problems = append(problems, fmt.Sprintf("%d objects processed and %d failed, want the %d new ones", res.summary.processed, res.summary.failed, steadyNewFiles))
	}
	if res.requests[reqGet] != steadyNewFiles {
		problems = append(problems, fmt.Sprintf("%d GET requests, want one per new object (%d)", res.requests[reqGet], steadyNewFiles))
	}
	if res.requests[reqList] != res.summary.listCalls {
		problems = append(problems, fmt.Sprintf("%d LIST requests through the proxy, fullstop counted %d", res.requests[reqList], res.summary.listCalls))
	}
	res.problem = strings.Join(problems, "; ")
	e.o.log.Info("steady state measured", logDays, days, logObjects, res.objects, logRequests, res.requests,
		logFillRequests, res.fill, logWall, res.meas.Wall.Round(time.Millisecond), logProblem, res.problem)
	return res, nil
}

// s3Object is an object to upload.
type s3Object struct {
	key  string
	body []byte
}

// putAll uploads objects straight to MinIO, not through the proxy.
func (e *env) putAll(ctx context.Context, bucket string, objs []s3Object) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, o := range objs {
		g.Go(func() error { return e.minio.put(gctx, bucket, o.key, o.body) })
	}
	return g.Wait()
}

// longWindowYears is the length of the long window: a backfill over years
// in which only the corpus's few days hold logs.
const longWindowYears = 10

// windowResult is the listing cost of one backfill window over the corpus
// bucket: a first run that processes the corpus, and a second one over the
// same window, with the ledger full, that only lists.
type windowResult struct {
	label    string
	from, to time.Time
	first    map[string]int // requests of the first run
	second   map[string]int // of the second
	firstS   batchSummary
	secondS  batchSummary
	firstM   *measurement
	secondM  *measurement
	problem  string
}

// longWindow runs `fullstop backfill` over the corpus bucket twice for each
// of two windows ending on the corpus's last day: the corpus's own days,
// and longWindowYears years. Requests are counted by a proxy.
func (e *env) longWindow(ctx context.Context) ([]*windowResult, error) {
	to := e.corpus.To
	windows := []*windowResult{
		{label: plural(e.corpus.Config.Days, "day") + " (the corpus's)", from: e.corpus.From, to: to},
		{label: plural(longWindowYears, "year"), from: to.AddDate(-longWindowYears, 0, 0), to: to},
	}
	proxy, err := startProxy(e.minio.Endpoint)
	if err != nil {
		return nil, err
	}
	defer proxy.close()
	for i, w := range windows {
		dbURL, drop, err := e.pg.freshDatabase(ctx, fmt.Sprintf("window%d", i))
		if err != nil {
			return nil, err
		}
		runEnv := childEnv(append(e.minio.env(), "DATABASE_URL="+dbURL)...)
		args := []string{"--log-level", "warn", "backfill", "--source", "s3://" + corpusBucket, "--s3-endpoint", proxy.url,
			"--from", w.from.Format(time.DateOnly), "--to", w.to.Format(time.DateOnly), "--progress=false"}
		proxy.take()
		if w.firstM, err = measure(ctx, e.o.log, runEnv, e.o.fullstop, args...); err == nil {
			w.first = proxy.take()
			w.firstS, err = parseSummary(w.firstM.Stdout)
		}
		if err == nil {
			if w.secondM, err = measure(ctx, e.o.log, runEnv, e.o.fullstop, args...); err == nil {
				w.second = proxy.take()
				w.secondS, err = parseSummary(w.secondM.Stdout)
			}
		}
		drop()
		if err != nil {
			return nil, fmt.Errorf("window %s: %w", w.label, err)
		}
		var problems []string
		if w.firstS.processed != e.corpus.Files || w.firstS.events != e.corpus.Events {
			problems = append(problems, fmt.Sprintf("first run processed %d objects, %d events; the corpus has %d, %d",
				w.firstS.processed, w.firstS.events, e.corpus.Files, e.corpus.Events))
		}
		if w.secondS.processed != 0 || w.secondS.listed != e.corpus.Files {
			problems = append(problems, fmt.Sprintf("second run listed %d and processed %d objects, want %d and 0",
				w.secondS.listed, w.secondS.processed, e.corpus.Files))
		}
		if w.first[reqList] != w.firstS.listCalls || w.second[reqList] != w.secondS.listCalls {
			problems = append(problems, fmt.Sprintf("LIST requests through the proxy %d and %d, fullstop counted %d and %d",
				w.first[reqList], w.second[reqList], w.firstS.listCalls, w.secondS.listCalls))
		}
		w.problem = strings.Join(problems, "; ")
		e.o.log.Info("window measured", logWindow, w.label, logFirst, w.first, logSecond, w.second,
			logFirstWall, w.firstM.Wall.Round(time.Millisecond), logSecondWall, w.secondM.Wall.Round(time.Millisecond), logProblem, w.problem)
	}
	return windows, nil
}
