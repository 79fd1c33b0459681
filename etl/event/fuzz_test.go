package event

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzDecode decodes any input and checks it against encoding/json: no
// panic, no leak; a document encoding/json reads as CloudTrail decodes, and
// one the decoder accepts is CloudTrail for encoding/json with
// Events+Skipped records, every row equal to the independent decoding.
func FuzzDecode(f *testing.F) {
	files := invictusFiles(f)
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys[:8] {
		recs, _ := oracleRecords(f, files[k])
		for i := 0; i < len(recs) && i < 4; i++ {
			b, err := json.Marshal(recs[i])
			if err != nil {
				f.Fatal(err)
			}
			f.Add([]byte(`{"Records":[` + string(b) + `]}`))
		}
	}
	for _, name := range []string{
		"fullstop-fixtures/unapproved-services-and-role-plugin__record.json",
		"fullstop-fixtures/application-lifecycle-plugin__record-termination.json",
		"fullstop-fixtures/team-service-client-spring__power-user-accounts.json",
		"stratus/aws.initial-access.console-login-without-mfa.json",
	} {
		b, err := os.ReadFile(filepath.Join(ctData, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "{}", "[]", "null", `{"Records":null}`, `{"Records":{}}`, `{"Records":[]}`,
		doc(rec("a"), `1`, `null`, `[]`, rec("b", "eventTime", `"yesterday"`), rec("c", "userIdentity", `"x"`)),
		doc(rec("a", "readOnly", `"true"`, "userIdentity", `{"sessionContext":{"attributes":{"mfaAuthenticated":true}}}`)),
		doc(rec("a", "requestParameters", `[1,{"a":"\u00e9\ud83d\ude00"},null]`, "eventName", `"a\"b\\c"`)),
		`{"Records":[` + rec("a") + `],"Records":[]}`,
		"{\"Records\":[{\"eventID\":\"\xff\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"x\":\"\xc3\"}]}",
		doc(rec("a"))[:40],
	} {
		f.Add([]byte(s))
	}

	const batchSize = 3
	o := Origin{Key: "AWSLogs/123456789012/CloudTrail/xx-fake-1/2024/01/01/f.json.gz", Account: "123456789012", Region: "xx-fake-1"}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		d := NewDecoder(mem, batchSize)
		defer d.Release()

		res, err := d.Decode(bytes.NewReader(data), o)
		v, oerr := parseJSON(data)
		if err != nil {
			if res != nil {
				t.Fatalf("Decode returned a Result with error %v", err)
			}
			if oerr == nil && isCloudTrail(v) && countRecords(data) == 1 {
				t.Fatalf("Decode failed on a CloudTrail document: %v", err)
			}
			return
		}
		defer res.Release()
		if oerr != nil {
			if strings.Contains(oerr.Error(), "exceeded max depth") {
				return // the decoder counts depth from each record
			}
			t.Fatalf("Decode accepted what encoding/json rejects: %v", oerr)
		}
		if !isCloudTrail(v) {
			t.Fatalf("Decode accepted a document without a Records array")
		}
		recs, _ := v.(map[string]any)["Records"].([]any)
		if res.Events+res.Skipped != len(recs) {
			t.Fatalf("Events %d + Skipped %d, want %d records", res.Events, res.Skipped, len(recs))
		}
		checkObject(t, "fuzz", o, recs, res, batchSize)

		// Decoding again with the same decoder gives the same rows.
		again, err := d.Decode(bytes.NewReader(data), o)
		if err != nil {
			t.Fatalf("second Decode: %v", err)
		}
		defer again.Release()
		checkObject(t, "fuzz again", o, recs, again, batchSize)
	})
}

// isCloudTrail says whether v, a document decoded by encoding/json, has a
// Records member that is an array or null.
func isCloudTrail(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	recs, ok := m["Records"]
	if !ok {
		return false
	}
	_, isArray := recs.([]any)
	return recs == nil || isArray
}

// countRecords counts the document's top-level members named Records.
func countRecords(data []byte) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0
	}
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		if tok == "Records" {
			n++
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return n
		}
	}
	return n
}
