package etl

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the pipeline's Prometheus counters. Labels stay bounded: an
// outcome or a result, never a key, an account or an ARN.
type Metrics struct {
	// Objects counts listed objects by what became of them: done, failed
	// (content), unread (source or rules failed), gone, others (another
	// batch had them), already_done, quarantined.
	Objects *prometheus.CounterVec
	// Rewritten counts objects found with another ETag or size than the
	// ledger held as done: for an audit trail, itself a finding.
	Rewritten prometheus.Counter
	// Batches counts batches by result: done, failed, interrupted.
	Batches *prometheus.CounterVec
	// Events counts the CloudTrail records of the objects done.
	Events prometheus.Counter
	// Violations counts the violations of the objects done by result: new
	// (stored for the first time) or seen_again (already stored).
	Violations *prometheus.CounterVec
	// Lifecycles counts the application lifecycle rows stored.
	Lifecycles prometheus.Counter
}

// NewMetrics returns the pipeline's counters, registered with reg (nil:
// not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fullstop_objects_total",
			Help: "Log objects listed by batches, by outcome.",
		}, []string{"outcome"}),
		Rewritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fullstop_objects_rewritten_total",
			Help: "Log objects found with another ETag or size than the ledger held as done; they are read again.",
		}),
		Batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fullstop_batches_total",
			Help: "Batches run, by result.",
		}, []string{"result"}),
		Events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fullstop_events_total",
			Help: "CloudTrail records of the log objects done.",
		}),
		Violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fullstop_violations_total",
			Help: "Violations found in the log objects done, by result: new or seen_again.",
		}, []string{"result"}),
		Lifecycles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fullstop_lifecycles_total",
			Help: "Application lifecycle rows stored (reference §4.12), each once.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Objects, m.Rewritten, m.Batches, m.Events, m.Violations, m.Lifecycles)
	}
	return m
}

// observe counts one batch's result.
func (m *Metrics) observe(res *Result, err error) {
	if m == nil || res == nil {
		return
	}
	for outcome, n := range map[string]int{
		"done": res.Objects, "failed": len(res.Failed), "unread": len(res.Unread), "gone": res.Gone,
		"others": res.Others, "already_done": res.AlreadyDone, "quarantined": res.Quarantined,
	} {
		m.Objects.WithLabelValues(outcome).Add(float64(n))
	}
	m.Rewritten.Add(float64(res.Rewritten))
	m.Events.Add(float64(res.Events))
	m.Violations.WithLabelValues("new").Add(float64(res.New))
	m.Violations.WithLabelValues("seen_again").Add(float64(res.SeenAgain))
	m.Lifecycles.Add(float64(res.Lifecycles))
	switch {
	case err != nil:
		m.Batches.WithLabelValues("failed").Inc()
	case res.Interrupted:
		m.Batches.WithLabelValues("interrupted").Inc()
	default:
		m.Batches.WithLabelValues("done").Inc()
	}
}
