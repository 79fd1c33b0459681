//go:build duckdb_arrow

package duckdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/fixture"
)

// runInstances is a CloudTrail document of n RunInstances events in
// account acct and eu-west-1, each launching one instance of ami.
func runInstances(acct, ami string, n int) string {
	var recs []string
	for i := range n {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.05","eventID":"ev-%s-%d","eventTime":"2024-03-01T10:00:00Z",
"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"eu-west-1",
"userIdentity":{"type":"IAMUser","accountId":%q,"arn":"arn:aws:iam::%s:user/u"},
"responseElements":{"instancesSet":{"items":[{"instanceId":"i-%s-%d","imageId":%q}]}}}`, acct, i, acct, acct, acct, i, ami))
	}
	return `{"Records":[` + strings.Join(recs, ",") + `]}`
}

// distinctLaunches is a CloudTrail document of n RunInstances events in
// account 111 and eu-west-1, each of another AMI, with the answers of
// their image lookups: AMIs named name, owned by account 9.
func distinctLaunches(n int, name string) (string, []fixture.Answer) {
	var recs []string
	var answers []fixture.Answer
	for i := range n {
		ami := fmt.Sprintf("ami-%08x", i)
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.05","eventID":"ev-%d","eventTime":"2024-03-01T10:00:00Z",
"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"eu-west-1",
"userIdentity":{"type":"IAMUser","accountId":"111","arn":"arn:aws:iam::111:user/u"},
"responseElements":{"instancesSet":{"items":[{"instanceId":"i-%d","imageId":%q}]}}}`, i, i, ami))
		answers = append(answers, fixture.Answer{Key: []string{"111", "eu-west-1", ami},
			Answer: json.RawMessage(`{"image_id":"` + ami + `","name":"` + name + `","owner_id":"9"}`)})
	}
	return `{"Records":[` + strings.Join(recs, ",") + `]}`, answers
}

func decodeString(t testing.TB, doc, key string) []arrow.RecordBatch {
	t.Helper()
	return decode(t, strings.NewReader(doc), event.Origin{Key: key})
}

// A batch of 1,000 launches of one AMI makes one DescribeImages call.
func TestEnrich_oneLookupPerKey(t *testing.T) {
	t.Parallel()
	res := fixture.NewResolver(map[string][]fixture.Answer{
		"ec2.image": {{Key: []string{"111", "eu-west-1", "ami-1"}, Answer: json.RawMessage(`{"image_id":"ami-1","name":"ubuntu","owner_id":"9"}`)}},
	})
	e := newEngine(t, Config{Resolver: res, TaupageOwners: []string{"9"}})
	vs, err := violations(e.Evaluate(context.Background(), decodeString(t, runInstances("111", "ami-1", 1000), "k1")))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range vs {
		if v.Type == "WRONG_AMI" {
			n++
		}
	}
	if n != 1000 {
		t.Errorf("WRONG_AMI violations = %d, want 1000", n)
	}
	if got := res.Calls("ec2.image", "111", "eu-west-1", "ami-1"); got != 1 {
		t.Errorf("DescribeImages lookups = %d, want 1", got)
	}
}

// A lookup that fails for now leaves out exactly the objects whose
// events need its key; the others' violations are complete.
func TestEnrich_failedLookupLeavesItsObjects(t *testing.T) {
	t.Parallel()
	res := fixture.NewResolver(map[string][]fixture.Answer{
		"ec2.image": {
			{Key: []string{"111", "eu-west-1", "ami-1"}, Answer: json.RawMessage(`{"image_id":"ami-1","name":"ubuntu","owner_id":"9"}`)},
			{Key: []string{"222", "eu-west-1", "ami-2"}, Error: "RequestLimitExceeded: throttled"},
		},
	})
	e := newEngine(t, Config{Resolver: res})
	batches := append(decodeString(t, runInstances("111", "ami-1", 2), "ok"), decodeString(t, runInstances("222", "ami-2", 2), "throttled")...)
	vs, err := violations(e.Evaluate(context.Background(), batches))
	var inc *rules.IncompleteError
	if !errors.As(err, &inc) {
		t.Fatalf("Evaluate() error = %v, want an *rules.IncompleteError", err)
	}
	if len(inc.Objects) != 1 || inc.Objects["throttled"] == nil || !strings.Contains(inc.Objects["throttled"].Error(), "RequestLimitExceeded") {
		t.Errorf("incomplete objects = %v, want only \"throttled\" with the lookup's error", inc.Objects)
	}
	wrongAMI := 0
	for _, v := range vs {
		if v.ObjectKey != "ok" {
			t.Errorf("violation %s of object %q reported, want none of an incomplete object", v.Type, v.ObjectKey)
		}
		if v.Type == "WRONG_AMI" {
			wrongAMI++
		}
	}
	if wrongAMI != 2 {
		t.Errorf("WRONG_AMI of the complete object = %d, want 2", wrongAMI)
	}
}

// Without a resolver the rules that need a lookup are disabled, with the
// reason, and the ones that join a lookup optionally still run.
func TestEnrich_noResolverDisables(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	disabled := map[string]string{}
	for _, d := range e.Disabled() {
		disabled[d.Rule.Type] = d.Reason
	}
	for _, typ := range []string{"WRONG_AMI", "MISSING_USER_DATA", "MISSING_APPLICATION_ID_IN_USER_DATA", "MISSING_SOURCE_IN_USER_DATA", "EC2_WITH_A_SNAPSHOT_IMAGE"} {
		if !strings.Contains(disabled[typ], "not configured") {
			t.Errorf("%s: disabled reason %q, want one saying its lookup is not configured", typ, disabled[typ])
		}
	}
	enabled := map[string]bool{}
	for _, r := range e.Rules() {
		enabled[r.Type] = true
	}
	for _, typ := range []string{"EC2_WITH_KEYPAIR", "WRONG_REGION", "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION"} {
		if !enabled[typ] {
			t.Errorf("%s is not run without a resolver", typ)
		}
	}
	vs, err := violations(e.Evaluate(context.Background(), decodeString(t, runInstances("111", "ami-1", 3), "k")))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Type == "WRONG_AMI" {
			t.Fatalf("WRONG_AMI reported without a resolver: %+v", v)
		}
	}
}

// A rule naming an enrichment table no enricher fills fails New.
func TestEnrich_unknownLookupTable(t *testing.T) {
	t.Parallel()
	fsys := rulesFS(testRuleColumns + " FROM events")
	f := fsys["rules/TEST_RULE.sql"]
	f.Data = []byte(strings.Replace(string(f.Data), "-- help:", "-- lookups: nowhere\n-- help:", 1))
	_, err := New(context.Background(), Config{Schema: event.Schema, Rules: fsys})
	if err == nil || !strings.Contains(err.Error(), `"nowhere"`) {
		t.Fatalf("New() error = %v, want one naming the table", err)
	}
}

// More distinct keys than one INSERT carries: every answer is loaded.
func TestEnrich_manyKeys(t *testing.T) {
	t.Parallel()
	const n = 2*insertChunk + 7
	doc, answers := distinctLaunches(n, "Taupage-x")
	// Every launch's AMI is a Taupage AMI but the last one's.
	answers[n-1].Answer = json.RawMessage(`{"image_id":"x","name":"ubuntu","owner_id":"9"}`)
	res := fixture.NewResolver(map[string][]fixture.Answer{"ec2.image": answers})
	e := newEngine(t, Config{Resolver: res, TaupageOwners: []string{"9"}})
	vs, err := violations(e.Evaluate(context.Background(), decodeString(t, doc, "k")))
	if err != nil {
		t.Fatal(err)
	}
	var wrong []string
	for _, v := range vs {
		if v.Type == "WRONG_AMI" {
			wrong = append(wrong, v.InstanceID)
		}
	}
	if want := fmt.Sprintf("i-%d", n-1); len(wrong) != 1 || wrong[0] != want {
		t.Errorf("WRONG_AMI for %d instances (%.3v), want only %s", len(wrong), wrong, want)
	}
	for i := range n {
		if c := res.Calls("ec2.image", "111", "eu-west-1", fmt.Sprintf("ami-%08x", i)); c != 1 {
			t.Fatalf("ami %d asked %d times, want once", i, c)
		}
	}
}

// A batch without events a lookup rule reads asks for nothing: the rules
// whose events are absent do not run, nor do the enrichers they need.
func TestEnrich_absentEventsAskNothing(t *testing.T) {
	t.Parallel()
	// Any lookup fails: a call would make the object incomplete.
	res := fixture.NewResolver(map[string][]fixture.Answer{"ec2.image": nil, "ec2.instance": nil, "ec2.user_data": nil, "ec2.subnet": nil})
	e := newEngine(t, Config{Resolver: res})
	doc := `{"Records":[{"eventVersion":"1.05","eventID":"ev-1","eventTime":"2024-03-01T10:00:00Z",
"eventSource":"lambda.amazonaws.com","eventName":"CreateFunction20150331","awsRegion":"us-west-2",
"userIdentity":{"type":"IAMUser","accountId":"111","arn":"arn:aws:iam::111:user/u"},
"requestParameters":{"functionName":"f","code":{}},"responseElements":{"functionName":"f","functionArn":"arn:aws:lambda:us-west-2:111:function:f"}}]}`
	vs, err := violations(e.Evaluate(context.Background(), decodeString(t, doc, "lambda")))
	if err != nil {
		t.Fatalf("Evaluate() error = %v, want none: no lookup is needed", err)
	}
	types := map[string]bool{}
	for _, v := range vs {
		types[v.Type] = true
	}
	if !types["WRONG_REGION"] || !types["LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION"] {
		t.Errorf("violations %v, want the Lambda rules'", types)
	}
	// With a launch, the EC2 lookups are asked (and fail here).
	if _, err := violations(e.Evaluate(context.Background(), decodeString(t, runInstances("111", "ami-1", 1), "launch"))); err == nil {
		t.Error("a launch with failing lookups: no error")
	}
}

// A rule is not run over a batch in which a table it requires got no
// rows: it joins its lookups, so it has nothing to report. An optional
// table does not hold it back.
func TestEnrich_emptyRequiredTableSkipsTheRule(t *testing.T) {
	t.Parallel()
	enricher := `-- table: images
-- lookup: ec2.image
-- help: The AMIs of launches.
SELECT DISTINCT object_key, coalesce(user_identity_account_id, '') AS account_id, aws_region AS region,
       json_extract_string(response_elements, '$.instancesSet.items[0].imageId') AS image_id
FROM events WHERE event_name = 'RunInstances'
`
	rule := func(lookups string) fstest.MapFS {
		fs := rulesFS("-- sources: ec2.amazonaws.com\n-- lookups: " + lookups + "\n" + testRuleColumns +
			" FROM events WHERE (SELECT count(*) FROM images) = 0")
		fs["enrich/20_images.sql"] = &fstest.MapFile{Data: []byte(enricher)}
		return fs
	}
	res := fixture.NewResolver(map[string][]fixture.Answer{"ec2.image": {{Key: []string{"111", "eu-west-1", "ami-1"}, Answer: json.RawMessage(`null`)}}})
	stop := `{"Records":[{"eventVersion":"1.05","eventID":"ev-1","eventTime":"2024-03-01T10:00:00Z",
"eventSource":"ec2.amazonaws.com","eventName":"StopInstances","awsRegion":"eu-west-1",
"userIdentity":{"type":"IAMUser","accountId":"111","arn":"arn:aws:iam::111:user/u"}}]}`
	for _, tt := range []struct {
		lookups string
		doc     string
		want    int
	}{
		{"images", stop, 0},                            // no launch, no image keys: not run
		{"images?", stop, 1},                           // optional: run, and it reports
		{"images", runInstances("111", "ami-1", 1), 0}, // the table has the launch's AMI ("not found"): run, reports nothing
	} {
		e := newEngine(t, Config{Rules: rule(tt.lookups), Resolver: res})
		vs, err := violations(e.Evaluate(context.Background(), decodeString(t, tt.doc, "k")))
		if err != nil || len(vs) != tt.want {
			t.Errorf("lookups %s: %d violations, %v; want %d", tt.lookups, len(vs), err, tt.want)
		}
	}
}

// BenchmarkEnrich_loadAnswers evaluates 5,000 launches of as many AMIs,
// all answered from memory: the cost of collecting the keys and loading
// the answers, against BenchmarkEnrich_noResolver, the same batch with the
// lookup rules disabled.
func BenchmarkEnrich_loadAnswers(b *testing.B) { benchmarkEnrich(b, true) }

// BenchmarkEnrich_noResolver is the peer of BenchmarkEnrich_loadAnswers.
func BenchmarkEnrich_noResolver(b *testing.B) { benchmarkEnrich(b, false) }

func benchmarkEnrich(b *testing.B, lookups bool) {
	doc, answers := distinctLaunches(5000, "ubuntu")
	cfg := Config{TaupageOwners: []string{"9"}}
	if lookups {
		cfg.Resolver = fixture.NewResolver(map[string][]fixture.Answer{"ec2.image": answers})
	}
	e := newEngine(b, cfg)
	batches := decodeString(b, doc, "k")
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Evaluate(context.Background(), batches); err != nil {
			b.Fatal(err)
		}
	}
}
