//go:build duckdb_arrow

package etl_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
)

// failingSource wraps a real source; Open fails as a broken network does
// for the keys fail selects.
type failingSource struct {
	etl.Source
	fail  func(key string) bool
	opens atomic.Int64
}

func (s *failingSource) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	s.opens.Add(1)
	if s.fail(key) {
		return nil, fmt.Errorf("open object %q: %w", key, syscall.ECONNREFUSED)
	}
	return s.Source.Open(ctx, key)
}

func TestPipeline_SourceFailuresLeaveTheLedgerUntouched(t *testing.T) {
	t.Parallel()
	clean := newEnv(t, fileSource(t, invictusRoot), "")
	clean.run(t, nil, day, nextDay)
	want, wantLedger := clean.violations(t), clean.ledger(t)

	// Every third object cannot be read: they are handed back, nothing is
	// recorded about them, the run goes on (no three in a row).
	var n atomic.Int64
	src := &failingSource{Source: fileSource(t, invictusRoot)}
	bad := map[string]bool{}
	src.fail = func(key string) bool {
		return bad[key]
	}
	e := newEnv(t, src, "")
	cands, _, err := (&etl.Lister{Source: src}).ListRange(context.Background(), day, nextDay)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cands {
		if i%3 == 1 { // never two in a row, even where the feed wraps around
			bad[c.Object.Key] = true
			n.Add(1)
		}
	}
	res := e.run(t, func(c *etl.Config) { c.Workers = 1; c.Fetchers = 1; c.MaxAttempts = 1; c.SourceFailureLimit = 2 }, day, nextDay)
	if len(res.Unread) != int(n.Load()) || len(res.Failed) != 0 || res.Objects != 55-int(n.Load()) {
		t.Fatalf("run with source failures: %d unread, %d failed, %d processed; want %d, 0, %d", len(res.Unread), len(res.Failed), res.Objects, n.Load(), 55-n.Load())
	}
	if got := len(e.ledger(t)); got != 55-int(n.Load()) {
		t.Fatalf("ledger has %d rows, want only the %d objects read", got, 55-n.Load())
	}
	// The source is back: the next run reads exactly the rest.
	clear(bad)
	rest := e.run(t, nil, day, nextDay)
	if rest.Objects != int(n.Load()) || rest.Quarantined != 0 {
		t.Fatalf("run after the outage: %+v", rest)
	}
	if got := e.violations(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("violations after the outage differ from a clean run")
	}
	if got := e.ledger(t); fmt.Sprint(got) != fmt.Sprint(wantLedger) {
		t.Fatalf("ledger after the outage differs from a clean run")
	}
}

func TestPipeline_SourceDownStopsTheBatch(t *testing.T) {
	t.Parallel()
	src := &failingSource{Source: fileSource(t, invictusRoot), fail: func(string) bool { return true }}
	e := newEnv(t, src, "")
	res, err := e.pipeline(t, func(c *etl.Config) { c.Workers = 1; c.Fetchers = 2; c.SourceFailureLimit = 5 }).Run(context.Background(), day, nextDay)
	var se *etl.SourceError
	if !errors.As(err, &se) || se.Failures != 5 || !strings.Contains(err.Error(), src.String()) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("run against a dead source: %v; want a SourceError naming %s after 5 failures", err, src)
	}
	// It stopped early: far fewer than 55 opens, nothing in the ledger.
	if opens := src.opens.Load(); opens >= 55 {
		t.Fatalf("%d opens against a dead source, want an early stop", opens)
	}
	if res.Objects != 0 || len(res.Failed) != 0 || len(e.ledger(t)) != 0 {
		t.Fatalf("result %+v, ledger %v: want nothing recorded", res, e.ledger(t))
	}
	// Every claim was given back: another holder gets every object.
	cands, _, err := (&etl.Lister{Source: src}).ListRange(context.Background(), day, nextDay)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(cands))
	for i, c := range cands {
		keys[i] = c.Object.Key
	}
	got, err := e.st.LedgerClaim(context.Background(), "probe", keys, time.Minute)
	if err != nil || len(got) != len(keys) {
		t.Fatalf("probe claimed %d of %d objects (%v): claims were left behind", len(got), len(keys), err)
	}
}

// pickyEvaluator fails whenever the batches hold an event of the object
// poison.
type pickyEvaluator struct {
	etl.Evaluator
	poison string
}

func (p *pickyEvaluator) Evaluate(ctx context.Context, batches []arrow.RecordBatch) (rules.Findings, error) {
	for _, b := range batches {
		col := b.Column(b.Schema().FieldIndices("object_key")[0])
		for i := 0; i < int(b.NumRows()); i++ {
			if col.ValueStr(i) == p.poison {
				return rules.Findings{}, errors.New("simulated rule failure")
			}
		}
	}
	return p.Evaluator.Evaluate(ctx, batches)
}

func TestPipeline_RuleFailureHoldsBackOnlyItsObject(t *testing.T) {
	t.Parallel()
	src := fileSource(t, invictusRoot)
	e := newEnv(t, src, "")
	cands, _, err := (&etl.Lister{Source: src}).ListRange(context.Background(), day, nextDay)
	if err != nil {
		t.Fatal(err)
	}
	poison := cands[7].Object.Key
	res := e.run(t, func(c *etl.Config) {
		c.Evaluator = &pickyEvaluator{Evaluator: e.engine, poison: poison}
		c.Workers, c.GroupSize, c.EvalEvents = 1, 64, 1_000_000
	}, day, nextDay)
	if res.Objects != 54 || len(res.Unread) != 1 || res.Unread[0].Key != poison || len(res.Failed) != 0 {
		t.Fatalf("run with one object the rules fail on: %d processed, unread %v, failed %v", res.Objects, res.Unread, res.Failed)
	}
	if _, ok := e.ledger(t)[poison]; ok {
		t.Fatalf("the object the rules failed on is in the ledger")
	}
}

// flakyLake is an events lake that cannot store the objects fail selects,
// as an S3 lake does in an outage; it counts what it stored.
type flakyLake struct {
	fail   func(key string) bool
	stored atomic.Int64
}

func (l *flakyLake) LakeWrite(ctx context.Context, c etl.Candidate, _ []arrow.RecordBatch) error {
	if l.fail(c.Object.Key) {
		return fmt.Errorf("put %q: %w", c.Object.Key, syscall.ECONNRESET)
	}
	l.stored.Add(1)
	return nil
}

// An object the lake cannot take is handed back untouched, like one the
// source cannot give: it is not committed, so the ledger never holds an
// object whose events are missing from the lake; the next run takes it.
// A lake that is down stops the batch.
func TestPipeline_LakeFailuresLeaveTheLedgerUntouched(t *testing.T) {
	t.Parallel()
	src := fileSource(t, invictusRoot)
	e := newEnv(t, src, "")
	cands, _, err := (&etl.Lister{Source: src}).ListRange(context.Background(), day, nextDay)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]bool{cands[3].Object.Key: true, cands[20].Object.Key: true}
	lk := &flakyLake{fail: func(k string) bool { return bad[k] }}
	res := e.run(t, func(c *etl.Config) { c.Lake = lk; c.Workers = 1; c.SourceFailureLimit = 3 }, day, nextDay)
	if res.Objects != 53 || len(res.Unread) != 2 || !strings.Contains(res.Unread[0].Reason, "write the events to the lake") {
		t.Fatalf("run with a flaky lake: %d processed, unread %+v", res.Objects, res.Unread)
	}
	ledger := e.ledger(t)
	for k := range bad {
		if _, ok := ledger[k]; ok {
			t.Fatalf("object %s is in the ledger although the lake did not take its events", k)
		}
	}
	if lk.stored.Load() != 53 {
		t.Fatalf("the lake stored %d objects, want 53", lk.stored.Load())
	}
	clear(bad)
	if rest := e.run(t, func(c *etl.Config) { c.Lake = lk }, day, nextDay); rest.Objects != 2 {
		t.Fatalf("the run after the outage processed %d objects, want the 2 left", rest.Objects)
	}

	// A lake that is down: the batch stops after SourceFailureLimit.
	down := &flakyLake{fail: func(string) bool { return true }}
	e2 := newEnv(t, src, "")
	_, err = e2.pipeline(t, func(c *etl.Config) { c.Lake = down; c.Workers = 1; c.SourceFailureLimit = 4 }).Run(context.Background(), day, nextDay)
	var se *etl.SourceError
	if !errors.As(err, &se) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("run against a dead lake: %v, want a SourceError", err)
	}
	if n := len(e2.ledger(t)); n != 0 {
		t.Fatalf("%d objects in the ledger with a dead lake", n)
	}
}
