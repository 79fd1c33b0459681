//go:build duckdb_arrow

package etl_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/etl/file"
	"github.com/fullstop-audit/fullstop/etl/s3"
	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/duckdb"
	"github.com/fullstop-audit/fullstop/store"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	if err := pgtest.Stop(); err != nil && code == 0 {
		code = 1
	}
	os.Exit(code)
}

const invictusRoot = "../testdata/cloudtrail/invictus"

var (
	day      = time.Date(2023, 7, 10, 0, 0, 0, 0, time.UTC)
	nextDay  = day.AddDate(0, 0, 1)
	testRule = duckdb.Config{Schema: event.Schema}
)

// env is one pipeline over a source into its own database.
type env struct {
	st     *store.Store
	engine *duckdb.Engine
	src    etl.Source
	prefix string
}

func newEnv(t *testing.T, src etl.Source, prefix string) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.New(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	eng, err := duckdb.New(ctx, testRule)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return &env{st: st, engine: eng, src: src, prefix: prefix}
}

func (e *env) pipeline(t *testing.T, mod func(*etl.Config)) *etl.Pipeline {
	t.Helper()
	cfg := etl.Config{
		Lister:    &etl.Lister{Source: e.src, Prefix: e.prefix},
		Evaluator: e.engine,
		Ledger:    e.st,
		Workers:   2,
		GroupSize: 5,
	}
	if mod != nil {
		mod(&cfg)
	}
	p, err := etl.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) run(t *testing.T, mod func(*etl.Config), from, to time.Time) *etl.Result {
	t.Helper()
	res, err := e.pipeline(t, mod).Run(context.Background(), from, to)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// violationRow is a stored violation without its id and timestamps.
type violationRow struct {
	Type, EventID, Account, Region, Instance, Username, Meta string
	Seen                                                     int
}

func (e *env) violations(t *testing.T) []violationRow {
	t.Helper()
	vs, err := e.st.ViolationList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]violationRow, 0, len(vs))
	for _, v := range vs {
		out = append(out, violationRow{v.Type, v.EventID, v.AccountID, v.Region, v.InstanceID, v.Username, v.MetaInfo, v.SeenCount})
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// ledger returns the status of every object in the ledger.
func (e *env) ledger(t *testing.T) map[string]string {
	t.Helper()
	rows, err := e.st.LedgerList(context.Background(), store.LedgerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Key] = r.Status
	}
	return out
}

// copyTree copies the files below src into a new temp folder.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "LICENSE" {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(dst, rel), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeFile(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func fileSource(t *testing.T, root string) etl.Source {
	t.Helper()
	s, err := file.New(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const dayDir = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/"

// lambdaRecord is a real-shaped CreateFunction call from an untrusted
// location in a disallowed region: two violations.
func lambdaRecord(id string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA","arn":"arn:aws:iam::218007301253:user/dev","accountId":"218007301253","userName":"dev"},` +
		`"eventTime":"2023-07-10T12:30:00Z","eventSource":"lambda.amazonaws.com","eventName":"CreateFunction20150331","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"1.2.3.4","userAgent":"cli","requestParameters":{"functionName":"f-` + id + `","code":{"s3Bucket":"evil","s3Key":"k.zip"}},` +
		`"responseElements":{"functionName":"f-` + id + `","functionArn":"arn:aws:lambda:us-east-1:218007301253:function:f-` + id + `"},` +
		`"requestID":"r-` + id + `","eventID":"` + id + `","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"218007301253"}`
}

func logFile(records ...string) []byte {
	return []byte(`{"Records":[` + strings.Join(records, ",") + `]}`)
}

func TestPipeline_FolderAndMinIOGiveIdenticalViolations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fe := newEnv(t, fileSource(t, invictusRoot), "")
	fres := fe.run(t, nil, day, nextDay)

	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	n := 0
	err := filepath.WalkDir(invictusRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "LICENSE" {
			return err
		}
		rel, _ := filepath.Rel(invictusRoot, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		srv.Put(t, bucket, "trail/"+filepath.ToSlash(rel), b)
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s3src, err := s3.New(ctx, s3.Config{Bucket: bucket, Prefix: "trail/", Region: srv.Region, Endpoint: srv.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	se := newEnv(t, s3src, "trail/")
	sres := se.run(t, nil, day, nextDay)

	if fres.Objects != n || sres.Objects != n {
		t.Fatalf("objects: folder %d, minio %d, want %d", fres.Objects, sres.Objects, n)
	}
	if fres.Events != 2900 || sres.Events != 2900 {
		t.Fatalf("events: folder %d, minio %d, want 2900", fres.Events, sres.Events)
	}
	fv, sv := fe.violations(t), se.violations(t)
	if len(fv) == 0 {
		t.Fatal("no violations from the invictus logs")
	}
	if fmt.Sprint(fv) != fmt.Sprint(sv) {
		t.Fatalf("violations differ:\nfolder: %v\nminio:  %v", fv, sv)
	}
	if fres.New != len(fv) || sres.New != len(sv) {
		t.Fatalf("new violations reported %d/%d, stored %d/%d", fres.New, sres.New, len(fv), len(sv))
	}
}

func TestPipeline_SecondRunAddsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fileSource(t, invictusRoot), "")
	first := e.run(t, nil, day, nextDay)
	before := e.violations(t)
	second := e.run(t, nil, day, nextDay)
	if second.Objects != 0 || second.AlreadyDone != first.Objects || second.New != 0 || second.SeenAgain != 0 {
		t.Fatalf("second run: %+v (first %+v)", second, first)
	}
	if after := e.violations(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("violations changed:\nbefore %v\nafter  %v", before, after)
	}
	// --reprocess reads everything again: nothing new, every violation seen again.
	third := e.run(t, func(c *etl.Config) { c.Reprocess = true }, day, nextDay)
	if third.Objects != first.Objects || third.New != 0 || third.SeenAgain != first.New+first.SeenAgain {
		t.Fatalf("reprocess: %+v (first %+v)", third, first)
	}
	for _, v := range e.violations(t) {
		if v.Seen != 2 {
			t.Fatalf("after reprocessing, seen_count %d, want 2: %+v", v.Seen, v)
		}
	}
}

// crashingLedger fails the n-th group commit, before or after the real one,
// as a process dying at that point would.
type crashingLedger struct {
	*store.Store
	mu       sync.Mutex // the last group's two commits run at once
	n, calls int
	after    bool
}

var errCrash = errors.New("simulated crash")

func (c *crashingLedger) ViolationCommitGroup(ctx context.Context, holder string, objs []etl.ObjectDone, vs rules.Findings) (etl.GroupResult, error) {
	c.mu.Lock()
	c.calls++
	call := c.calls
	c.mu.Unlock()
	if call == c.n && !c.after {
		return etl.GroupResult{}, errCrash
	}
	r, err := c.Store.ViolationCommitGroup(ctx, holder, objs, vs)
	if call == c.n && c.after {
		return r, errCrash
	}
	return r, err
}

func TestPipeline_CrashAndRerunEqualsCleanRun(t *testing.T) {
	t.Parallel()
	clean := newEnv(t, fileSource(t, invictusRoot), "")
	clean.run(t, func(c *etl.Config) { c.GroupSize = 4 }, day, nextDay)
	want := clean.violations(t)
	wantLedger := clean.ledger(t)

	for _, tc := range []struct {
		name  string
		n     int
		after bool
	}{{"before first commit", 1, false}, {"before third commit", 3, false}, {"after second commit", 2, true}, {"after the 13th of 14 commits", 13, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, fileSource(t, invictusRoot), "")
			cl := &crashingLedger{Store: e.st, n: tc.n, after: tc.after}
			_, err := e.pipeline(t, func(c *etl.Config) { c.Ledger = cl; c.GroupSize = 4 }).Run(context.Background(), day, nextDay)
			if !errors.Is(err, errCrash) {
				t.Fatalf("run: got %v, want the simulated crash", err)
			}
			if got := len(e.ledger(t)); got >= len(wantLedger) {
				t.Fatalf("crashed run already has %d ledger rows of %d", got, len(wantLedger))
			}
			e.run(t, func(c *etl.Config) { c.GroupSize = 4 }, day, nextDay)
			if got := e.violations(t); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("after crash and re-run:\n got %v\nwant %v", got, want)
			}
			if got := e.ledger(t); fmt.Sprint(got) != fmt.Sprint(wantLedger) {
				t.Fatalf("ledger after crash and re-run:\n got %v\nwant %v", got, wantLedger)
			}
		})
	}
}

func TestPipeline_CancelFinishesTheCurrentGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fileSource(t, invictusRoot), "")
	ctx, cancel := context.WithCancel(context.Background())
	groups := 0
	res, err := e.pipeline(t, func(c *etl.Config) {
		c.GroupSize, c.Workers = 2, 1
		c.Progress = func(p etl.Progress) {
			if groups++; groups == 3 {
				cancel()
			}
		}
	}).Run(ctx, day, nextDay)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Objects == 0 || res.Objects >= 55 {
		t.Fatalf("cancelled run: %+v", res)
	}
	if got := len(e.ledger(t)); got != res.Objects {
		t.Fatalf("ledger has %d rows, result says %d objects", got, res.Objects)
	}
	rest := e.run(t, nil, day, nextDay)
	if rest.Objects+res.Objects != 55 || rest.AlreadyDone != res.Objects {
		t.Fatalf("second run after cancel: %+v", rest)
	}
}

func TestPipeline_LateFileIsPickedUp(t *testing.T) {
	t.Parallel()
	root := copyTree(t, invictusRoot)
	e := newEnv(t, fileSource(t, root), "")
	first := e.run(t, nil, day, nextDay)
	// A file delivered late into the already processed day, with an
	// earlier delivery time than files already processed.
	late := dayDir + "218007301253_CloudTrail_us-east-1_20230710T1140Z_LATEfile00000000.json.gz"
	if err := writeFile(filepath.Join(root, late), gz(t, logFile(lambdaRecord("11111111-2222-3333-4444-555555555555")))); err != nil {
		t.Fatal(err)
	}
	second := e.run(t, nil, day, nextDay)
	if second.Objects != 1 || second.AlreadyDone != first.Objects || second.Events != 1 {
		t.Fatalf("second run: %+v", second)
	}
	if second.New != 2 { // WRONG_REGION and LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION
		t.Fatalf("late file: %d new violations, want 2", second.New)
	}
	if e.ledger(t)[late] != etl.StatusDone {
		t.Fatalf("late file not in the ledger as done")
	}
}

func TestPipeline_BackfillBoundsAreHalfOpen(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	// One object at 23:55 on the 9th, at 00:00 and 12:00 on the 10th, 00:00 on the 11th.
	files := map[string]string{
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2023/07/09/111122223333_CloudTrail_eu-west-1_20230709T2355Z_a.json.gz": "a0000000-0000-0000-0000-000000000001",
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2023/07/10/111122223333_CloudTrail_eu-west-1_20230710T0000Z_b.json.gz": "b0000000-0000-0000-0000-000000000002",
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2023/07/10/111122223333_CloudTrail_eu-west-1_20230710T1200Z_c.json.gz": "c0000000-0000-0000-0000-000000000003",
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2023/07/11/111122223333_CloudTrail_eu-west-1_20230711T0000Z_d.json.gz": "d0000000-0000-0000-0000-000000000004",
	}
	for k, id := range files {
		if err := writeFile(filepath.Join(root, k), gz(t, logFile(lambdaRecord(id)))); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t, fileSource(t, root), "")
	res := e.run(t, nil, day, nextDay)
	if res.Objects != 2 || res.Listed != 2 {
		t.Fatalf("[10th, 11th): %+v, want the 2 objects of the 10th", res)
	}
	led := e.ledger(t)
	for k := range files {
		in := strings.Contains(k, "/2023/07/10/")
		if _, ok := led[k]; ok != in {
			t.Fatalf("%s processed=%v, want %v", k, ok, in)
		}
	}
	res = e.run(t, nil, day.Add(12*time.Hour), day.Add(12*time.Hour+time.Minute))
	if res.Listed != 1 || res.AlreadyDone != 1 {
		t.Fatalf("[12:00, 12:01): %+v, want just the 12:00 object", res)
	}
}

func TestPipeline_BadInput(t *testing.T) {
	t.Parallel()
	root := copyTree(t, invictusRoot)
	good := gz(t, logFile(lambdaRecord("aaaaaaaa-0000-0000-0000-000000000001")))
	bad := map[string][]byte{
		"corrupt-gzip":   append(good[:20:20], []byte("garbage garbage garbage")...),
		"truncated-gzip": good[:len(good)-10],
		"truncated-json": gz(t, logFile(lambdaRecord("aaaaaaaa-0000-0000-0000-000000000002"))[:100]),
		"invalid-json":   gz(t, []byte(`{"Records":[{"eventID": nope}]}`)),
		"not-cloudtrail": gz(t, []byte(`{"accounts":[{"id":"1"}]}`)),
		"gzip-bomb":      gz(t, []byte(`{"Records":[`+strings.Repeat(" ", 2_000_000)+`]}`)),
		"too-large":      gz(t, logFile(strings.Replace(lambdaRecord("aaaaaaaa-0000-0000-0000-000000000003"), `"cli"`, `"`+randomHex(t, 200_000)+`"`, 1))),
	}
	var badKeys []string
	for name, b := range bad {
		k := dayDir + "218007301253_CloudTrail_us-east-1_20230710T1300Z_" + name + ".json.gz"
		badKeys = append(badKeys, k)
		if err := writeFile(filepath.Join(root, k), b); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(badKeys)
	// One object with a bad record among good ones.
	mixed := dayDir + "218007301253_CloudTrail_us-east-1_20230710T1300Z_mixed.json.gz"
	if err := writeFile(filepath.Join(root, mixed), gz(t, logFile(
		lambdaRecord("bbbbbbbb-0000-0000-0000-000000000001"),
		`{"eventID":"x","eventTime":"yesterday"}`,
		`{"eventTime":"2023-07-10T12:00:00Z","eventName":"NoID"}`,
		`{"eventID":"y","eventTime":"2023-07-10T12:00:00Z","eventName":42}`,
		lambdaRecord("bbbbbbbb-0000-0000-0000-000000000002"),
	))); err != nil {
		t.Fatal(err)
	}

	clean := newEnv(t, fileSource(t, invictusRoot), "")
	clean.run(t, nil, day, nextDay)

	e := newEnv(t, fileSource(t, root), "")
	// The largest invictus object is 52,243 bytes; too-large is ~100 kB.
	cfg := func(c *etl.Config) { c.MaxAttempts = 2; c.MaxObjectSize = 60_000 }

	res := e.run(t, cfg, day, nextDay)
	var failed []string
	for _, f := range res.Failed {
		failed = append(failed, f.Key)
		if strings.HasSuffix(f.Key, "_too-large.json.gz") && !strings.Contains(f.Reason, "larger than the maximum") ||
			strings.HasSuffix(f.Key, "_gzip-bomb.json.gz") && !strings.Contains(f.Reason, "decompresses to more than") ||
			strings.HasSuffix(f.Key, "_not-cloudtrail.json.gz") && !strings.Contains(f.Reason, "not a CloudTrail") ||
			strings.HasSuffix(f.Key, "_corrupt-gzip.json.gz") && !strings.Contains(f.Reason, "gunzip") {
			t.Errorf("reason for %s: %q", f.Key, f.Reason)
		}
		if f.Reason == "" || f.Quarantined {
			t.Errorf("first failure of %s: %+v", f.Key, f)
		}
	}
	wantFailed := badKeys
	if fmt.Sprint(failed) != fmt.Sprint(wantFailed) {
		t.Fatalf("failed objects:\n got %v\nwant %v", failed, wantFailed)
	}
	if res.Objects != 56 { // 55 invictus objects + the mixed one
		t.Fatalf("objects processed: %d, want 56", res.Objects)
	}
	if res.SkippedRecords != 3 {
		t.Fatalf("skipped records: %d, want 3", res.SkippedRecords)
	}
	row, err := e.st.LedgerGet(context.Background(), mixed)
	if err != nil {
		t.Fatal(err)
	}
	if row.SkippedRecords == nil || *row.SkippedRecords != 3 || !strings.Contains(row.SkipReasons, "eventTime") || !strings.Contains(row.SkipReasons, "eventID") {
		t.Fatalf("ledger of the mixed object: skipped %v, reasons %q", row.SkippedRecords, row.SkipReasons)
	}
	// The good objects' violations are complete: those of a clean run plus
	// the mixed object's two good records (two violations each).
	got, cleanV := e.violations(t), clean.violations(t)
	if len(got) != len(cleanV)+4 {
		t.Fatalf("violations: %d, want %d", len(got), len(cleanV)+4)
	}

	// Retried on the next run; quarantined at the second failure.
	res2 := e.run(t, cfg, day, nextDay)
	if res2.Objects != 0 || len(res2.Failed) != len(badKeys) {
		t.Fatalf("second run: %+v", res2)
	}
	for _, f := range res2.Failed {
		if !f.Quarantined {
			t.Errorf("second failure of %s not quarantined", f.Key)
		}
	}
	res3 := e.run(t, cfg, day, nextDay)
	if len(res3.Failed) != 0 || res3.Quarantined != len(badKeys) || res3.Objects != 0 {
		t.Fatalf("third run: %+v", res3)
	}
	led := e.ledger(t)
	for _, k := range badKeys {
		if led[k] != etl.StatusQuarantined {
			t.Fatalf("%s: status %q, want quarantined", k, led[k])
		}
	}
}

func TestRuleHeadersMatchSeededTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fileSource(t, t.TempDir()), "")
	types, err := e.st.ViolationTypes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(types) != 31 {
		t.Fatalf("%d seeded violation types, want 31", len(types))
	}
	seeded := map[string]store.ViolationType{}
	for _, vt := range types {
		seeded[vt.ID] = vt
	}
	for _, r := range e.engine.Rules() {
		vt, ok := seeded[r.Type]
		if !ok {
			t.Errorf("rule %s: type not seeded", r.File)
			continue
		}
		if vt.Title != r.Title || vt.Severity != r.Severity || vt.Priority == nil || *vt.Priority != r.Priority {
			t.Errorf("rule %s header (%q, sev %d, prio %d) differs from the seeded type (%q, sev %d, prio %v)",
				r.File, r.Title, r.Severity, r.Priority, vt.Title, vt.Severity, vt.Priority)
		}
	}
}

func TestPipeline_ConcurrentRunsCountEveryObjectOnce(t *testing.T) {
	t.Parallel()
	clean := newEnv(t, fileSource(t, invictusRoot), "")
	clean.run(t, nil, day, nextDay)
	want, wantLedger := clean.violations(t), clean.ledger(t)

	e := newEnv(t, fileSource(t, invictusRoot), "")
	var g errgroup.Group
	results := make([]*etl.Result, 3)
	for i := range results {
		p := e.pipeline(t, func(c *etl.Config) { c.GroupSize = 2 })
		g.Go(func() (err error) {
			results[i], err = p.Run(context.Background(), day, nextDay)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := e.violations(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("three concurrent runs:\n got %v\nwant %v", got, want)
	}
	if got := e.ledger(t); fmt.Sprint(got) != fmt.Sprint(wantLedger) {
		t.Fatalf("ledger after concurrent runs differs from a clean run")
	}
	newTotal, objects := 0, 0
	for _, r := range results {
		newTotal += r.New
		objects += r.Objects
	}
	if newTotal != len(want) {
		t.Fatalf("runs report %d new violations in all, want %d", newTotal, len(want))
	}
	// The leases split the work: every object is processed by one run.
	if objects != len(wantLedger) {
		t.Fatalf("runs processed %d objects in all, want %d (each once)", objects, len(wantLedger))
	}
}

// realTree lays every real log of testdata/cloudtrail out in CloudTrail's
// key layout, in one day folder (2024-01-01) of account 111122223333: the
// invictus objects as they are, each stratus array wrapped into
// {"Records":[...]} and each fixture document in the region folder of its
// first record. The two team-service documents among the fixtures are not
// CloudTrail.
func realTree(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	n := 0
	put := func(region string, body []byte) {
		n++
		k := fmt.Sprintf("AWSLogs/111122223333/CloudTrail/%s/2024/01/01/111122223333_CloudTrail_%s_20240101T0000Z_%05d.json.gz", region, region, n)
		files[k] = gz(t, body)
	}
	err := filepath.WalkDir(invictusRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil {
			n++
			files[fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/01/111122223333_CloudTrail_us-east-1_20240101T0000Z_%05d.json.gz", n)] = b
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	firstRegion := func(recs []map[string]any) string {
		if len(recs) > 0 {
			if r, ok := recs[0]["awsRegion"].(string); ok && r != "" {
				return r
			}
		}
		return "us-east-1"
	}
	for _, dir := range []string{"../testdata/cloudtrail/stratus", "../testdata/cloudtrail/fullstop-fixtures"} {
		paths, _ := filepath.Glob(dir + "/*.json")
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var arr []map[string]any
			var doc struct{ Records []map[string]any }
			switch {
			case strings.Contains(dir, "stratus") && json.Unmarshal(b, &arr) == nil:
				put(firstRegion(arr), []byte(`{"Records":`+string(b)+`}`))
			case json.Unmarshal(b, &doc) == nil:
				put(firstRegion(doc.Records), b)
			default: // the team-service account lists: JSON arrays
				put("us-east-1", b)
			}
		}
	}
	return files
}

func TestPipeline_AllRealLogsThroughMinIO(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	files := realTree(t)
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	for k, b := range files {
		srv.Put(t, bucket, k, b)
	}
	src, err := s3.New(ctx, s3.Config{Bucket: bucket, Region: srv.Region, Endpoint: srv.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, src, "")
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := e.pipeline(t, nil).Run(ctx, from, from.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	// The team-service account lists are not CloudTrail; everything else is.
	if len(res.Failed) != 2 || res.Objects != len(files)-2 {
		t.Fatalf("objects %d, failed %v; want %d and the 2 team-service documents", res.Objects, res.Failed, len(files)-2)
	}
	for _, f := range res.Failed {
		if !strings.Contains(f.Reason, "not a CloudTrail") {
			t.Errorf("%s: %s", f.Key, f.Reason)
		}
	}
	if res.SkippedRecords != 0 {
		t.Fatalf("%d real records skipped", res.SkippedRecords)
	}
	byType := map[string]int{}
	for _, v := range e.violations(t) {
		byType[v.Type]++
	}
	// The same counts the rules package finds over these logs in one call.
	want := map[string]int{"WRONG_REGION": 6, "EC2_WITH_KEYPAIR": 1, "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION": 8}
	if fmt.Sprint(byType) != fmt.Sprint(want) {
		t.Fatalf("violations by type %v, want %v", byType, want)
	}
}

// TestPipeline_Metrics counts a batch's outcomes, and a rewritten object,
// in the Prometheus counters.
func TestPipeline_Metrics(t *testing.T) {
	t.Parallel()
	root := copyTree(t, invictusRoot)
	e := newEnv(t, fileSource(t, root), "")
	reg := prometheus.NewRegistry()
	m := etl.NewMetrics(reg)
	withMetrics := func(c *etl.Config) { c.Metrics = m }
	first := e.run(t, withMetrics, day, nextDay)
	if got := testutil.ToFloat64(m.Objects.WithLabelValues("done")); got != 55 {
		t.Fatalf("done objects = %v, want 55", got)
	}
	if got := testutil.ToFloat64(m.Events); got != float64(first.Events) || got == 0 {
		t.Errorf("events = %v, want %d", got, first.Events)
	}
	if got := testutil.ToFloat64(m.Violations.WithLabelValues("new")); got != float64(first.New) || got == 0 {
		t.Errorf("new violations = %v, want %d", got, first.New)
	}
	// Rewrite one object (new content: another size and ETag).
	var one string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && one == "" && strings.HasSuffix(p, ".json.gz") {
			one = p
		}
		return nil
	})
	if err := os.WriteFile(one, gz(t, logFile(lambdaRecord("rewritten-1"))), 0o644); err != nil {
		t.Fatal(err)
	}
	res := e.run(t, withMetrics, day, nextDay)
	if res.Rewritten != 1 || res.Objects != 1 || res.AlreadyDone != 54 {
		t.Fatalf("run after a rewrite: %+v", res)
	}
	for name, want := range map[string]float64{"done": 56, "already_done": 54} {
		if got := testutil.ToFloat64(m.Objects.WithLabelValues(name)); got != want {
			t.Errorf("%s objects = %v, want %v", name, got, want)
		}
	}
	if got := testutil.ToFloat64(m.Rewritten); got != 1 {
		t.Errorf("rewritten = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.Batches.WithLabelValues("done")); got != 2 {
		t.Errorf("batches done = %v, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n == 0 {
		t.Errorf("registry gathers %d metrics, %v", n, err)
	}
}

// groupRecorder records the objects and violations of every group commit.
type groupRecorder struct {
	*store.Store
	mu         sync.Mutex
	groups     [][]etl.ObjectDone
	violations [][]rules.Violation
}

func (g *groupRecorder) ViolationCommitGroup(ctx context.Context, holder string, objs []etl.ObjectDone, f rules.Findings) (etl.GroupResult, error) {
	g.mu.Lock()
	g.groups = append(g.groups, slices.Clone(objs))
	g.violations = append(g.violations, slices.Clone(f.Violations))
	g.mu.Unlock()
	return g.Store.ViolationCommitGroup(ctx, holder, objs, f)
}

func TestPipeline_GroupViolationsEndsAGroupEarly(t *testing.T) {
	t.Parallel()
	whole := newEnv(t, fileSource(t, invictusRoot), "")
	whole.run(t, func(c *etl.Config) { c.GroupSize = 100 }, day, nextDay)
	want := whole.violations(t)
	if len(want) < 6 {
		t.Fatalf("only %d violations in the invictus logs, too few to split", len(want))
	}

	const bound = 2
	e := newEnv(t, fileSource(t, invictusRoot), "")
	rec := &groupRecorder{Store: e.st}
	res := e.run(t, func(c *etl.Config) { c.Ledger, c.GroupSize, c.GroupViolations = rec, 100, bound }, day, nextDay)
	if res.Objects != 55 {
		t.Fatalf("%d objects committed, want 55", res.Objects)
	}
	if len(rec.groups) < 2 {
		t.Fatalf("%d groups with a bound of %d violations, want several", len(rec.groups), bound)
	}
	objects := 0
	for i, objs := range rec.groups {
		objects += len(objs)
		last := objs[len(objs)-1].Key
		before := 0
		for _, v := range rec.violations[i] {
			if v.ObjectKey != last {
				before++
			}
		}
		// A group ends with the object that brings it to the bound (or
		// with the last object of the batch): without that object it
		// held fewer violations than the bound.
		if before >= bound {
			t.Errorf("group %d of %d objects had %d violations before its last object, the bound is %d",
				i, len(objs), before, bound)
		}
	}
	if objects != 55 {
		t.Fatalf("the groups hold %d objects, want 55", objects)
	}
	if got := e.violations(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("violations with small groups differ from one group:\n got %v\nwant %v", got, want)
	}
}

// overlapRecorder records the group commits, and whether two ran at once:
// a commit waits up to a second for another to start before it goes on.
type overlapRecorder struct {
	*store.Store
	mu       sync.Mutex
	cond     *sync.Cond
	inFlight int
	overlaps int
	groups   [][]etl.ObjectDone
}

func (o *overlapRecorder) ViolationCommitGroup(ctx context.Context, holder string, objs []etl.ObjectDone, f rules.Findings) (etl.GroupResult, error) {
	o.mu.Lock()
	o.groups = append(o.groups, slices.Clone(objs))
	o.inFlight++
	if o.inFlight > 1 {
		o.overlaps++
		o.cond.Broadcast()
	}
	deadline := time.Now().Add(time.Second)
	for o.inFlight < 2 && time.Now().Before(deadline) {
		go func() { time.Sleep(10 * time.Millisecond); o.cond.Broadcast() }()
		o.cond.Wait()
	}
	o.mu.Unlock()
	r, err := o.Store.ViolationCommitGroup(ctx, holder, objs, f)
	o.mu.Lock()
	o.inFlight--
	o.mu.Unlock()
	return r, err
}

// The batch's last group is committed as two transactions at once, each
// object with its findings in one, and the database ends as with one.
func TestPipeline_LastGroupCommittedInTwo(t *testing.T) {
	t.Parallel()
	whole := newEnv(t, fileSource(t, invictusRoot), "")
	whole.run(t, func(c *etl.Config) { c.GroupSize, c.GroupViolations = 100, 1000 }, day, nextDay)
	want, wantLedger := whole.violations(t), whole.ledger(t)

	e := newEnv(t, fileSource(t, invictusRoot), "")
	rec := &overlapRecorder{Store: e.st}
	rec.cond = sync.NewCond(&rec.mu)
	// One group of every object, with more than an eighth of 8 violations.
	res := e.run(t, func(c *etl.Config) { c.Ledger, c.GroupSize, c.GroupViolations = rec, 100, 8*len(want) }, day, nextDay)
	if len(rec.groups) != 2 || rec.overlaps != 1 {
		t.Fatalf("%d group commits, %d at once; want the one group in two, at once", len(rec.groups), rec.overlaps)
	}
	keys := map[string]int{}
	for i, g := range rec.groups {
		for _, o := range g {
			if j, ok := keys[o.Key]; ok && j != i {
				t.Errorf("object %s in both halves", o.Key)
			}
			keys[o.Key] = i
		}
	}
	if res.Objects != 55 || len(keys) != 55 {
		t.Fatalf("%d objects committed, %d in the halves; want 55", res.Objects, len(keys))
	}
	if got := e.violations(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("violations of the two halves differ from one group:\n got %v\nwant %v", got, want)
	}
	if got := e.ledger(t); fmt.Sprint(got) != fmt.Sprint(wantLedger) {
		t.Fatalf("ledger of the two halves differs from one group:\n got %v\nwant %v", got, wantLedger)
	}
}
