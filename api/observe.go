package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Keys of the package's log attributes.
const (
	logDuration  = "duration"
	logErr       = "err"
	logMethod    = "method"
	logPrincipal = "principal"
	logRoute     = "route"
	logStatus    = "status"
)

// requestMetrics are the API's Prometheus metrics. Their labels are the
// route pattern (never the raw path), the method and the status: bounded.
type requestMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newRequestMetrics(reg prometheus.Registerer) (*requestMetrics, error) {
	m := &requestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fullstop_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fullstop_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// knownMethods keeps the method label bounded.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodPatch: true,
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// principalKey holds, in a request's context, where the handler leaves the
// principal's id for the access log.
type principalKey struct{}

// setPrincipal records the principal of r for the access log.
func setPrincipal(r *http.Request, uid string) {
	if p, ok := r.Context().Value(principalKey{}).(*string); ok {
		*p = uid
	}
}

// observe writes one access-log line per request (never a header or a
// token), counts it in the metrics, and turns a panic into a 500.
func (s *server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		uid := ""
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, &uid))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panicked", logMethod, r.Method, logRoute, r.Pattern, logErr, v)
				if sw.status == 0 {
					writeProblem(sw, r, errorf(http.StatusInternalServerError, "internal error"))
				}
			}
			d := time.Since(start)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			route := r.Pattern
			switch {
			case r.Method == http.MethodOptions:
				route = "OPTIONS"
			case route == "/":
				route = "unmatched"
			}
			method := r.Method
			if !knownMethods[method] {
				method = "other"
			}
			s.metrics.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
			s.metrics.duration.WithLabelValues(route, method).Observe(d.Seconds())
			if r.URL.Path == metricsPath || r.URL.Path == healthPath {
				return
			}
			s.log.Info("request", logMethod, r.Method, logRoute, route, logStatus, status,
				logDuration, d.Round(time.Microsecond), logPrincipal, uid)
		}()
		next.ServeHTTP(sw, r)
	})
}
