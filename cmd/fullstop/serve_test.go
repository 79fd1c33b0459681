//go:build duckdb_arrow

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/store/pgtest"
)

// The real sample logs, and the account of their callers (the trail's
// own account, in the keys, is 218007301253).
const (
	invictusRoot    = "../../testdata/cloudtrail/invictus"
	invictusAccount = "123837392027"
)

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startServe starts `fullstop serve` with args on a free loopback port and
// returns the process and the API's base URL once /health answers 200.
func startServe(t *testing.T, env []string, args ...string) (*proc, string) {
	t.Helper()
	addr := freeAddr(t)
	p := command(t, env, append([]string{"serve", "--listen", addr}, args...)...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, base
			}
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			p.cmd.Wait()
			t.Fatalf("serve did not answer /health: %v\n%s", err, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the exit; it returns the exit code.
func stop(t *testing.T, p *proc) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, _ := wait(t, p, time.Minute)
	return code
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, b)
		}
	}
	return resp.StatusCode
}

// page is the part of a page of violations the tests read.
type page struct {
	Content []struct {
		ID            int64   `json:"id"`
		Comment       *string `json:"comment"`
		RuleID        *int64  `json:"rule_id"`
		ViolationType struct {
			ID string `json:"id"`
		} `json:"violation_type"`
	} `json:"content"`
	TotalElements int64 `json:"total_elements"`
}

func TestServe_RunsOnScheduleAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	root := todayTree(t, 4)
	db := pgtest.New(t)
	p, base := startServe(t, []string{"DATABASE_URL=" + db, "FULLSTOP_AUTH=none"}, "--source", root, "--schedule", "@every 1s")
	deadline := time.Now().Add(time.Minute)
	for {
		n := 0
		if query[bool](t, db, `SELECT to_regclass('fullstop_data.ledger') IS NOT NULL`) {
			n = query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger`)
		}
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve processed %d of 4 objects", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Let a scheduled batch or two run, then read the API and stop.
	time.Sleep(1500 * time.Millisecond)
	var pg page
	if code := getJSON(t, base+"/api/violations?state=any&size=1000", &pg); code != http.StatusOK {
		t.Fatalf("GET /api/violations: %d", code)
	}
	if want := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.violation`); int(pg.TotalElements) != want || want == 0 {
		t.Errorf("the API lists %d violations, the database holds %d", pg.TotalElements, want)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{`fullstop_objects_total{outcome="done"} 4`, `fullstop_ledger_objects{status="done"} 4`,
		`fullstop_batches_total{result="done"}`, `fullstop_events_total`, `fullstop_violations_total{result="new"}`,
		`fullstop_http_requests_total{method="GET",route="GET /api/violations",status="200"} 1`} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if code := stop(t, p); code != 0 {
		t.Fatalf("serve after SIGTERM: exit %d\n%s", code, p.stderr.String())
	}
	logs := p.stderr.String()
	if c := strings.Count(logs, "batch done"); c < 2 {
		t.Fatalf("%d batches logged, want at least 2:\n%s", c, logs)
	}
	if !strings.Contains(logs, "serve: stopped") {
		t.Fatalf("no clean stop:\n%s", logs)
	}
}

// TestServe_NoProcessing serves the API without a source.
func TestServe_NoProcessing(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	p, base := startServe(t, []string{"DATABASE_URL=" + db}, "--no-processing", "--auth", "none")
	var types []json.RawMessage
	if code := getJSON(t, base+"/api/violation-types", &types); code != http.StatusOK || len(types) != 31 {
		t.Fatalf("GET /api/violation-types: %d, %d types", code, len(types))
	}
	if code := stop(t, p); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "processing is off") {
		t.Fatalf("stderr: %s", p.stderr.String())
	}
}

func TestServe_ConfigErrors(t *testing.T) {
	t.Parallel()
	db := "DATABASE_URL=postgres://x@127.0.0.1:1/x"
	for _, tc := range []struct {
		name    string
		env     []string
		args    []string
		mention string
	}{
		{"no auth", []string{db}, []string{"serve", "--no-processing"}, "FULLSTOP_AUTH"},
		{"unknown auth", []string{db}, []string{"serve", "--no-processing", "--auth", "open"}, "FULLSTOP_AUTH"},
		{"none on all interfaces", []string{db}, []string{"serve", "--no-processing", "--auth", "none", "--listen", ":8080"}, "loopback"},
		{"none on a public address", []string{db, "FULLSTOP_LISTEN=0.0.0.0:8080"}, []string{"serve", "--no-processing", "--auth", "none"}, "loopback"},
		{"tokeninfo without url", []string{db}, []string{"serve", "--no-processing", "--auth", "tokeninfo"}, "TOKEN_INFO_URI"},
		{"jwt without jwks", []string{db, "FULLSTOP_AUTH=jwt"}, []string{"serve", "--no-processing", "--jwt-issuer", "i", "--jwt-audience", "a"}, "FULLSTOP_JWKS_URL"},
		{"jwt without audience", []string{db, "FULLSTOP_AUTH=jwt", "FULLSTOP_JWKS_URL=http://127.0.0.1:1/jwks"}, []string{"serve", "--no-processing", "--jwt-issuer", "i"}, "FULLSTOP_JWT_AUDIENCE"},
		{"two service tokens", []string{db, "FULLSTOP_SERVICE_TOKEN=x", "FULLSTOP_SERVICE_TOKEN_FILE=/tmp/x"}, []string{"serve", "--no-processing", "--auth", "none", "--listen", "127.0.0.1:0"}, "--service-token"},
		{"access token url without credentials", []string{db, "ACCESS_TOKEN_URI=http://127.0.0.1:1/token"}, []string{"serve", "--no-processing", "--auth", "none", "--listen", "127.0.0.1:0"}, "CREDENTIALS_DIR"},
		{"no source", []string{db}, []string{"serve", "--auth", "none", "--listen", "127.0.0.1:0"}, "FULLSTOP_SOURCE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantConfigError(t, tc.env, tc.args, tc.mention)
		})
	}
}

// TestServe_SIGTERMLetsRequestsInFlightFinish stalls the database under a
// request, sends SIGTERM, and checks that the request still gets its
// answer, that no new connection is accepted, and that serve exits 0.
func TestServe_SIGTERMLetsRequestsInFlightFinish(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	proxy := pgtest.NewProxy(t, db)
	p, base := startServe(t, []string{"DATABASE_URL=" + proxy.URL},
		"--no-processing", "--auth", "none", "--shutdown-timeout", "20s")
	proxy.Stall()
	answer := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/api/violation-types")
		if err != nil {
			answer <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	time.Sleep(500 * time.Millisecond) // the request is waiting on the database
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := http.Get(base + "/health"); err == nil {
		t.Errorf("a new request was accepted after SIGTERM")
	}
	select {
	case code := <-answer:
		t.Fatalf("the request in flight was answered (%d) before the database answered", code)
	default:
	}
	proxy.Resume()
	select {
	case code := <-answer:
		if code != http.StatusOK {
			t.Errorf("the request in flight got %d, want 200", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request in flight got no answer")
	}
	code, _ := wait(t, p, time.Minute)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
}

// TestServe_RuleBeforeRunWhitelistsWhatItFinds creates a whitelisting
// rule through the API, then backfills the real sample logs: the
// violations the rule matches are stored whitelisted, the others open.
func TestServe_RuleBeforeRunWhitelistsWhatItFinds(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db}
	p, base := startServe(t, env, "--no-processing", "--auth", "none")
	// The first rule names the trail's account, which no violation has:
	// it never matches.
	for _, rule := range []string{
		`{"reason":"trail account","violation_type":"WRONG_REGION","account_id":"218007301253"}`,
		`{"reason":"sandbox account","violation_type":"WRONG_REGION","account_id":"` + invictusAccount + `"}`,
	} {
		resp, err := http.Post(base+"/api/whitelisting-rules", "application/json", bytes.NewBufferString(rule))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create rule: %d %s", resp.StatusCode, b)
		}
	}
	code, stdout, stderr := fullstop(t, env, "--log-level", "warn", "backfill", "--source", invictusRoot,
		"--from", "2023-07-10", "--to", "2023-07-11", "--progress=false")
	if code != 0 {
		t.Fatalf("backfill: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var all page
	getJSON(t, base+"/api/violations?state=any&size=1000", &all)
	wl, open := 0, 0
	for _, v := range all.Content {
		switch {
		case v.ViolationType.ID == "WRONG_REGION":
			if v.RuleID == nil || v.Comment == nil || *v.Comment != "Whitelisted automatically because of:sandbox account" {
				t.Errorf("violation %d (WRONG_REGION) is not whitelisted by the rule: rule %v comment %v", v.ID, v.RuleID, v.Comment)
			}
			wl++
		default:
			if v.RuleID != nil || v.Comment != nil {
				t.Errorf("violation %d (%s) is whitelisted", v.ID, v.ViolationType.ID)
			}
			open++
		}
	}
	if wl == 0 || open == 0 {
		t.Fatalf("%d whitelisted, %d open: the sample should give both", wl, open)
	}
	var whitelisted page
	getJSON(t, base+"/api/violations?whitelisted=true", &whitelisted)
	if int(whitelisted.TotalElements) != wl {
		t.Errorf("whitelisted=true lists %d, want %d", whitelisted.TotalElements, wl)
	}
	if code := stop(t, p); code != 0 {
		t.Fatalf("exit %d", code)
	}
	t.Logf("%d whitelisted, %d open", wl, open)
}
