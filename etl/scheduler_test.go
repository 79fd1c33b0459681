package etl_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl"
)

// every is a schedule due every d.
type every time.Duration

func (e every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// countingBatches records the batches run and can block in them until
// their context ends.
type countingBatches struct {
	mu       sync.Mutex
	windows  [][2]time.Time
	running  int
	overlap  bool
	block    bool
	blocking chan struct{} // receives when a blocking batch started
	err      error
}

func (b *countingBatches) Run(ctx context.Context, from, to time.Time) (*etl.Result, error) {
	b.mu.Lock()
	b.windows = append(b.windows, [2]time.Time{from, to})
	b.running++
	if b.running > 1 {
		b.overlap = true
	}
	block := b.block
	b.mu.Unlock()
	if block {
		b.blocking <- struct{}{}
		<-ctx.Done()
	}
	b.mu.Lock()
	b.running--
	b.mu.Unlock()
	return &etl.Result{Interrupted: ctx.Err() != nil}, b.err
}

func (b *countingBatches) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.windows)
}

func newScheduler(t *testing.T, b etl.BatchRunner, s etl.Schedule, done func(*etl.Result, error)) *etl.Scheduler {
	t.Helper()
	sch, err := etl.NewScheduler(etl.SchedulerConfig{Batches: b, Schedule: s, Lookback: 3 * time.Hour, Done: done})
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestScheduler_runsAtStartAndOnSchedule(t *testing.T) {
	t.Parallel()
	b := &countingBatches{}
	sch := newScheduler(t, b, every(5*time.Millisecond), nil)
	select {
	case <-sch.Stopped():
	default:
		t.Fatal("a scheduler that never started is not stopped")
	}
	start := time.Now()
	if err := sch.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-sch.Started()
	if err := sch.Start(context.Background()); err == nil {
		t.Error("second Start succeeded, want an error")
	}
	waitFor(t, "three batches", func() bool { return b.count() >= 3 })
	sch.Stop()
	<-sch.Stopped()
	n := b.count()
	time.Sleep(20 * time.Millisecond)
	if b.count() != n {
		t.Errorf("batches ran after Stop: %d, then %d", n, b.count())
	}
	sch.Stop() // idempotent
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.overlap {
		t.Error("two batches ran at once")
	}
	// Each batch reads the look-back window of its start.
	w := b.windows[0]
	if got := w[1].Sub(w[0]); got != 4*time.Hour {
		t.Errorf("window %v long, want the 3h look-back plus the hour ahead", got)
	}
	if w[0].Before(start.Add(-3*time.Hour-time.Second)) || w[0].After(time.Now().Add(-3*time.Hour)) || w[0].Location() != time.UTC {
		t.Errorf("window starts at %v, want 3h before the batch, in UTC", w[0])
	}
}

func TestScheduler_stopEndsTheRunningBatchAndCanRestart(t *testing.T) {
	t.Parallel()
	b := &countingBatches{block: true, blocking: make(chan struct{})}
	var mu sync.Mutex
	var interrupted []bool
	sch := newScheduler(t, b, every(time.Hour), func(r *etl.Result, err error) {
		mu.Lock()
		interrupted = append(interrupted, r.Interrupted)
		mu.Unlock()
	})
	sch.Stop() // before Start: nothing happens
	for round := 1; round <= 2; round++ {
		if err := sch.Start(context.Background()); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		<-b.blocking
		sch.Stop()
		mu.Lock()
		if len(interrupted) != round || !interrupted[round-1] {
			t.Errorf("round %d: batches seen by Done %v, want the running one interrupted", round, interrupted)
		}
		mu.Unlock()
	}
}

func TestScheduler_cancelledContextStops(t *testing.T) {
	t.Parallel()
	b := &countingBatches{err: errors.New("source down")}
	sch := newScheduler(t, b, every(time.Millisecond), nil)
	ctx, cancel := context.WithCancel(context.Background())
	if err := sch.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed batch and another", func() bool { return b.count() >= 2 }) // a failed batch does not stop it
	cancel()
	select {
	case <-sch.Stopped():
	case <-time.After(10 * time.Second):
		t.Fatal("not stopped after its context was cancelled")
	}
	sch.Stop()
}

func TestNewScheduler_errors(t *testing.T) {
	t.Parallel()
	for _, cfg := range []etl.SchedulerConfig{
		{Schedule: every(time.Second)},
		{Batches: &countingBatches{}},
		{Batches: &countingBatches{}, Schedule: every(time.Second), Lookback: -time.Hour},
	} {
		if _, err := etl.NewScheduler(cfg); err == nil {
			t.Errorf("NewScheduler(%+v) succeeded, want an error", cfg)
		}
	}
}

func TestLookbackWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	from, to := etl.LookbackWindow(now, 48*time.Hour)
	if want := time.Date(2026, 11, 30, 8, 30, 0, 0, time.UTC); !from.Equal(want) || from.Location() != time.UTC {
		t.Errorf("from %v, want %v", from, want)
	}
	if want := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC); !to.Equal(want) {
		t.Errorf("to %v, want %v", to, want)
	}
}
