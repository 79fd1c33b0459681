package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// apiCaseNames are the cases, in the order they run.
var apiCaseNames = []string{"a", "b", "c", "d", "e", "f"}

// apiAim is a goal of the issue for a case: p99 at most P99 at Rate req/s.
type apiAim struct {
	P99  time.Duration
	Rate int
}

func (a *apiAim) String() string {
	if a == nil {
		return "—"
	}
	return fmt.Sprintf("p99 ≤ %d ms at %d/s", a.P99.Milliseconds(), a.Rate)
}

// apiCase is one endpoint and its parameters, measured as a max-rate and a
// fixed-rate attack.
type apiCase struct {
	name    string // a to f
	label   string
	targets []vegeta.Target // cycled through
	rate    int             // of the fixed-rate attack
	aim     *apiAim
	kind    string // what the answer is: page, violation, counts
}

// Number of target variants of the cases that cycle.
const (
	apiAccountSets = 8     // sets of 5 accounts of cases a and b
	apiIDTargets   = 10000 // violation ids of case d
)

// apiCases builds the cases over the data set ds, the server at base and
// the existing violation ids.
func apiCases(base string, ds *apiDataset, ids []int64, pageRate, countRate int, seed uint64) []apiCase {
	rng := rand.New(rand.NewPCG(seed, 0xca5e))
	get := func(path string) vegeta.Target { return vegeta.Target{Method: http.MethodGet, URL: base + path} }
	accounts := append([]string(nil), ds.Accounts...)
	rng.Shuffle(len(accounts), func(i, j int) { accounts[i], accounts[j] = accounts[j], accounts[i] })
	from := ds.Now.AddDate(0, 0, -30).UTC().Format("2006-01-02T15:04:05Z")
	var a, b []vegeta.Target
	for j := 0; j < apiAccountSets; j++ {
		set := make([]string, 5)
		for k := range set {
			set[k] = accounts[(5*j+k)%len(accounts)]
		}
		q := url.Values{"accounts": {strings.Join(set, ",")}, "size": {"100"}, "sort": {"id,desc"}}
		a = append(a, get("/api/violations?"+encodeOrdered(q, "accounts", "size", "sort")))
		// Two types of middling frequency (ds.Types is by frequency).
		t1, t2 := ds.Types[(2+j)%len(ds.Types)], ds.Types[(10+2*j)%len(ds.Types)]
		q.Set("types", t1+","+t2)
		q.Set("from", from)
		b = append(b, get("/api/violations?"+encodeOrdered(q, "accounts", "size", "sort", "types", "from")))
	}
	var d []vegeta.Target
	for _, id := range ids {
		d = append(d, get("/api/violations/"+strconv.FormatInt(id, 10)))
	}
	var f []vegeta.Target
	for _, acct := range accounts {
		f = append(f, get("/api/violation-count/"+acct))
	}
	pageAim := &apiAim{P99: 25 * time.Millisecond, Rate: 200}
	return []apiCase{
		{name: "a", label: "filtered page: 5 accounts, size=100, sort=id,desc", targets: a, rate: pageRate, aim: pageAim, kind: "page"},
		{name: "b", label: "filtered page: (a) + 2 types + from=30 days ago", targets: b, rate: pageRate, aim: pageAim, kind: "page"},
		{name: "c", label: "unfiltered page: size=100", targets: []vegeta.Target{get("/api/violations?size=100")}, rate: pageRate, kind: "page"},
		{name: "d", label: "one violation by id", targets: d, rate: pageRate, kind: "violation"},
		{name: "e", label: "GET /api/violation-count (all accounts)", targets: []vegeta.Target{get("/api/violation-count")}, rate: countRate,
			aim: &apiAim{P99: 300 * time.Millisecond, Rate: 5}, kind: "counts"},
		{name: "f", label: "GET /api/violation-count/{account}", targets: f, rate: countRate, kind: "counts"},
	}
}

// encodeOrdered encodes q with its keys in the given order (url.Values
// sorts them), commas left readable.
func encodeOrdered(q url.Values, keys ...string) string {
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, url.QueryEscape(k)+"="+strings.ReplaceAll(url.QueryEscape(v), "%2C", ","))
		}
	}
	return strings.Join(parts, "&")
}

// apiResult is what one case measured.
type apiResult struct {
	c          apiCase
	probe      string // what the first target answered
	fixed, sat *vegeta.Metrics
}

// non200 counts the answers of both attacks that were not 200 (errors
// without an answer count as code 0).
func (r apiResult) non200() int {
	n := 0
	for _, m := range []*vegeta.Metrics{r.fixed, r.sat} {
		if m == nil {
			continue
		}
		for code, k := range m.StatusCodes {
			if code != "200" {
				n += k
			}
		}
	}
	return n
}

// runAPIPhase starts a server over dbURL, runs the chosen cases against
// it and stops it; with --explain a second server prints the plans.
func runAPIPhase(ctx context.Context, o *apiOptions, pg *postgres, dbURL string, ds *apiDataset, label string, stdout io.Writer) ([]apiResult, error) {
	logDir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	srv, err := startServe(ctx, o.fullstop, dbURL, filepath.Join(logDir, "serve.log"))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	o.log.Info("api: serving", logServeURL, srv.base, logPhase, label)
	cases := apiCases(srv.base, ds, ds.IDs, o.pageRate, o.countRate, o.seed.Seed)
	client := &http.Client{Timeout: time.Minute}
	var out []apiResult
	for _, c := range cases {
		if !o.cases[c.name] {
			continue
		}
		probe, err := probeCase(ctx, client, c)
		if err != nil {
			return nil, fmt.Errorf("case (%s) %s: %w", c.name, c.label, err)
		}
		fmt.Fprintf(stdout, "(%s) %s: %d target(s), e.g. GET %s → %s\n", c.name, c.label, len(c.targets), strings.TrimPrefix(c.targets[0].URL, srv.base), probe)
		if o.warmup > 0 {
			_ = runAttack(ctx, c, 0, o.warmup, uint64(o.workers), uint64(o.workers))
		}
		r := apiResult{c: c, probe: probe}
		r.fixed = runAttack(ctx, c, c.rate, o.duration, uint64(o.workers), uint64(o.fixedMax))
		r.sat = runAttack(ctx, c, 0, o.duration, uint64(o.workers), uint64(o.workers))
		o.log.Info("api: measured", logCase, c.name, logRate, c.rate, logP99, r.fixed.Latencies.P99, logRPS, int(r.sat.Throughput))
		out = append(out, r)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	srv.stop()
	if o.explain {
		if err := explainCases(ctx, o, pg, dbURL, ds, label, stdout); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// runAttack attacks c's targets for d at rate req/s (0: as fast as the
// workers go) and returns the metrics. A fixed-rate attack starts workers
// workers and adds more, up to maxWorkers, when the server falls behind.
func runAttack(ctx context.Context, c apiCase, rate int, d time.Duration, workers, maxWorkers uint64) *vegeta.Metrics {
	atk := vegeta.NewAttacker(vegeta.Workers(workers), vegeta.MaxWorkers(maxWorkers), vegeta.KeepAlive(true),
		vegeta.Timeout(time.Minute), vegeta.MaxBody(0), vegeta.Redirects(vegeta.NoFollow))
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	var m vegeta.Metrics
	for res := range atk.Attack(vegeta.NewStaticTargeter(c.targets...), vegeta.Rate{Freq: rate, Per: time.Second}, d, "case-"+c.name) {
		m.Add(res)
	}
	m.Close()
	return &m
}

// probeCase gets c's first target once and describes the answer: the
// total and size of a page, the rows of counts.
func probeCase(ctx context.Context, client *http.Client, c apiCase) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.targets[0].URL, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", c.targets[0].URL, resp.Status, tail(string(body), 500))
	}
	return describeAnswer(c.kind, body)
}

// describeAnswer says what an answer of kind holds.
func describeAnswer(kind string, body []byte) (string, error) {
	size := fmt.Sprintf("%.1f KB", float64(len(body))/1000)
	switch kind {
	case "page":
		var p struct {
			Total   int64             `json:"total_elements"`
			Content []json.RawMessage `json:"content"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return "", fmt.Errorf("read the page: %w", err)
		}
		if len(p.Content) == 0 {
			return "", fmt.Errorf("an empty page (total %d): the case selects nothing", p.Total)
		}
		return fmt.Sprintf("total_elements %s, %d on the page, %s", thousands(p.Total), len(p.Content), size), nil
	case "counts":
		var cs []struct {
			Quantity int64 `json:"quantity"`
		}
		if err := json.Unmarshal(body, &cs); err != nil {
			return "", fmt.Errorf("read the counts: %w", err)
		}
		var sum int64
		for _, c := range cs {
			sum += c.Quantity
		}
		if sum == 0 {
			return "", errors.New("no counts: the case selects nothing")
		}
		return fmt.Sprintf("%d rows counting %s violations, %s", len(cs), thousands(sum), size), nil
	}
	var v struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.ID == 0 {
		return "", fmt.Errorf("read the violation: %v", err)
	}
	return fmt.Sprintf("violation %d, %s", v.ID, size), nil
}

// sampleIDs returns up to n ids of existing violations in a random order.
func sampleIDs(ctx context.Context, conn *pgx.Conn, n int, seed uint64) ([]int64, error) {
	rows, _ := conn.Query(ctx, `SELECT id FROM fullstop_data.violation TABLESAMPLE BERNOULLI (2) REPEATABLE ($1) LIMIT $2`, int64(seed%(1<<31)), n)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("sample violation ids: %w", err)
	}
	if len(ids) == 0 {
		return nil, errors.New("sample violation ids: none")
	}
	rng := rand.New(rand.NewPCG(seed, 0x1d5))
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids, nil
}

// serveProc is a running `fullstop serve`.
type serveProc struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	logPath string
	done    chan struct{}
	stopped bool
}

// freePort returns a loopback port nothing listens on (yet).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServe starts `fullstop serve --no-processing --auth none` on a free
// loopback port, its output appended to logPath, and waits until GET
// /health answers 200.
func startServe(ctx context.Context, bin, dbURL, logPath string) (*serveProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	cmd := exec.Command(bin, "--log-level", "warn", "serve", "--no-processing", "--auth", "none", "--listen", addr, "--database-url", dbURL)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start fullstop serve: %w", err)
	}
	s := &serveProc{cmd: cmd, base: "http://" + addr, logPath: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/health", nil)
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.done:
			b, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("fullstop serve exited before /health answered: %s\n%s", cmd.ProcessState, tail(string(b), 3000))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("fullstop serve on %s: /health did not answer 200 within a minute (log: %s)", addr, logPath)
		}
	}
}

// stop sends SIGTERM and waits for the server to exit, killing it after
// 20 s.
func (s *serveProc) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// explainWarmRequests are the requests of a case before the one whose
// plans --explain prints.
const explainWarmRequests = 8

// explainCases starts a server whose database sessions log every plan
// (auto_explain with ANALYZE and BUFFERS), sends each case's first target
// explainWarmRequests+1 times and prints the plans of the last request.
func explainCases(ctx context.Context, o *apiOptions, pg *postgres, dbURL string, ds *apiDataset, label string, stdout io.Writer) error {
	logPath, err := pg.logPath()
	if err != nil {
		return err
	}
	eu, err := explainURL(dbURL)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	srv, err := startServe(ctx, o.fullstop, eu, filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer srv.stop()
	client := &http.Client{Timeout: time.Minute}
	fmt.Fprintf(stdout, "\nPlans of the statements the server sends (%s; auto_explain, ANALYZE and BUFFERS; the last of %d identical requests):\n", label, explainWarmRequests+1)
	for _, c := range apiCases(srv.base, ds, ds.IDs, o.pageRate, o.countRate, o.seed.Seed) {
		if !o.cases[c.name] {
			continue
		}
		// PostgreSQL plans a prepared statement (pgx prepares them) for its
		// parameters five times, then may keep a generic plan: the plan
		// printed is the one after that.
		for range explainWarmRequests {
			if _, err := probeCase(ctx, client, c); err != nil {
				return err
			}
		}
		time.Sleep(200 * time.Millisecond)
		off := logSize(logPath)
		if _, err := probeCase(ctx, client, c); err != nil {
			return err
		}
		var plans []string
		for try := 0; try < 20 && len(plans) == 0; try++ {
			time.Sleep(100 * time.Millisecond)
			if plans, err = autoExplainPlans(logPath, off); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "\n--- (%s) %s: GET %s\n", c.name, c.label, strings.TrimPrefix(c.targets[0].URL, srv.base))
		if len(plans) == 0 {
			fmt.Fprintf(stdout, "(no plan in %s: is auto_explain installed?)\n", logPath)
		}
		for _, p := range plans {
			fmt.Fprint(stdout, p)
		}
	}
	return nil
}
