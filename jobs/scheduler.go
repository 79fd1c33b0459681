package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"
)

// ErrUnknownJob is Trigger's error for a name no job has.
var ErrUnknownJob = errors.New("no such job")

// ScheduleEnv is the environment variable that sets a job's schedule:
// FULLSTOP_JOB_KEY_ROTATION_JOB_SCHEDULE for keyRotationJob.
func ScheduleEnv(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		// A word starts at an upper-case letter after a lower-case one,
		// or at the last upper-case letter of a run before a lower-case
		// one: crossAccountPolicyForIAMJob, fetchEC2Job.
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) ||
			i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return "FULLSTOP_JOB_" + b.String() + "_SCHEDULE"
}

// Info is a job as the scheduler shows it.
type Info struct {
	Name        string
	Description string
	Regional    bool
	Schedule    string // the cron expression, or "off"
}

// Scheduler runs jobs on their cron schedules and on request, in the
// background; river's service contract: Start, an idempotent Stop.
type Scheduler struct {
	runner *Runner
	jobs   []Job
	specs  map[string]string
	log    *slog.Logger

	mu      sync.Mutex
	cron    *cron.Cron
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup
}

// NewScheduler schedules jobs on runner, each by the expression of its
// ScheduleEnv variable (getenv; "off" disables it), else
// DefaultSchedules. A schedule that does not parse is an error naming the
// variable.
func NewScheduler(runner *Runner, jobs []Job, getenv func(string) string) (*Scheduler, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := &Scheduler{runner: runner, jobs: jobs, specs: map[string]string{}, log: runner.Log,
		cron: cron.New(cron.WithLocation(time.UTC))}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, j := range jobs {
		spec := strings.TrimSpace(getenv(ScheduleEnv(j.Name())))
		if spec == "" {
			spec = DefaultSchedules[j.Name()]
		}
		if spec == "" || spec == "off" {
			s.specs[j.Name()] = "off"
			continue
		}
		if _, err := s.cron.AddFunc(spec, func() { s.scheduled(j) }); err != nil {
			return nil, fmt.Errorf("%s: schedule %q of job %s: %w", ScheduleEnv(j.Name()), spec, j.Name(), err)
		}
		s.specs[j.Name()] = spec
	}
	return s, nil
}

// Jobs lists the jobs with their schedules, in order.
func (s *Scheduler) Jobs() []Info {
	out := make([]Info, len(s.jobs))
	for i, j := range s.jobs {
		out[i] = Info{Name: j.Name(), Description: j.Description(), Regional: j.Regional(), Schedule: s.specs[j.Name()]}
	}
	return out
}

// Start starts the schedules; runs get a context that Stop cancels.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx != nil {
		return nil
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.cron.Start()
	return nil
}

// Stop stops the schedules, cancels the runs in flight and waits for
// them (they record how far they got).
func (s *Scheduler) Stop() {
	s.mu.Lock()
	if s.ctx == nil {
		s.mu.Unlock()
		return
	}
	cancel := s.cancel
	s.mu.Unlock()
	<-s.cron.Stop().Done()
	cancel()
	s.running.Wait()
}

// Trigger starts a run of the job name now, in the background, for user.
// It returns ErrUnknownJob, or ErrRunning when the job runs already (here
// or in another process).
func (s *Scheduler) Trigger(ctx context.Context, name, user string) error {
	var job Job
	for _, j := range s.jobs {
		if j.Name() == name {
			job = j
		}
	}
	if job == nil {
		return fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	run, err := s.runner.Start(ctx, job, nil, user)
	if err != nil {
		return err
	}
	s.background(job, run)
	return nil
}

func (s *Scheduler) scheduled(j Job) {
	run, err := s.runner.Start(s.runCtx(), j, nil, "")
	if errors.Is(err, ErrRunning) {
		s.log.Info("job still running; this run is skipped", logJob, j.Name())
		return
	}
	if err != nil {
		s.log.Error("job did not start", logJob, j.Name(), logErr, err)
		return
	}
	s.background(j, run)
}

func (s *Scheduler) background(j Job, run func(context.Context) (Result, error)) {
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		if _, err := run(s.runCtx()); err != nil {
			s.log.Error("job failed", logJob, j.Name(), logErr, err)
		}
	}()
}

// runCtx is the context of runs: Start's, or a background one before
// Start (a trigger of a scheduler that was not started).
func (s *Scheduler) runCtx() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return context.Background()
	}
	return s.ctx
}
