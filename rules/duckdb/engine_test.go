//go:build duckdb_arrow

package duckdb

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/fixture"
	"github.com/fullstop-audit/fullstop/rules/sigma"
	sqlfiles "github.com/fullstop-audit/fullstop/sql"
)

var update = flag.Bool("update", false, "rewrite testdata/rules/*/*/expected.json from the engine's output")

const (
	fixtureDir  = "../../testdata/rules"
	cloudtrail  = "../../testdata/cloudtrail"
	typeKeyPair = "EC2_WITH_KEYPAIR"
	typeRegion  = "WRONG_REGION"
	typeLambda  = "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION"
)

// decode decodes one CloudTrail document into batches released at the end
// of the test.
func decode(t testing.TB, r io.Reader, o event.Origin) []arrow.RecordBatch {
	t.Helper()
	res, err := event.NewDecoder(nil, 0).Decode(r, o)
	if err != nil {
		t.Fatalf("decode %s: %v", o.Key, err)
	}
	if res.Skipped > 0 {
		t.Fatalf("decode %s: %d records skipped: %v", o.Key, res.Skipped, res.Errors)
	}
	t.Cleanup(res.Release)
	return res.Batches
}

func decodeFile(t testing.TB, path, key string) []arrow.RecordBatch {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	return decode(t, r, event.Origin{Key: key})
}

// newEngine returns an engine over event.Schema unless cfg names a schema.
func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	if cfg.Schema == nil {
		cfg.Schema = event.Schema
	}
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return e
}

// TestEngine_Fixtures runs every case testdata/rules/<TYPE>/<case>/: the
// events of events.json, evaluated with config.json, must give exactly the
// violations of expected.json (all types, in the engine's order). A case
// named *-fires must report its TYPE, a case named *-quiet must not.
func TestEngine_Fixtures(t *testing.T) {
	t.Parallel()
	cases, err := fixture.Load(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("found %d fixture cases, want at least 30", len(cases))
	}
	typesSeen := map[string]map[bool]bool{}
	for _, c := range cases {
		if typesSeen[c.Type] == nil {
			typesSeen[c.Type] = map[bool]bool{}
		}
		typesSeen[c.Type][c.Fires] = true
		t.Run(c.Type+"/"+c.Name, func(t *testing.T) {
			t.Parallel()
			var res Resolver
			if fr := fixture.NewResolver(c.Lookups); fr != nil {
				res = fr
			}
			e := newEngine(t, Config{
				MoreRules:            ownSigma(t),
				AllowedRegions:       c.AllowedRegions,
				LambdaTrustedBuckets: c.LambdaTrustedBuckets,
				IncludeFailedCalls:   c.IncludeFailedCalls,
				TaupageOwners:        c.TaupageOwners,
				TaupageNamePrefix:    c.TaupageNamePrefix,
				Resolver:             res,
			})
			vs, err := violations(e.Evaluate(context.Background(), decodeFile(t, c.EventsFile(), c.ObjectKey())))
			if err != nil {
				t.Fatalf("Evaluate() error = %v", err)
			}
			vs = rules.Correlate(vs) // as the store counts them, from zero
			if *update {
				got, err := fixture.Marshal(vs)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(c.ExpectedFile(), got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			problems, diff, err := c.Check(vs)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			for _, p := range problems {
				t.Error(p)
			}
			if diff != "" {
				t.Errorf("expected.json (-) against the violations (+):\n%s", diff)
			}
		})
	}
	// Every type with cases has both kinds.
	for typ, seen := range typesSeen {
		if !seen[true] || !seen[false] {
			t.Errorf("type %s needs both -fires and -quiet cases", typ)
		}
	}
}

// realLogs decodes every real CloudTrail file of testdata/cloudtrail: the
// invictus objects, the stratus record arrays wrapped as documents, and the
// reference fixtures that are CloudTrail documents.
// stratusFiles are the Stratus Red Team logs, one a technique.
func stratusFiles(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(cloudtrail, "stratus", "*.json"))
	if len(files) == 0 {
		t.Fatal("no stratus files")
	}
	return files
}

// decodeStratus decodes a Stratus log, an array of records, as the
// object stratus/<name>.
func decodeStratus(t testing.TB, file string) []arrow.RecordBatch {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc := append(append([]byte(`{"Records":`), raw...), '}')
	return decode(t, bytes.NewReader(doc), event.Origin{Key: "stratus/" + filepath.Base(file)})
}

func realLogs(t testing.TB) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	inv, err := filepath.Glob(filepath.Join(cloudtrail, "invictus", "AWSLogs", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz"))
	if err != nil || len(inv) == 0 {
		t.Fatalf("invictus files: %v, %d", err, len(inv))
	}
	for _, f := range inv {
		key, _ := filepath.Rel(filepath.Join(cloudtrail, "invictus"), f)
		parts := strings.Split(filepath.ToSlash(key), "/")
		out = append(out, decodeFile(t, f, key)...)
		if parts[1] != "218007301253" || parts[3] != "us-east-1" {
			t.Fatalf("unexpected invictus key %s", key)
		}
	}
	for _, f := range stratusFiles(t) {
		out = append(out, decodeStratus(t, f)...)
	}
	fx, _ := filepath.Glob(filepath.Join(cloudtrail, "fullstop-fixtures", "*.json"))
	docs := 0
	for _, f := range fx {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := event.NewDecoder(nil, 0).Decode(bytes.NewReader(raw), event.Origin{Key: "fullstop-fixtures/" + filepath.Base(f)})
		if errors.Is(err, event.ErrNotCloudTrail) {
			continue // team-service account lists
		}
		if err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		t.Cleanup(res.Release)
		out = append(out, res.Batches...)
		docs++
	}
	if docs != 33 {
		t.Fatalf("decoded %d fixture documents, want 33", docs)
	}
	return out
}

func countByType(vs []rules.Violation) map[string]int {
	m := map[string]int{}
	for _, v := range vs {
		m[v.Type]++
	}
	return m
}

// TestEngine_RealLogs evaluates all real logs in one call. The expected
// counts were worked out by reading the records (see the comments).
func TestEngine_RealLogs(t *testing.T) {
	t.Parallel()
	batches := realLogs(t)
	tests := []struct {
		name string
		cfg  Config
		want map[string]int
	}{
		{
			// WRONG_REGION: fixtures us-west-1 RunInstances (1 instance) and
			// the us-east-1 CreateFunction; invictus 2 successful
			// RunInstances (1 instance each) and 2 successful CreateFunction.
			// EC2_WITH_KEYPAIR: only the fixture with keyName kmeier.
			// LAMBDA: fixtures 2 creates + the 2 updates, which share their
			// identity (same event id, account, region) but come from two
			// objects, so they are two detections; invictus 2 creates and 2
			// updates; stratus 1 update. (8 distinct identities.)
			name: "defaults",
			cfg:  Config{},
			want: map[string]int{typeRegion: 6, typeKeyPair: 1, typeLambda: 9},
		},
		{
			// Plus 4 failed CreateFunction calls in invictus (failed
			// RunInstances have no instances).
			name: "failed calls included",
			cfg:  Config{IncludeFailedCalls: true},
			want: map[string]int{typeRegion: 10, typeKeyPair: 1, typeLambda: 13},
		},
		{
			// Trusting the fixtures' bucket mutes the fixtures' create and
			// update from it; us-east-1 allowed mutes all but the fixture
			// us-west-1 RunInstances.
			name: "us-east-1 allowed, trusted bucket",
			cfg: Config{
				AllowedRegions:       []string{"eu-central-1", "eu-west-1", "us-east-1"},
				LambdaTrustedBuckets: []string{"zalando-lambda-repository-eu-central-1"},
			},
			want: map[string]int{typeRegion: 1, typeKeyPair: 1, typeLambda: 7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t, tt.cfg)
			vs, err := violations(e.Evaluate(context.Background(), batches))
			if err != nil {
				t.Fatalf("Evaluate() error = %v", err)
			}
			if got := countByType(vs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("violations per type = %v, want %v", got, tt.want)
			}
			for _, v := range vs {
				if v.EventID == "" || v.AccountID == "" || v.Region == "" || v.ObjectKey == "" || v.EventTime.IsZero() || !json.Valid([]byte(v.MetaInfo)) {
					t.Errorf("incomplete violation %+v", v)
				}
			}
		})
	}
}

// TestEngine_Concurrent evaluates different inputs from several goroutines
// on one engine; each must get its own answer.
func TestEngine_Concurrent(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	all := realLogs(t)
	keypair := decodeFile(t, filepath.Join(fixtureDir, typeKeyPair, "keyname-fires", "events.json"), "k")
	want := map[string]int{typeRegion: 6, typeKeyPair: 1, typeLambda: 9}
	const workers = 6
	var wg sync.WaitGroup
	errs := make(chan error, workers*3)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				in, exp := all, want
				if w%2 == 1 {
					in, exp = keypair, map[string]int{typeKeyPair: 1}
				}
				vs, err := violations(e.Evaluate(context.Background(), in))
				if err != nil {
					errs <- err
					return
				}
				if got := countByType(vs); !reflect.DeepEqual(got, exp) {
					errs <- fmt.Errorf("worker %d: got %v, want %v", w, got, exp)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestEngine_Evaluate_edgeCases(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	ctx := context.Background()

	vs, err := violations(e.Evaluate(ctx, nil))
	if err != nil || vs != nil {
		t.Errorf("Evaluate(nil) = %v, %v; want nil, nil", vs, err)
	}

	empty := decode(t, strings.NewReader(`{"Records":[]}`), event.Origin{Key: "empty"})
	vs, err = violations(e.Evaluate(ctx, empty))
	if err != nil || vs != nil {
		t.Errorf("Evaluate(no rows) = %v, %v; want nil, nil", vs, err)
	}

	batches := decodeFile(t, filepath.Join(fixtureDir, typeKeyPair, "keyname-fires", "events.json"), "k")
	other := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.BinaryTypes.String}}, nil)
	if _, err := violations(e.Evaluate(ctx, []arrow.RecordBatch{batches[0], arrowEmpty(other)})); err == nil {
		t.Error("Evaluate() with a foreign schema: want an error")
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := violations(e.Evaluate(cctx, batches)); !errors.Is(err, context.Canceled) {
		t.Errorf("Evaluate(cancelled) error = %v, want context.Canceled", err)
	}
	// The engine still works after a failed call.
	vs, err = violations(e.Evaluate(ctx, batches))
	if err != nil || len(vs) != 1 {
		t.Errorf("Evaluate() after cancel = %d violations, %v; want 1", len(vs), err)
	}

	// The same input twice reports each violation once.
	vs, err = violations(e.Evaluate(ctx, append(append([]arrow.RecordBatch{}, batches...), batches...)))
	if err != nil || len(vs) != 1 {
		t.Errorf("Evaluate(duplicated) = %d violations, %v; want 1", len(vs), err)
	}
}

// rulesFS returns a rule file system with one rule TEST_RULE whose query
// is q.
func rulesFS(q string) fstest.MapFS {
	return fstest.MapFS{"rules/TEST_RULE.sql": {Data: []byte(`-- type: TEST_RULE
-- title: Test rule
-- severity: 1
-- priority: 1
-- help: A rule for tests.
` + q)}}
}

const testRuleColumns = `SELECT event_id, user_identity_account_id AS account_id, aws_region AS region,
	NULL::VARCHAR AS instance_id, user_identity_arn AS username, '{}' AS meta_info, event_time, object_key`

func TestNew_badRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query, wantErr string
	}{
		{"syntax error", "SELEC 1", "syntax error"},
		{"two statements", testRuleColumns + " FROM events; SELECT 1", "exactly one SELECT"},
		{"not a select", "DELETE FROM allowed_regions", "not a valid SELECT"},
		{"unknown table", testRuleColumns + " FROM nowhere", "nowhere"},
		{"unknown column", testRuleColumns + ", no_such_column FROM events", "no_such_column"},
		{"missing column", "SELECT event_id FROM events", "result columns are [event_id VARCHAR]"},
		{"wrong order", `SELECT user_identity_account_id AS account_id, event_id, aws_region AS region,
	NULL::VARCHAR AS instance_id, user_identity_arn AS username, '{}' AS meta_info, event_time, object_key FROM events`, "want [event_id VARCHAR, account_id VARCHAR"},
		{"untyped NULL", `SELECT event_id, user_identity_account_id AS account_id, aws_region AS region,
	NULL AS instance_id, user_identity_arn AS username, '{}' AS meta_info, event_time, object_key FROM events`, "instance_id INTEGER"},
		{"JSON meta_info", `SELECT event_id, user_identity_account_id AS account_id, aws_region AS region,
	NULL::VARCHAR AS instance_id, user_identity_arn AS username, json_object('a', 1) AS meta_info, event_time, object_key FROM events`, "meta_info JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := New(context.Background(), Config{Schema: event.Schema, Rules: rulesFS(tt.query)})
			if err == nil {
				e.Close()
				t.Fatal("New() succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "sql/rules/TEST_RULE.sql") {
				t.Errorf("New() error = %v, want one naming the rule and containing %q", err, tt.wantErr)
			}
		})
	}
	t.Run("bad header", func(t *testing.T) {
		t.Parallel()
		_, err := New(context.Background(), Config{Schema: event.Schema, Rules: fstest.MapFS{"rules/X.sql": {Data: []byte("SELECT 1")}}})
		if !errors.Is(err, rules.ErrRule) {
			t.Errorf("New() error = %v, want ErrRule", err)
		}
	})
}

// TestNew_eventSchema checks that New refuses an event schema without the
// columns the engine reads itself.
func TestNew_eventSchema(t *testing.T) {
	t.Parallel()
	without := func(name string) *arrow.Schema {
		var fields []arrow.Field
		for _, f := range event.Schema.Fields() {
			if f.Name != name {
				fields = append(fields, f)
			}
		}
		return arrow.NewSchema(fields, nil)
	}
	retyped := func(name string, typ arrow.DataType) *arrow.Schema {
		fields := event.Schema.Fields()
		for i := range fields {
			if fields[i].Name == name {
				fields[i].Type = typ
			}
		}
		return arrow.NewSchema(fields, nil)
	}
	for _, tt := range []struct {
		name    string
		schema  *arrow.Schema
		wantErr string
	}{
		{"no schema", nil, "no event schema"},
		{"no event_name", without(ColEventName), `"event_name"`},
		{"no object_key", without(ColObjectKey), `"object_key"`},
		{"event_time a string", retyped(ColEventTime, arrow.BinaryTypes.String), `column "event_time" is STRING, want TIMESTAMP`},
		{"event_id a number", retyped(ColEventID, arrow.PrimitiveTypes.Int64), `column "event_id" is INT64, want STRING`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := New(context.Background(), Config{Schema: tt.schema})
			if err == nil {
				e.Close()
				t.Fatal("New() succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	for _, c := range RequiredColumns {
		if len(event.Schema.FieldIndices(c.Name)) != 1 {
			t.Errorf("event.Schema lacks the required column %q", c.Name)
		}
	}
}

func TestEngine_customRule(t *testing.T) {
	t.Parallel()
	batches := decodeFile(t, filepath.Join(fixtureDir, typeLambda, "account-from-recipient-fires", "events.json"), "obj")
	tests := []struct {
		name, query string
		want        []rules.Violation
	}{
		{
			// The fixture has no userIdentity.accountId: the row has no
			// account and is dropped.
			name:  "rows without account dropped",
			query: testRuleColumns + " FROM events",
		},
		{
			// A star loads every column, so user_agent is there.
			name: "star loads all columns; NULL meta_info becomes {}",
			query: `WITH x AS (SELECT * FROM events)
SELECT event_id, recipient_account_id AS account_id, aws_region AS region, user_agent AS instance_id,
	NULL::VARCHAR AS username, NULL::VARCHAR AS meta_info, event_time, object_key FROM x`,
			want: []rules.Violation{{Type: "TEST_RULE", EventID: "da9a8443-f80e-1212-a0e6-49b5fdeb3042", AccountID: "123456",
				Region: "eu-central-1", InstanceID: "AWS-Toolkit-For-Eclipse/2.3.1.v201708161930, Eclipse/3.13.0.v20170207-1030, aws-sdk-java/1.11.130 Windows_7/6.1 Java_HotSpot(TM)_64-Bit_Server_VM/25.66-b18/1.8.0_66",
				MetaInfo: "{}", Rule: "sql/rules/TEST_RULE.sql", EventTime: time.Date(2017, 8, 22, 12, 52, 11, 0, time.UTC), ObjectKey: "obj"}},
		},
		{
			name: "configuration tables",
			query: `SELECT event_id, recipient_account_id AS account_id, aws_region AS region, NULL::VARCHAR AS instance_id,
	NULL::VARCHAR AS username,
	json_object('regions', (SELECT list(region ORDER BY region) FROM allowed_regions),
	            'buckets', (SELECT list(bucket ORDER BY bucket) FROM lambda_trusted_buckets),
	            'failed', (SELECT include_failed_calls FROM settings))::VARCHAR AS meta_info,
	event_time, object_key FROM raw_events`,
			want: []rules.Violation{{Type: "TEST_RULE", EventID: "da9a8443-f80e-1212-a0e6-49b5fdeb3042", AccountID: "123456",
				Region: "eu-central-1", MetaInfo: `{"regions":["a-1","b-2"],"buckets":["bucket"],"failed":true}`,
				Rule: "sql/rules/TEST_RULE.sql", EventTime: time.Date(2017, 8, 22, 12, 52, 11, 0, time.UTC), ObjectKey: "obj"}},
		},
	}
	t.Run("meta_info not JSON", func(t *testing.T) {
		t.Parallel()
		e := newEngine(t, Config{Rules: rulesFS(strings.Replace(testRuleColumns, "'{}' AS meta_info", "'not json' AS meta_info", 1) +
			" FROM events WHERE recipient_account_id IS NOT NULL")})
		bs := decodeFile(t, filepath.Join(fixtureDir, typeKeyPair, "keyname-fires", "events.json"), "k")
		if _, err := violations(e.Evaluate(context.Background(), bs)); err == nil || !strings.Contains(err.Error(), "not JSON") {
			t.Errorf("Evaluate() error = %v, want meta_info is not JSON", err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t, Config{
				Rules:                rulesFS(tt.query),
				AllowedRegions:       []string{" b-2", "a-1", "", "a-1"},
				LambdaTrustedBuckets: []string{"bucket"},
				IncludeFailedCalls:   true,
			})
			got, err := violations(e.Evaluate(context.Background(), batches))
			if err != nil {
				t.Fatalf("Evaluate() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Evaluate() = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEngine_loadsOnlyNamedColumns(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	var names []string
	for _, f := range e.schema.Fields() {
		names = append(names, f.Name)
	}
	for _, must := range []string{event.ColEventID, event.ColEventSource, event.ColResponseElements, event.ColRequestParameters, event.ColRecipientAccountID} {
		if !strings.Contains(strings.Join(names, ","), must) {
			t.Errorf("loaded columns %v lack %s", names, must)
		}
	}
	for _, not := range []string{event.ColUserAgent, event.ColTLSDetails, event.ColResources} {
		if strings.Contains(strings.Join(names, ","), not) {
			t.Errorf("loaded columns %v include unused %s", names, not)
		}
	}
	if got := e.Rules(); len(got) != 3 {
		t.Errorf("Rules() = %d rules, want 3", len(got))
	}
}

// The rules of a combined query are checked by running it, and one that
// breaks it is named, however many run with it.
func TestNew_brokenCombinedRuleNamed(t *testing.T) {
	t.Parallel()
	own := slices.DeleteFunc(ownSigma(t), func(r rules.Rule) bool { return r.Correlation != nil })
	broken := own[len(own)/2]
	head, cond, ok := strings.Cut(broken.SQL, "\nWHERE ")
	if !ok || !strings.Contains(cond, "event_name") {
		t.Fatalf("rule %s: no condition on event_name in %q", broken.File, broken.SQL)
	}
	broken.SQL = head + "\nWHERE " + strings.ReplaceAll(cond, "event_name", "no_such_column")
	own[len(own)/2] = broken
	if rs, _ := sigma.Combine(own); len(rs) != len(own) {
		t.Fatalf("sigma.Combine takes %d of %d rules, want the broken one too", len(rs), len(own))
	}
	sel, err := rules.ParseSelection("*")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), Config{Schema: event.Schema, MoreRules: own, Selection: &sel, Combine: sigma.Combine})
	if err == nil {
		e.Close()
		t.Fatal("New() succeeded, want an error")
	}
	if !strings.Contains(err.Error(), broken.File) || !strings.Contains(err.Error(), "no_such_column") {
		t.Errorf("New() error = %v, want one naming %s and no_such_column", err, broken.File)
	}
}

// BenchmarkEngine_Evaluate evaluates about 100,000 real events (the real
// logs repeated) in one call, in batches of CloudTrail-object size.
func BenchmarkEngine_Evaluate(b *testing.B) { benchmarkEvaluate(b, Config{}) }

// BenchmarkEngine_EvaluateEveryRule is BenchmarkEngine_Evaluate with
// every rule, our Sigma rules (decided in Go) and their correlation
// included.
func BenchmarkEngine_EvaluateEveryRule(b *testing.B) {
	sel, err := rules.ParseSelection("*")
	if err != nil {
		b.Fatal(err)
	}
	benchmarkEvaluate(b, Config{MoreRules: ownSigma(b), Selection: &sel, Combine: sigma.Combine})
}

func benchmarkEvaluate(b *testing.B, cfg Config) {
	e := newEngine(b, cfg)
	base := realLogs(b)
	var in []arrow.RecordBatch
	var n int64
	for n < 100_000 {
		for _, x := range base {
			in = append(in, x)
			n += x.NumRows()
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		vs, err := violations(e.Evaluate(ctx, in))
		if err != nil {
			b.Fatal(err)
		}
		if len(vs) == 0 {
			b.Fatal("no violations")
		}
	}
	b.ReportMetric(float64(n), "events/op")
}

func TestReferencedColumns(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	tests := []struct {
		query   string
		wantAll bool
		want    []string
	}{
		{"SELECT count(*) FROM events WHERE event_name = 'x'", false, []string{"event_name"}},
		{"SELECT e.aws_region FROM events AS e JOIN allowed_regions a ON a.region = e.aws_region", false, []string{"aws_region", "region"}},
		{"SELECT 1 FROM events JOIN allowed_regions USING (Region)", false, []string{"region"}},
		{"WITH x AS (SELECT user_agent FROM raw_events) SELECT user_agent FROM x", false, []string{"user_agent"}},
		{"SELECT * FROM events", true, nil},
		{"SELECT e.* FROM events e", true, nil},
		{"SELECT COLUMNS('user_.*') FROM events", true, nil},
		{"SELECT 1 FROM events NATURAL JOIN allowed_regions", true, nil},
		{"SELECT to_json(e) FROM events e", true, nil},
		{"SELECT to_json(raw_events) FROM raw_events", true, nil},
	}
	for _, tt := range tests {
		var js string
		if err := e.db.QueryRowContext(context.Background(), serializeSQL, tt.query).Scan(&js); err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		all, err := referencedColumns(js, names)
		if err != nil {
			t.Errorf("%s: %v", tt.query, err)
			continue
		}
		if all != tt.wantAll {
			t.Errorf("%s: all = %v, want %v", tt.query, all, tt.wantAll)
		}
		for _, w := range tt.want {
			if !names[w] {
				t.Errorf("%s: names %v lack %q", tt.query, names, w)
			}
		}
	}
}

// Parsed together, the rules name the columns they name parsed one by
// one; a text that is not one SELECT a rule is refused whole.
func TestStatementColumns(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	serialize := func(q string) string {
		var js string
		if err := e.db.QueryRowContext(context.Background(), serializeSQL, q).Scan(&js); err != nil {
			t.Fatal(err)
		}
		return js
	}
	qs := []string{"SELECT event_name FROM events WHERE aws_region = 'x'", "SELECT e.user_agent FROM raw_events e;", "SELECT * FROM events"}
	one := map[string]bool{}
	wantAll := false
	for _, q := range qs {
		all, err := referencedColumns(serialize(q), one)
		if err != nil {
			t.Fatal(err)
		}
		wantAll = wantAll || all
	}
	together := map[string]bool{}
	all, ok := statementColumns(serialize(strings.Join(qs, ";\n")), len(qs), together)
	if !ok || all != wantAll || fmt.Sprint(together) != fmt.Sprint(one) {
		t.Errorf("together: %v, all %v, ok %v; one by one: %v, all %v", together, all, ok, one, wantAll)
	}
	for _, bad := range []string{
		"SELECT event_name FROM events -- a comment hides the separator",
		"SELECT event_name FROM events; SELECT 1",
		"DELETE FROM events",
	} {
		names := map[string]bool{}
		if _, ok := statementColumns(serialize(bad+";\n"+qs[0]), 2, names); ok || len(names) != 0 {
			t.Errorf("%q with another: ok %v, names %v; want refused, no names", bad, ok, names)
		}
	}
}

// withoutSources is the shipped rules with their "sources" header lines
// removed, so the engine hands DuckDB every event.
func withoutSources(t *testing.T) fstest.MapFS {
	t.Helper()
	names, err := fs.Glob(sqlfiles.Rules, rules.RuleDir+"/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("list rules: %v", err)
	}
	out := fstest.MapFS{}
	for _, n := range names {
		b, err := fs.ReadFile(sqlfiles.Rules, n)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "-- sources:") && !strings.HasPrefix(line, "-- events:") {
				kept = append(kept, line)
			}
		}
		out[n] = &fstest.MapFile{Data: []byte(strings.Join(kept, "\n"))}
	}
	enrichers, err := fs.Glob(sqlfiles.Rules, rules.EnrichDir+"/*.sql")
	if err != nil || len(enrichers) == 0 {
		t.Fatalf("list enrichers: %v", err)
	}
	for _, n := range enrichers {
		b, err := fs.ReadFile(sqlfiles.Rules, n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = &fstest.MapFile{Data: b}
	}
	return out
}

// The sources (or only-column) a rule declares must be all it reads, the
// reference's and our Sigma rules alike: over every real log,
// with failed calls too, the prefiltered engine finds exactly what the
// engine that loads every event finds.
func TestEngine_SourcesPrefilterChangesNothing(t *testing.T) {
	t.Parallel()
	batches := realLogs(t)
	for _, r := range newEngine(t, Config{}).Rules() {
		if len(r.Sources) == 0 {
			t.Errorf("shipped rule %s declares no sources", r.File)
		}
	}
	own := ownSigma(t)
	bare := slices.Clone(own)
	only := 0
	for i := range bare {
		if bare[i].OnlyColumn != "" {
			only++
		}
		bare[i].Sources, bare[i].Events, bare[i].OnlyColumn, bare[i].OnlyValues = nil, nil, "", nil
	}
	if only == 0 {
		t.Fatal("no Sigma rule of ours has an only-filter: the test would not cover it")
	}
	for _, failed := range []bool{false, true} {
		filtered := newEngine(t, Config{IncludeFailedCalls: failed, MoreRules: own, QueriesOnly: true})
		all := newEngine(t, Config{IncludeFailedCalls: failed, Rules: withoutSources(t), MoreRules: bare, QueriesOnly: true})
		if all.full.filter != nil || filtered.full.filter == nil {
			t.Fatalf("filters: prefiltered %v, all %v", filtered.full.filter, all.full.filter)
		}
		want, err := violations(all.Evaluate(context.Background(), batches))
		if err != nil {
			t.Fatal(err)
		}
		got, err := violations(filtered.Evaluate(context.Background(), batches))
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("include failed %v: prefiltered engine found %d violations, the full one %d", failed, len(got), len(want))
		}
	}
}

// violations drops the lifecycle rows of Evaluate's findings.
func violations(f rules.Findings, err error) ([]rules.Violation, error) { return f.Violations, err }

// ownSigma compiles fullstop's own Sigma detections, sql/sigma/.
func ownSigma(t testing.TB) []rules.Rule {
	t.Helper()
	rs, refused, err := sigma.CompileDir(sqlfiles.Sigma, "sigma")
	if err != nil || len(refused) > 0 {
		t.Fatalf("sql/sigma: %v %v", err, refused)
	}
	for i := range rs {
		rs[i].File = "sql/" + rs[i].File
	}
	return rs
}
