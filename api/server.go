package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fullstop-audit/fullstop/api/auth"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store"
)

// Store is the database the API reads and writes; store.Store implements
// it.
type Store interface {
	Ping(ctx context.Context) error
	ViolationPage(ctx context.Context, f store.ViolationFilter, sorts []store.Sort, offset, limit int) ([]store.Violation, int64, error)
	ViolationByID(ctx context.Context, id int64) (store.Violation, error)
	ViolationCreate(ctx context.Context, v rules.Violation, user string) (bool, error)
	ViolationResolve(ctx context.Context, id int64, comment, user string) (store.Violation, error)
	ViolationReopen(ctx context.Context, id int64, user string) (store.Violation, error)
	ViolationTypes(ctx context.Context) ([]store.ViolationType, error)
	ViolationCountByAccount(ctx context.Context, f store.ViolationFilter) ([]store.AccountTypeCount, error)
	ViolationCountByApplication(ctx context.Context, account string, f store.ViolationFilter) ([]store.ApplicationTypeCount, error)
	WhitelistRules(ctx context.Context) ([]store.StoredWhitelistRule, error)
	WhitelistRule(ctx context.Context, id int64) (store.StoredWhitelistRule, error)
	WhitelistRuleCreate(ctx context.Context, r rules.WhitelistRule, expiry time.Time, user string) (store.StoredWhitelistRule, error)
	WhitelistRuleReplace(ctx context.Context, id int64, r rules.WhitelistRule, expiry time.Time, user string) (store.StoredWhitelistRule, error)
	WhitelistRuleExpire(ctx context.Context, id int64, expiry time.Time, user string) error
	WhitelistRuleApply(ctx context.Context, id int64, dryRun bool, user string) (int, error)
	LifecyclePage(ctx context.Context, f store.LifecycleFilter, sorts []store.Sort, offset, limit int) ([]store.Lifecycle, int64, error)
	LifecycleAddBoot(ctx context.Context, b store.InstanceBoot, user string) (bool, error)
	JobRuns(ctx context.Context, job string, limit int) ([]store.JobRun, error)
}

var _ Store = (*store.Store)(nil)

// Verifier identifies the caller from the bearer token ("" when the
// request has none). Its errors wrap auth.ErrUnauthorized,
// auth.ErrForbidden or auth.ErrUnavailable.
type Verifier interface {
	Verify(ctx context.Context, token string) (auth.Principal, error)
}

// Rights decides what a principal may change; its errors (the team service
// did not answer) wrap auth.ErrUnavailable.
type Rights interface {
	// MayResolve reports whether p may resolve violations of account.
	MayResolve(ctx context.Context, p auth.Principal, account string) (bool, error)
	// MayEditWhitelist reports whether p is in one of the teams.
	MayEditWhitelist(ctx context.Context, p auth.Principal, teams []string) (bool, error)
}

// Scope a caller needs to submit violations.
const ScopeViolationWrite = "fullstop.violation.write"

// DefaultMaxBodyBytes is the largest request body accepted by default.
const DefaultMaxBodyBytes = 1 << 20

// Config configures the API handler.
type Config struct {
	Store    Store
	Verifier Verifier // required
	// Rights checks resolution and whitelisting rights; nil gives them
	// only to a principal with every right (auth.None).
	Rights       Rights
	AllowedTeams []string // teams that may change whitelisting rules (default stups)
	Log          *slog.Logger
	// Registerer receives the request metrics; Gatherer is what /metrics
	// serves. nil: prometheus.DefaultRegisterer / DefaultGatherer.
	Registerer   prometheus.Registerer
	Gatherer     prometheus.Gatherer
	MaxBodyBytes int64 // default DefaultMaxBodyBytes
	// InstanceData is the instance-data bucket POST /api/instance-logs
	// writes to; nil: that route answers 503. InstanceDataName names it
	// in the lifecycle rows' userdata_path (bucket[/prefix]).
	InstanceData     InstanceData
	InstanceDataName string
	// Jobs runs the scheduled AWS scans; nil: GET /api/jobs lists none.
	Jobs Jobs
}

// server holds the handlers' dependencies.
type server struct {
	st       Store
	verifier Verifier
	rights   Rights
	teams    []string
	log      *slog.Logger
	maxBody  int64
	metrics  *requestMetrics
	routes   []route
	allowed  map[string][]string // path: methods

	instanceData     InstanceData
	instanceDataName string
	jobs             Jobs
}

// New returns the API's handler: every route of Routes, /health, /metrics
// and /api/openapi.yaml.
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil || cfg.Verifier == nil {
		return nil, errors.New("api: Config.Store and Config.Verifier are required")
	}
	s := &server{
		st: cfg.Store, verifier: cfg.Verifier, rights: cfg.Rights, teams: cfg.AllowedTeams,
		log: cfg.Log, maxBody: cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes),
		instanceData: cfg.InstanceData, instanceDataName: cfg.InstanceDataName, jobs: cfg.Jobs,
	}
	if len(s.teams) == 0 {
		s.teams = []string{"stups"}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	reg := cmp.Or[prometheus.Registerer](cfg.Registerer, prometheus.DefaultRegisterer)
	gat := cmp.Or[prometheus.Gatherer](cfg.Gatherer, prometheus.DefaultGatherer)
	m, err := newRequestMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.routes = apiRoutes()
	doc, err := openAPIDocument(s.routes)
	if err != nil {
		return nil, fmt.Errorf("api: build the OpenAPI document: %w", err)
	}

	mux := http.NewServeMux()
	s.allowed = map[string][]string{
		openAPIPath: {http.MethodGet}, healthPath: {http.MethodGet}, metricsPath: {http.MethodGet},
	}
	for _, rt := range s.routes {
		mux.Handle(rt.method+" "+rt.path, s.handler(rt))
		s.allowed[rt.path] = append(s.allowed[rt.path], rt.method)
	}
	// A known path asked with another method: 405 with a problem body.
	for p := range s.allowed {
		mux.Handle(p, http.HandlerFunc(s.methodNotAllowed))
	}
	mux.Handle("GET "+openAPIPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(doc)
	}))
	mux.Handle("GET "+healthPath, http.HandlerFunc(s.health))
	mux.Handle("GET "+metricsPath, promhttp.HandlerFor(gat, promhttp.HandlerOpts{}))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, errorf(http.StatusNotFound, "no such resource: %s", r.URL.Path))
	}))
	return s.observe(cors(mux)), nil
}

// Paths served outside the route table.
const (
	openAPIPath = "/api/openapi.yaml"
	healthPath  = "/health"
	metricsPath = "/metrics"
)

func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := append(slices.Clone(s.allowed[r.Pattern]), http.MethodOptions)
	if slices.Contains(allow, http.MethodGet) {
		allow = append(allow, http.MethodHead)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, r, errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s", r.Method, r.Pattern))
}

// handler runs one route: the caller identified (auth), the parameters
// parsed, the body bounded, and an error answered as a problem.
func (s *server) handler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.principal(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		setPrincipal(r, p.UID)
		a, err := parseArgs(r, rt.params)
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		}
		if err := rt.handle(s, w, r, call{args: a, principal: p}); err != nil {
			s.fail(w, r, err)
		}
	})
}

// call is what a route's handler gets besides the request.
type call struct {
	args      *args
	principal auth.Principal
}

// principal verifies the request's bearer token.
func (s *server) principal(r *http.Request) (auth.Principal, error) {
	token := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			token = strings.TrimSpace(rest)
		} else {
			return auth.Principal{}, errorf(http.StatusUnauthorized, "the Authorization header must be a Bearer token")
		}
	}
	p, err := s.verifier.Verify(r.Context(), token)
	if err != nil {
		return auth.Principal{}, authError(err)
	}
	return p, nil
}

// authError turns a Verifier's or Rights' error into a problem.
func authError(err error) error {
	switch {
	case errors.Is(err, auth.ErrUnauthorized):
		return &httpError{status: http.StatusUnauthorized, detail: err.Error(), err: err}
	case errors.Is(err, auth.ErrForbidden):
		return &httpError{status: http.StatusForbidden, detail: err.Error(), err: err}
	case errors.Is(err, auth.ErrUnavailable):
		// The cause names internal hosts: logged, not shown.
		return &httpError{status: http.StatusServiceUnavailable, detail: "dependency unavailable: the identity provider or the team service did not answer", err: err}
	}
	return err
}

// fail answers a handler's error: store errors mapped to their status,
// the rest as they are.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
	case errors.As(err, &mbe):
		err = errorf(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, store.ErrNotFound):
		err = &httpError{status: http.StatusNotFound, detail: "not found", err: err}
	case errors.Is(err, store.ErrUnavailable):
		err = &httpError{status: http.StatusServiceUnavailable, detail: "the database is unavailable", err: err}
	case errors.Is(err, auth.ErrUnavailable):
		err = authError(err)
	case errors.Is(err, context.Canceled):
		// The client went away; the status is for the log.
		err = &httpError{status: 499, detail: "client closed the request", err: err}
	}
	if !errors.As(err, &he) || he.status >= 500 {
		s.log.Error("request failed", logMethod, r.Method, logRoute, r.Pattern, logErr, err)
	}
	writeProblem(w, r, err)
}

// health answers 200 when the database answers, 503 otherwise.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		// The cause names the database's host: logged, not shown.
		s.log.Warn("health: the database does not answer", logErr, err)
		_ = writeJSON(w, http.StatusServiceUnavailable, Health{Status: "DOWN", Database: "DOWN", Error: "the database does not answer"})
		return
	}
	_ = writeJSON(w, http.StatusOK, Health{Status: "UP", Database: "UP"})
}

// cors sets the reference's CORS headers on every answer and answers every
// OPTIONS request (a preflight) itself, without authentication.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS, DELETE, PUT")
		h.Set("Access-Control-Max-Age", "3600")
		h.Set("Access-Control-Allow-Headers", "Content-Type, x-requested-with, Authorization")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Server timeouts: a client that sends its headers or body slowly, or
// keeps an idle connection, cannot hold a connection for ever.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 2 * time.Minute
	IdleTimeout       = 2 * time.Minute
)

// NewServer returns an http.Server for h with the package's timeouts.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: 64 << 10}
}
