package jobs

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the jobs' Prometheus counters, by job (a bounded label).
type Metrics struct {
	Runs       *prometheus.CounterVec // runs finished, by job
	Targets    *prometheus.CounterVec // targets scanned, by job and result (ok, failed)
	Violations *prometheus.CounterVec // violations stored, by job and result (new, seen_again)
}

// NewMetrics returns the counters, registered with reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fullstop_job_runs_total",
			Help: "Runs of the scheduled AWS scans that finished, by job."}, []string{"job"}),
		Targets: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fullstop_job_targets_total",
			Help: "Accounts (or account regions) the scheduled scans scanned, by job and result."}, []string{"job", "result"}),
		Violations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fullstop_job_violations_total",
			Help: "Violations the scheduled scans stored, by job and result: new or seen_again."}, []string{"job", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.Runs, m.Targets, m.Violations)
	}
	return m
}

func (m *Metrics) target(job string, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.Targets.WithLabelValues(job, result).Inc()
}

func (m *Metrics) run(job string, res Result) {
	if m == nil {
		return
	}
	m.Runs.WithLabelValues(job).Inc()
	m.Violations.WithLabelValues(job, "new").Add(float64(res.New))
	m.Violations.WithLabelValues(job, "seen_again").Add(float64(res.SeenAgain))
}
