package event

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// sameAsLegacy decodes data with d and with the legacy decoder (the
// decoder before the scanner) and fails unless both give the same error
// text, or the same counts, reasons and batches. It also fails when the
// scanner left a document to the reference path that the reference path
// could decode.
func sameAsLegacy(t testing.TB, d *Decoder, data []byte, o Origin, batchSize int) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	old := newLegacyDecoder(mem, batchSize)
	defer old.Release()
	want, werr := old.Decode(bytes.NewReader(data), o)
	if werr == nil {
		defer want.Release()
	}
	before := d.referenceDecoded
	got, gerr := d.Decode(bytes.NewReader(data), o)
	if gerr == nil {
		defer got.Release()
	}
	if d.referenceDecoded != before {
		t.Fatalf("the scanner rejected a document the reference path decoded: %.200q", data)
	}
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("error %v, legacy decoder %v; input %.200q", gerr, werr, data)
	}
	if werr != nil {
		return
	}
	if got.Events != want.Events || got.Skipped != want.Skipped {
		t.Fatalf("Events %d Skipped %d, legacy decoder %d and %d", got.Events, got.Skipped, want.Events, want.Skipped)
	}
	reasons := func(es []*RecordError) (s []string) {
		for _, e := range es {
			s = append(s, e.Error())
		}
		return s
	}
	if g, w := reasons(got.Errors), reasons(want.Errors); !slices.Equal(g, w) {
		t.Fatalf("record errors %q, legacy decoder %q", g, w)
	}
	if len(got.Batches) != len(want.Batches) {
		t.Fatalf("%d batches, legacy decoder %d", len(got.Batches), len(want.Batches))
	}
	for i, b := range got.Batches {
		w := want.Batches[i]
		if !b.Schema().Equal(w.Schema()) || b.NumRows() != w.NumRows() {
			t.Fatalf("batch %d: %d rows of %v, legacy decoder %d of %v", i, b.NumRows(), b.Schema(), w.NumRows(), w.Schema())
		}
		for c := range int(b.NumCols()) {
			if !array.Equal(b.Column(c), w.Column(c)) {
				t.Fatalf("batch %d column %s:\n%v\nlegacy decoder:\n%v", i, b.Schema().Field(c).Name, b.Column(c), w.Column(c))
			}
			if v, ok := b.Column(c).(interface{ ValidateFull() error }); ok {
				if err := v.ValidateFull(); err != nil {
					t.Fatalf("batch %d column %s: %v", i, b.Schema().Field(c).Name, err)
				}
			}
		}
	}
}

// realDocuments returns the project's real CloudTrail documents and
// reference fixtures, the stratus arrays wrapped in {"Records":...}, by
// name.
func realDocuments(t testing.TB) map[string][]byte {
	t.Helper()
	docs := invictusFiles(t)
	for _, glob := range []string{"stratus/*.json", "fullstop-fixtures/*.json"} {
		files, err := filepath.Glob(filepath.Join(ctData, glob))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %d files, %v", glob, len(files), err)
		}
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(glob, "stratus") {
				data = append(append([]byte(`{"Records":`), data...), '}')
			}
			docs[path] = data
		}
	}
	return docs
}

// TestDecode_sameAsLegacy compares every real document, and damaged
// copies of a few, with the legacy decoder.
func TestDecode_sameAsLegacy(t *testing.T) {
	t.Parallel()
	d := newTestDecoder(t, 7)
	docs := realDocuments(t)
	names := make([]string, 0, len(docs))
	for name := range docs {
		names = append(names, name)
	}
	slices.Sort(names)
	rng := rand.New(rand.NewPCG(1, 2))
	for n, name := range names {
		data := docs[name]
		o := Origin{Key: name, Account: "123456789012", Region: "eu-west-1"}
		sameAsLegacy(t, d, data, o, 7)
		if n%8 != 0 {
			continue
		}
		for range 40 {
			sameAsLegacy(t, d, damage(rng, data), o, 7)
		}
	}
}

// damage returns a copy of data with a random change of the kinds that
// make JSON invalid or change a record: a byte replaced, removed or added,
// or the document cut.
func damage(rng *rand.Rand, data []byte) []byte {
	const special = "{}[]\",:\\ntfu0-.eE \x00\x1f\x7f\xc3\xff"
	out := bytes.Clone(data)
	i := rng.IntN(len(out))
	c := special[rng.IntN(len(special))]
	switch rng.IntN(4) {
	case 0:
		out[i] = c
	case 1:
		out = slices.Delete(out, i, i+1)
	case 2:
		out = slices.Insert(out, i, c)
	default:
		out = out[:i]
	}
	return out
}

// FuzzDecodeLegacy checks any input against the legacy decoder: same
// errors, same rows, same reasons.
func FuzzDecodeLegacy(f *testing.F) {
	for _, s := range []string{
		"", " ", "{}", "[]", "null", `{"Records":null}`, `{"Records":{}}`, `{"Records":[]}`, `{"Records":[1,2]}`,
		doc(rec("a"), `1`, `null`, `[]`, rec("b", "eventTime", `"yesterday"`), rec("c", "userIdentity", `"x"`)),
		doc(rec("a", "readOnly", `"true"`, "userIdentity", `{"sessionContext":{"attributes":{"mfaAuthenticated":true}}}`)),
		doc(rec("a", "requestParameters", `[1,{"a":"\u00e9\ud83d\ude00"},null]`, "eventName", `"a\"b\\c\/\b\f\n\r\t"`)),
		doc(rec("a", "eventName", `"\ud800\u0041\udc00\ud83d\ude00\ud83d"`, "userAgent", `"x\u0000y"`)),
		doc(rec("a", "userIdentity", `{"type":"A","userIdentity":{"type":"B"}}`, "userIdentity", `null`)),
		doc(rec("a", "userIdentity", `{"type":"A"}`, "userIdentity", `{"arn":"x"}`)),
		doc(rec("a", "requestParameters", `{"n":[-0,1.5e+10,2E-3,0.0,-12]}`)),
		doc(rec("a", "eventTime", `"2024-02-30T00:00:00Z"`), rec("b", "eventTime", `"2024-01-01T00:00:00.123456789-01:30"`)),
		"{\"Records\":[{\"eventID\":\"\xff\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"x\":\"\xc3\"}]}",
		`{"Rec\u006frds":[` + rec("a") + `]}`,
		`{"x":1,"Records":[` + rec("a") + `],"Records":[]}`,
		`{"Records":[` + rec("a") + `]}  ` + "\n",
		`{"Records":[` + rec("a") + `]} {}`,
		`{"Records":[` + rec("a", "requestParameters", strings.Repeat("[", 9999)+strings.Repeat("]", 9999)) + `]}`,
		`{"Records":[` + rec("a", "requestParameters", strings.Repeat("[", 10000)+strings.Repeat("]", 10000)) + `]}`,
		`{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `,"Records":[]}`,
		`{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `,"Records":[]}`,
		`{"Records":[` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `]}`,
		`{"Records":[` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `]}`,
	} {
		f.Add([]byte(s))
	}
	docs := realDocuments(f)
	for _, name := range []string{
		filepath.Join(ctData, "fullstop-fixtures", "unapproved-services-and-role-plugin__record.json"),
		filepath.Join(ctData, "stratus", "aws.initial-access.console-login-without-mfa.json"),
	} {
		f.Add(docs[name])
	}
	const batchSize = 3
	o := Origin{Key: "k", Account: "123456789012"}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		d := NewDecoder(mem, batchSize)
		defer d.Release()
		sameAsLegacy(t, d, data, o, batchSize)
		sameAsLegacy(t, d, data, o, batchSize) // and again, reusing d
	})
}
