package etl

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// DefaultLookback is how far back a recurring batch reads by default.
const DefaultLookback = 48 * time.Hour

// lookahead is how far past the clock a recurring batch reads: delivery
// times in object names may run a little ahead of this machine's clock.
const lookahead = time.Hour

// LookbackWindow returns the key-time range [from, to) a recurring batch
// started at now reads: from lookback before now to an hour after it.
// Every run re-reads the whole window, so files delivered late into it are
// found; the ledger skips what is done.
func LookbackWindow(now time.Time, lookback time.Duration) (from, to time.Time) {
	now = now.UTC()
	return now.Add(-lookback), now.Add(lookahead)
}

// Schedule says when a batch is due next after a time; a
// github.com/robfig/cron/v3 Schedule is one.
type Schedule interface {
	Next(time.Time) time.Time
}

// BatchRunner runs one batch over a key-time range; *Pipeline is one.
type BatchRunner interface {
	Run(ctx context.Context, from, to time.Time) (*Result, error)
}

// SchedulerConfig configures a Scheduler. Zero fields get the documented
// defaults.
type SchedulerConfig struct {
	Batches  BatchRunner   // runs the batches; required
	Schedule Schedule      // when batches are due; required
	Lookback time.Duration // the window of each batch, see LookbackWindow; default DefaultLookback
	Log      *slog.Logger  // receives one line per batch; default: discarded
	// Done, if set, is called after every batch with its result and error.
	Done func(*Result, error)
}

// Scheduler runs a batch when it starts and then whenever its schedule is
// due, one batch at a time: a batch still running when the next one is due
// makes that one be skipped. It follows river's service contract: Start
// returns at once and the batches run in the background until Stop, which
// is idempotent, or until Start's context is cancelled.
type Scheduler struct {
	cfg SchedulerConfig
	log *slog.Logger

	mu      sync.Mutex
	cancel  context.CancelFunc // nil when not running
	started chan struct{}      // closed once running
	stopped chan struct{}      // closed once stopped
}

// NewScheduler returns a scheduler that is not started.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Batches == nil || cfg.Schedule == nil {
		return nil, errors.New("scheduler: batches and schedule are required")
	}
	cfg.Lookback = cmp.Or(cfg.Lookback, DefaultLookback)
	if cfg.Lookback < 0 {
		return nil, errors.New("scheduler: lookback must be positive")
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stopped := make(chan struct{})
	close(stopped)
	return &Scheduler{cfg: cfg, log: log, started: make(chan struct{}), stopped: stopped}, nil
}

// Start runs the first batch at once, in the background, and the next ones
// on schedule. Cancelling ctx stops the scheduler as Stop does. Starting a
// running scheduler is an error; a stopped one may be started again.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return errors.New("scheduler: already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	started, stopped := s.started, make(chan struct{})
	s.stopped = stopped
	go func() {
		defer close(stopped)
		close(started)
		s.loop(ctx)
	}()
	return nil
}

// Stop stops the scheduler and returns when it has: a batch that is running
// stops after its current object group is committed. Stop does nothing on a
// scheduler that is not running.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	cancel, stopped := s.cancel, s.stopped
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-stopped
	s.mu.Lock()
	if s.stopped == stopped { // not started again meanwhile
		s.cancel = nil
		s.started = make(chan struct{})
	}
	s.mu.Unlock()
}

// Started returns a channel closed once the scheduler runs.
func (s *Scheduler) Started() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// Stopped returns a channel closed once the scheduler has stopped (at once
// if it never started).
func (s *Scheduler) Stopped() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// loop runs batches until ctx is done.
func (s *Scheduler) loop(ctx context.Context) {
	for {
		s.batch(ctx)
		next := s.cfg.Schedule.Next(time.Now())
		if next.IsZero() { // a schedule that is never due again
			<-ctx.Done()
			return
		}
		s.log.Debug("next batch", logNext, next)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// batch runs one batch over the look-back window.
func (s *Scheduler) batch(ctx context.Context) {
	from, to := LookbackWindow(time.Now(), s.cfg.Lookback)
	res, err := s.cfg.Batches.Run(ctx, from, to)
	if s.cfg.Done != nil {
		s.cfg.Done(res, err)
	}
	if err != nil {
		s.log.Error("batch failed", logErr, err)
		return
	}
	s.log.Info("batch done", logObjects, res.Objects, logFailed, len(res.Failed), logEvents, res.Events,
		logUnread, len(res.Unread), logOthers, res.Others, logNew, res.New, logSeenAgain, res.SeenAgain, logLifecycles, res.Lifecycles, logDuration, res.Duration.Round(time.Millisecond),
		logInterrupted, res.Interrupted)
}
