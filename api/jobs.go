package api

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/fullstop-audit/fullstop/jobs"
	"github.com/fullstop-audit/fullstop/store"
)

// Scope a caller needs to trigger a job.
const ScopeJobWrite = "fullstop.job.write"

// Jobs is the scheduler of the AWS scans (jobs.Scheduler).
type Jobs interface {
	Jobs() []jobs.Info
	// Trigger starts a run now; jobs.ErrUnknownJob, jobs.ErrRunning.
	Trigger(ctx context.Context, name, user string) error
}

// JobRun is a recorded run of a job, as GET /api/jobs/{name}/runs shows it.
type JobRun struct {
	ID        int64             `json:"id"`
	Job       string            `json:"job"`
	Started   Time              `json:"started"`
	Finished  *Time             `json:"finished"` // null while it runs, or when its process died
	Accounts  []string          `json:"accounts"`
	Regions   []string          `json:"regions"`
	New       int               `json:"new"`        // violations stored new
	SeenAgain int               `json:"seen_again"` // violations stored already, seen again
	Errors    map[string]string `json:"errors"`     // failed account (or account/region): why
	StartedBy *string           `json:"started_by"` // null for the schedule
}

func (s *server) jobNames() []string {
	if s.jobs == nil {
		return []string{}
	}
	var names []string
	for _, j := range s.jobs.Jobs() {
		names = append(names, j.Name)
	}
	slices.Sort(names)
	return names
}

func (s *server) listJobs(w http.ResponseWriter, _ *http.Request, _ call) error {
	return writeJSON(w, http.StatusOK, s.jobNames())
}

func (s *server) runJob(w http.ResponseWriter, r *http.Request, c call) error {
	if !c.principal.HasScope(ScopeJobWrite) {
		return errorf(http.StatusForbidden, "running a job needs scope %s", ScopeJobWrite)
	}
	name := c.args.str("name")
	if s.jobs == nil {
		return errorf(http.StatusNotFound, "job %q does not exist (this server runs no jobs)", name)
	}
	err := s.jobs.Trigger(r.Context(), name, c.principal.UID)
	switch {
	case errors.Is(err, jobs.ErrUnknownJob):
		return &httpError{status: http.StatusNotFound, detail: "job " + name + " does not exist", err: err}
	case errors.Is(err, jobs.ErrRunning):
		return &httpError{status: http.StatusConflict, detail: "job " + name + " is running already", err: err}
	case err != nil:
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *server) listJobRuns(w http.ResponseWriter, r *http.Request, c call) error {
	name := c.args.str("name")
	if !slices.Contains(s.jobNames(), name) {
		return errorf(http.StatusNotFound, "job %q does not exist", name)
	}
	limit, ok := c.args.integer("size")
	if !ok {
		limit = 20
	}
	runs, err := s.st.JobRuns(r.Context(), name, int(limit))
	if err != nil {
		return err
	}
	out := make([]JobRun, len(runs))
	for i, x := range runs {
		out[i] = jobRunToJSON(x)
	}
	return writeJSON(w, http.StatusOK, out)
}

func jobRunToJSON(x store.JobRun) JobRun {
	j := JobRun{ID: x.ID, Job: x.Job, Started: Time(x.Started), Finished: isoPtr(x.Finished), Accounts: x.Accounts,
		Regions: x.Regions, New: x.New, SeenAgain: x.SeenAgain, Errors: x.Errors, StartedBy: x.StartedBy}
	if j.Errors == nil {
		j.Errors = map[string]string{}
	}
	return j
}
