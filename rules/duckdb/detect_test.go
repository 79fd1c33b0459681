//go:build duckdb_arrow

package duckdb

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/sigma"
)

// sameViolations compares violations field by field, meta_info as JSON
// (Go writes the request parameters as the event has them, DuckDB writes
// them again).
func sameViolations(t *testing.T, what string, got, want []rules.Violation) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d violations in Go, %d from the queries\ngo:      %v\nqueries: %v", what, len(got), len(want), types(got), types(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		var gm, wm any
		if err := json.Unmarshal([]byte(g.MetaInfo), &gm); err != nil {
			t.Fatalf("%s: violation %d: meta_info %q: %v", what, i, g.MetaInfo, err)
		}
		if err := json.Unmarshal([]byte(w.MetaInfo), &wm); err != nil {
			t.Fatal(err)
		}
		g.MetaInfo, w.MetaInfo = "", ""
		if !reflect.DeepEqual(g, w) || !reflect.DeepEqual(gm, wm) {
			t.Fatalf("%s: violation %d: Go\n%+v\n%v\nqueries\n%+v\n%v", what, i, g, gm, w, wm)
		}
	}
}

func types(vs []rules.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Type+"/"+v.EventID)
	}
	return out
}

// Our Sigma rules decided in Go find exactly what their queries find, over
// every real log, failed calls included, and no event of them needs the
// queries.
func TestEngine_DetectorsChangeNothing(t *testing.T) {
	t.Parallel()
	batches := realLogs(t)
	sel, err := rules.ParseSelection("*")
	if err != nil {
		t.Fatal(err)
	}
	own := ownSigma(t)
	queries := newEngine(t, Config{MoreRules: own, Selection: &sel, Combine: sigma.Combine, QueriesOnly: true})
	inGo := newEngine(t, Config{MoreRules: own, Selection: &sel, Combine: sigma.Combine})
	if inGo.detection == nil || len(inGo.detection.rules) != len(own) || queries.detection != nil {
		t.Fatalf("want all %d of our Sigma rules decided in Go", len(own))
	}
	if len(inGo.rest.combined) != 0 || len(inGo.rest.rules) != len(queries.full.rules)-len(own) {
		t.Fatalf("the queries left: %d rules, %d combined", len(inGo.rest.rules), len(inGo.rest.combined))
	}
	want, err := violations(queries.Evaluate(context.Background(), batches))
	if err != nil {
		t.Fatal(err)
	}
	got, err := violations(inGo.Evaluate(context.Background(), batches))
	if err != nil {
		t.Fatal(err)
	}
	if n := inGo.undecided.Load(); n != 0 {
		t.Fatalf("%d evaluations went back to the queries", n)
	}
	sigmaFound := 0
	for _, v := range want {
		if strings.HasPrefix(v.Type, "SIGMA_") {
			sigmaFound += v.MatchCount() // a correlation's tallied match stands for several
		}
	}
	if sigmaFound < 100 {
		t.Fatalf("only %d Sigma violations: the comparison would cover little", sigmaFound)
	}
	sameViolations(t, "real logs", got, want)
	notInBatches(t, got, batches)
}

// notInBatches fails if a violation's text is the batches' memory: it
// would keep them alive, and they belong to the caller.
func notInBatches(t *testing.T, vs []rules.Violation, batches []arrow.RecordBatch) {
	t.Helper()
	type span struct{ lo, hi uintptr }
	var spans []span
	for _, b := range batches {
		for _, c := range b.Columns() {
			for _, buf := range c.Data().Buffers() {
				if buf != nil && buf.Len() > 0 {
					lo := uintptr(unsafe.Pointer(&buf.Bytes()[0]))
					spans = append(spans, span{lo, lo + uintptr(buf.Len())})
				}
			}
		}
	}
	for _, v := range vs {
		for _, f := range []string{v.EventID, v.AccountID, v.Region, v.InstanceID, v.Username, v.MetaInfo, v.ObjectKey} {
			if f == "" {
				continue
			}
			p := uintptr(unsafe.Pointer(unsafe.StringData(f)))
			for _, s := range spans {
				if s.lo <= p && p < s.hi {
					t.Fatalf("%s %s: %q is in a batch's memory", v.Type, v.EventID, f)
				}
			}
		}
	}
}

// edgeRules test each modifier and condition form where Go and DuckDB
// could part: case, wildcards, NULLs, numbers and objects in JSON, other
// scripts than Latin.
var edgeRules = map[string]string{
	"EQ":         "sel: {eventName: CreateUser}\n  condition: sel",
	"CASED":      "sel: {eventName|cased: CreateUser}\n  condition: sel",
	"WILD":       "sel: {eventName: 'Create*Use?'}\n  condition: sel",
	"CONTAINS":   "sel: {requestParameters.userName|contains: adm}\n  condition: sel",
	"STARTS":     "sel: {userAgent|startswith: aws-cli}\n  condition: sel",
	"ENDS":       "sel: {userAgent|endswith: x_y}\n  condition: sel",
	"ALL":        "sel: {requestParameters|contains|all: ['\"userName\"', 'ice']}\n  condition: sel",
	"RE":         "sel: {userAgent|re: '^Boto3/\\d+'}\n  condition: sel",
	"REI":        "sel: {userAgent|re|i: 'python'}\n  condition: sel",
	"CIDR":       "sel: {sourceIPAddress|cidr: 10.0.0.0/8}\n  condition: sel",
	"EXISTS":     "sel: {errorCode|exists: true}\n  condition: sel",
	"NOTEXISTS":  "sel: {requestParameters.policyArn|exists: false}\n  condition: sel",
	"NULL":       "sel: {requestParameters.description: null}\n  condition: sel",
	"ANYTEXT":    "sel: {requestParameters.list|contains: '*'}\n  condition: sel",
	"LISTEXISTS": "sel: {requestParameters.list|exists: true}\n  filter: {requestParameters.list: null}\n  condition: sel and not filter",
	"FIELDREF":   "sel: {userIdentity.userName|fieldref: requestParameters.userName}\n  condition: sel",
	"REFPART":    "sel: {requestParameters.userName|fieldref|startswith: userIdentity.userName}\n  condition: sel",
	"NUMBER":     "sel: {requestParameters.maxResults: 50}\n  condition: sel",
	"BOOL":       "sel: {requestParameters.withDecryption: 'true'}\n  condition: sel",
	"NESTED":     "sel: {requestParameters.a.b: x}\n  condition: sel",
	"NOT":        "sel: {eventSource: iam.amazonaws.com}\n  filter: {userIdentity.userName: alice}\n  condition: sel and not filter",
	"ONEOF":      "sel_a: {eventName: DeleteUser}\n  sel_b: {userAgent|contains: boto}\n  condition: 1 of sel_*",
	"ALLOF":      "sel_a: {eventSource: iam.amazonaws.com}\n  sel_b: {userAgent|contains: cli}\n  condition: all of sel_* and not errorfilter\n  errorfilter: {errorCode|exists: true}",
	"ESCAPED":    "sel: {requestParameters.userName|contains: '\\*'}\n  condition: sel",
	"UNICODE":    "sel: {requestParameters.userName: 'ädmin'}\n  condition: sel",
}

func edgeSigma(t *testing.T) []rules.Rule {
	t.Helper()
	var out []rules.Rule
	for name, det := range edgeRules {
		src := fmt.Sprintf("title: Edge %s\nid: edge-%s\nlevel: high\nfullstop_type: EDGE_%s\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  %s\n", name, name, name, det)
		r, err := sigma.Compile("edge/"+name+".yml", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// A value with other letters than ASCII's, compared without
		// case, has no Go side: Go's lower case could differ from
		// DuckDB's. That rule runs as a query beside the others.
		if (r.Detector == nil) != (name == "UNICODE") {
			t.Fatalf("%s: Go side %v", name, r.Detector != nil)
		}
		out = append(out, r)
	}
	return out
}

// Each edge case alone: the rules decided in Go give what the queries give,
// and the cases Go cannot decide as DuckDB would go back to the queries.
func TestDetectors_EdgeCases(t *testing.T) {
	t.Parallel()
	rs := edgeSigma(t)
	queries := newEngine(t, Config{Rules: rulesFS("-- sources: nothing.example.com\n" + testRuleColumns + " FROM events WHERE false"), MoreRules: rs, Combine: sigma.Combine, QueriesOnly: true})
	inGo := newEngine(t, Config{Rules: rulesFS("-- sources: nothing.example.com\n" + testRuleColumns + " FROM events WHERE false"), MoreRules: rs, Combine: sigma.Combine})
	base := `"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","awsRegion":"eu-central-1","recipientAccountId":"123456789012"`
	for _, tt := range []struct {
		name, record string
		decided      bool
	}{
		{"plain", `"eventID":"e1","eventSource":"iam.amazonaws.com","eventName":"CreateUser","userAgent":"aws-cli/2.0 x_y","sourceIPAddress":"10.1.2.3",
			"userIdentity":{"type":"IAMUser","userName":"alice","accountId":"123456789012","arn":"arn:aws:iam::123456789012:user/alice"},
			"requestParameters":{"userName":"admin","maxResults":50,"withDecryption":true,"a":{"b":"X"},"description":null}`, true},
		{"lower case, failed", `"eventID":"e2","eventSource":"IAM.amazonaws.com","eventName":"createuser","userAgent":"Boto3/1.2 Python/3","sourceIPAddress":"AWS Internal",
			"errorCode":"AccessDenied","userIdentity":{"type":"IAMUser","userName":"Alice"},"requestParameters":{"userName":"alice","policyArn":"arn:x"}`, true},
		{"wildcard, zeros in the address", `"eventID":"e3","eventSource":"iam.amazonaws.com","eventName":"CreateFooUsex","sourceIPAddress":"010.001.002.003",
			"userIdentity":{"type":"IAMUser","userName":"bob"},"requestParameters":{"userName":"bobby*","description":"d"}`, true},
		{"escapes", `"eventID":"e4","eventSource":"iam.amazonaws.com","eventName":"DeleteUser","userAgent":"botocore","sourceIPAddress":"10.0.0.256",
			"userIdentity":{"type":"IAMUser","userName":"a\"b"},"requestParameters":{"userName":"a\"b\\c","name":"\u00e9"}`, true},
		{"no request", `"eventID":"e5","eventSource":"iam.amazonaws.com","eventName":"ListUsers","sourceIPAddress":"::1","userIdentity":{"type":"Root"}`, true},
		{"non-ASCII user agent", `"eventID":"e6","eventSource":"iam.amazonaws.com","eventName":"CreateUser","userAgent":"ümlaut python",
			"userIdentity":{"type":"IAMUser","userName":"x"},"requestParameters":{"userName":"x"}`, false},
		{"Kelvin sign", `"eventID":"e7","eventSource":"iam.amazonaws.com","eventName":"CreateUser","userIdentity":{"type":"IAMUser","userName":"x"},
			"requestParameters":{"userName":"\u212aadm"}`, false},
		{"fraction", `"eventID":"e8","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","userIdentity":{"type":"IAMUser"},"requestParameters":{"maxResults":50.0}`, false},
		{"object as the resource", `"eventID":"e9","eventSource":"iam.amazonaws.com","eventName":"CreateUser","userIdentity":{"type":"IAMUser","userName":"q"},
			"requestParameters":{"bucketName":{"x":1},"userName":"q"}`, false},
		{"object not read", `"eventID":"e10","eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{"type":"IAMUser"},"requestParameters":{"a":{"b":"x"},"bucketName":"bk","list":[1,{"c":2.50}]}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc := `{"Records":[{` + base + `,` + tt.record + `}]}`
			batches := decode(t, strings.NewReader(doc), event.Origin{Key: "edge/" + tt.name})
			want, err := violations(queries.Evaluate(context.Background(), batches))
			if err != nil {
				t.Fatal(err)
			}
			before := inGo.undecided.Load()
			got, err := violations(inGo.Evaluate(context.Background(), batches))
			if err != nil {
				t.Fatal(err)
			}
			if decided := inGo.undecided.Load() == before; decided != tt.decided {
				t.Errorf("decided in Go: %v, want %v", decided, tt.decided)
			}
			t.Logf("%v", types(want))
			sameViolations(t, tt.name, got, want)
		})
	}
}
