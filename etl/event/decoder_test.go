package event

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ctData is the real CloudTrail data shared by the project's tests.
const ctData = "../../testdata/cloudtrail"

// --- an independent decoding, with encoding/json into map[string]any ---

// rawJSON is the expected value of a JSON text column: the decoded value.
type rawJSON struct{ v any }

// parseJSON decodes one whole JSON document, keeping numbers as written.
func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the document: %v", err)
	}
	return v, nil
}

// oracleRecords returns the Records of a CloudTrail document decoded by
// encoding/json, and false when doc is not one.
func oracleRecords(t testing.TB, doc []byte) ([]any, bool) {
	t.Helper()
	v, err := parseJSON(doc)
	if err != nil {
		t.Fatalf("independent decoding: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	recs, present := m["Records"]
	if !present {
		return nil, false
	}
	if recs == nil {
		return nil, true
	}
	arr, ok := recs.([]any)
	return arr, ok
}

// wantRow is the row the decoder must produce for rec, the index-th
// record of an object from o; ok is false when the record must be skipped.
func wantRow(o Origin, index int, rec any) (row map[string]any, ok bool) {
	m, isObject := rec.(map[string]any)
	if !isObject {
		return nil, false
	}
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	row = map[string]any{
		ColObjectKey:   o.Key,
		ColKeyAccount:  orNull(o.Account),
		ColKeyRegion:   orNull(o.Region),
		ColRecordIndex: int32(index),
	}
	ok = true
	str := func(col string, obj map[string]any, name string) {
		switch v := obj[name].(type) {
		case nil:
			row[col] = nil
		case string:
			row[col] = v
		default:
			ok = false
		}
	}
	boolean := func(col string, obj map[string]any, name string) {
		switch v := obj[name].(type) {
		case nil:
			row[col] = nil
		case bool:
			row[col] = v
		case string:
			switch v {
			case "true":
				row[col] = true
			case "false":
				row[col] = false
			default:
				ok = false
			}
		default:
			ok = false
		}
	}
	object := func(obj map[string]any, name string) map[string]any {
		switch v := obj[name].(type) {
		case nil:
			return map[string]any{}
		case map[string]any:
			return v
		default:
			ok = false
			return map[string]any{}
		}
	}
	raw := func(col, name string) {
		if v := m[name]; v != nil {
			row[col] = rawJSON{v}
		} else {
			row[col] = nil
		}
	}

	id, _ := m["eventID"].(string)
	if id == "" {
		return nil, false
	}
	row[ColEventID] = id
	ts, _ := m["eventTime"].(string)
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return nil, false
	}
	row[ColEventTime] = t.Truncate(time.Microsecond).UTC()

	for col, name := range map[string]string{
		ColEventVersion:       "eventVersion",
		ColEventSource:        "eventSource",
		ColEventName:          "eventName",
		ColAWSRegion:          "awsRegion",
		ColSourceIPAddress:    "sourceIPAddress",
		ColUserAgent:          "userAgent",
		ColErrorCode:          "errorCode",
		ColErrorMessage:       "errorMessage",
		ColRequestID:          "requestID",
		ColEventType:          "eventType",
		ColEventCategory:      "eventCategory",
		ColRecipientAccountID: "recipientAccountId",
		ColSharedEventID:      "sharedEventID",
		ColVPCEndpointID:      "vpcEndpointId",
		ColAPIVersion:         "apiVersion",
	} {
		str(col, m, name)
	}
	boolean(ColReadOnly, m, "readOnly")
	boolean(ColManagementEvent, m, "managementEvent")

	ui := object(m, "userIdentity")
	for col, name := range map[string]string{
		ColUserIdentityType:        "type",
		ColUserIdentityPrincipalID: "principalId",
		ColUserIdentityARN:         "arn",
		ColUserIdentityAccountID:   "accountId",
		ColUserIdentityAccessKeyID: "accessKeyId",
		ColUserIdentityUserName:    "userName",
		ColUserIdentityInvokedBy:   "invokedBy",
	} {
		str(col, ui, name)
	}
	sc := object(ui, "sessionContext")
	issuer := object(sc, "sessionIssuer")
	for col, name := range map[string]string{
		ColSessionIssuerType:        "type",
		ColSessionIssuerPrincipalID: "principalId",
		ColSessionIssuerARN:         "arn",
		ColSessionIssuerAccountID:   "accountId",
		ColSessionIssuerUserName:    "userName",
	} {
		str(col, issuer, name)
	}
	boolean(ColMFAAuthenticated, object(sc, "attributes"), "mfaAuthenticated")

	raw(ColRequestParameters, "requestParameters")
	raw(ColResponseElements, "responseElements")
	raw(ColAdditionalEventData, "additionalEventData")
	raw(ColResources, "resources")
	raw(ColServiceEventDetails, "serviceEventDetails")
	raw(ColTLSDetails, "tlsDetails")
	if !ok {
		return nil, false
	}
	return row, true
}

// --- reading the decoder's output ---

// rowsOf returns every row of res's batches as column name → value: nil
// (NULL), string, bool, int32 or time.Time. It checks each batch's schema,
// its size and that every string is valid UTF-8.
func rowsOf(t testing.TB, res *Result, batchSize int) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for bi, b := range res.Batches {
		if !b.Schema().Equal(Schema) {
			t.Fatalf("batch %d has schema %v, want %v", bi, b.Schema(), Schema)
		}
		n := int(b.NumRows())
		if n == 0 || n > batchSize {
			t.Fatalf("batch %d has %d rows, want 1..%d", bi, n, batchSize)
		}
		for r := range n {
			row := make(map[string]any, numColumns)
			for c, f := range Schema.Fields() {
				col := b.Column(c)
				if col.Len() != n {
					t.Fatalf("batch %d column %s has %d rows, want %d", bi, f.Name, col.Len(), n)
				}
				if col.IsNull(r) {
					if !f.Nullable {
						t.Fatalf("batch %d row %d: non-nullable column %s is NULL", bi, r, f.Name)
					}
					row[f.Name] = nil
					continue
				}
				switch a := col.(type) {
				case *array.String:
					s := a.Value(r)
					if !utf8.ValidString(s) {
						t.Fatalf("batch %d row %d column %s is not valid UTF-8: %q", bi, r, f.Name, s)
					}
					row[f.Name] = s
				case *array.Boolean:
					row[f.Name] = a.Value(r)
				case *array.Int32:
					row[f.Name] = a.Value(r)
				case *array.Timestamp:
					row[f.Name] = time.UnixMicro(int64(a.Value(r))).UTC()
				default:
					t.Fatalf("column %s is a %T", f.Name, col)
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// compareRow checks every column of got against want.
func compareRow(t testing.TB, label string, got, want map[string]any) {
	t.Helper()
	for _, f := range Schema.Fields() {
		g, w := got[f.Name], want[f.Name]
		switch wv := w.(type) {
		case rawJSON:
			gs, ok := g.(string)
			if !ok {
				t.Errorf("%s: %s = %#v, want JSON text of %v", label, f.Name, g, wv.v)
				continue
			}
			gv, err := parseJSON([]byte(gs))
			if err != nil {
				t.Errorf("%s: %s = %q is not JSON: %v", label, f.Name, gs, err)
				continue
			}
			if !reflect.DeepEqual(gv, wv.v) {
				t.Errorf("%s: %s = %s, want %v", label, f.Name, gs, wv.v)
			}
		case time.Time:
			gt, ok := g.(time.Time)
			if !ok || !gt.Equal(wv) {
				t.Errorf("%s: %s = %v, want %v", label, f.Name, g, wv)
			}
		default:
			if g != w {
				t.Errorf("%s: %s = %#v, want %#v", label, f.Name, g, w)
			}
		}
	}
}

// checkObject compares a decoded object with the independent decoding of
// its records, column by column, and the Result's counts and reasons.
func checkObject(t testing.TB, label string, o Origin, recs []any, res *Result, batchSize int) {
	t.Helper()
	rows := rowsOf(t, res, batchSize)
	var skipped []int
	next := 0
	for i, rec := range recs {
		want, ok := wantRow(o, i, rec)
		if !ok {
			skipped = append(skipped, i)
			continue
		}
		if next >= len(rows) {
			t.Fatalf("%s: record %d is missing from the output (%d rows)", label, i, len(rows))
		}
		compareRow(t, fmt.Sprintf("%s record %d", label, i), rows[next], want)
		next++
	}
	if next != len(rows) {
		t.Fatalf("%s: %d rows, want %d", label, len(rows), next)
	}
	if res.Events != len(rows) || res.Skipped != len(skipped) {
		t.Fatalf("%s: Events %d Skipped %d, want %d and %d", label, res.Events, res.Skipped, len(rows), len(skipped))
	}
	var reasons []int
	for _, e := range res.Errors {
		if e.Key != o.Key || e.Err == nil {
			t.Fatalf("%s: record error %+v", label, e)
		}
		reasons = append(reasons, e.Index)
	}
	if want := skipped[:min(len(skipped), maxRecordErrors)]; !slices.Equal(reasons, want) {
		t.Fatalf("%s: record errors for %v, want %v", label, reasons, want)
	}
}

// --- helpers ---

func newChecked(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// newTestDecoder returns a decoder released, and its memory checked, when
// the test ends.
func newTestDecoder(t testing.TB, batchSize int) *Decoder {
	d := NewDecoder(newChecked(t), batchSize)
	t.Cleanup(d.Release)
	return d
}

func decode(t testing.TB, d *Decoder, doc string, o Origin) *Result {
	t.Helper()
	res, err := d.Decode(strings.NewReader(doc), o)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	t.Cleanup(res.Release)
	return res
}

// rec returns a valid CloudTrail record with eventID id and the given
// changes: pairs of a member name and its JSON text, "" to remove it.
func rec(id string, changes ...string) string {
	members := [][2]string{
		{"eventVersion", `"1.08"`},
		{"userIdentity", `{"type":"AssumedRole","principalId":"AROA:s","arn":"arn:aws:sts::123456789012:assumed-role/r/s","accountId":"123456789012","accessKeyId":"ASIA","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA","arn":"arn:aws:iam::123456789012:role/r","accountId":"123456789012","userName":"r"},"attributes":{"creationDate":"2024-01-01T00:00:00Z","mfaAuthenticated":"false"}}}`},
		{"eventTime", `"2024-01-02T03:04:05Z"`},
		{"eventSource", `"ec2.amazonaws.com"`},
		{"eventName", `"RunInstances"`},
		{"awsRegion", `"eu-west-1"`},
		{"eventID", strconv.Quote(id)},
		{"readOnly", `false`},
	}
	for i := 0; i+1 < len(changes); i += 2 {
		j := slices.IndexFunc(members, func(m [2]string) bool { return m[0] == changes[i] })
		if j < 0 {
			members = append(members, [2]string{changes[i], changes[i+1]})
		} else {
			members[j][1] = changes[i+1]
		}
	}
	var b strings.Builder
	for _, m := range members {
		if m[1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", m[0], m[1])
	}
	return "{" + b.String() + "}"
}

func doc(records ...string) string {
	return `{"Records":[` + strings.Join(records, ",") + `]}`
}

// --- real logs ---

// invictusFiles returns the invictus log files, decompressed, by key.
func invictusFiles(t testing.TB) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(filepath.Join(ctData, "invictus"), func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".json.gz") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		key := path[strings.Index(path, "AWSLogs/"):]
		files[key] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 55 {
		t.Fatalf("%d invictus files, want 55", len(files))
	}
	return files
}

// originOf reads account and region from a key
// AWSLogs/<account>/CloudTrail/<region>/...
func originOf(key string) Origin {
	p := strings.Split(key, "/")
	return Origin{Key: key, Account: p[1], Region: p[3]}
}

func TestDecode_invictus(t *testing.T) {
	t.Parallel()
	const batchSize = 100
	d := newTestDecoder(t, batchSize) // one decoder for every object
	events := 0
	for key, data := range invictusFiles(t) {
		o := originOf(key)
		res, err := d.Decode(bytes.NewReader(data), o)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		recs, ok := oracleRecords(t, data)
		if !ok {
			t.Fatalf("%s is not CloudTrail for encoding/json", key)
		}
		checkObject(t, key, o, recs, res, batchSize)
		if res.Skipped != 0 {
			t.Errorf("%s: skipped %d: %v", key, res.Skipped, res.Errors)
		}
		events += res.Events
		res.Release()
	}
	if events != 2900 {
		t.Fatalf("%d events, want 2900", events)
	}
}

func TestDecode_stratus(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(ctData, "stratus", "*.json"))
	if err != nil || len(files) != 35 {
		t.Fatalf("stratus files: %d, %v", len(files), err)
	}
	d := newTestDecoder(t, 0)
	events := 0
	regions := map[string]bool{}
	for _, path := range files {
		arr, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data := append(append([]byte(`{"Records":`), arr...), '}')
		// Stratus' anonymised region names do not exist; they are no error.
		o := Origin{Key: filepath.Base(path), Account: "946986569305", Region: "us-north-2r"}
		res := decode(t, d, string(data), o)
		recs, ok := oracleRecords(t, data)
		if !ok {
			t.Fatalf("%s is not CloudTrail for encoding/json", path)
		}
		checkObject(t, path, o, recs, res, defaultBatchSize)
		if res.Skipped != 0 {
			t.Errorf("%s: skipped %d: %v", path, res.Skipped, res.Errors)
		}
		events += res.Events
		for _, r := range rowsOf(t, res, defaultBatchSize) {
			regions[r[ColAWSRegion].(string)] = true
		}
	}
	if events != 310 {
		t.Fatalf("%d events, want 310", events)
	}
	if !regions["ap-central-2r"] {
		t.Fatalf("aws_region values %v lack the made-up ap-central-2r", regions)
	}
}

func TestDecode_fullstopFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(ctData, "fullstop-fixtures", "*.json"))
	if err != nil || len(files) != 35 {
		t.Fatalf("fixture files: %d, %v", len(files), err)
	}
	// The team-service account lists are JSON arrays, not CloudTrail.
	notCloudTrail := map[string]bool{
		"team-service-client-spring__master-of-disaster-accounts.json": true,
		"team-service-client-spring__power-user-accounts.json":         true,
	}
	d := newTestDecoder(t, 2)
	events := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		o := Origin{Key: name}
		res, err := d.Decode(bytes.NewReader(data), o)
		if notCloudTrail[name] {
			if !errors.Is(err, ErrNotCloudTrail) || res != nil {
				t.Errorf("%s: Decode = %v, %v; want ErrNotCloudTrail", name, res, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		recs, ok := oracleRecords(t, data)
		if !ok {
			t.Fatalf("%s is not CloudTrail for encoding/json", name)
		}
		checkObject(t, name, o, recs, res, 2)
		if res.Skipped != 0 {
			t.Errorf("%s: skipped %d: %v", name, res.Skipped, res.Errors)
		}
		events += res.Events
		res.Release()
	}
	if events != 36 {
		t.Fatalf("%d events, want 36", events)
	}
}

// --- bad records ---

func TestDecode_badRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		record string
		reason string // part of the RecordError's text
	}{
		{"eventName a number", rec("b", "eventName", `42`), "field eventName: want a string, got number"},
		{"eventSource an object", rec("b", "eventSource", `{"a":1}`), "field eventSource: want a string, got object"},
		{"userIdentity a string", rec("b", "userIdentity", `"root"`), "field userIdentity: want an object, got string"},
		{"userIdentity.arn an array", rec("b", "userIdentity", `{"arn":["a"]}`), "field userIdentity.arn: want a string, got array"},
		{"sessionContext an array", rec("b", "userIdentity", `{"sessionContext":[]}`), "field userIdentity.sessionContext: want an object, got array"},
		{"sessionIssuer a number", rec("b", "userIdentity", `{"sessionContext":{"sessionIssuer":1}}`), "field userIdentity.sessionContext.sessionIssuer: want an object"},
		{"mfaAuthenticated a number", rec("b", "userIdentity", `{"sessionContext":{"attributes":{"mfaAuthenticated":1}}}`), "field userIdentity.sessionContext.attributes.mfaAuthenticated: want a boolean, got number"},
		{"mfaAuthenticated yes", rec("b", "userIdentity", `{"sessionContext":{"attributes":{"mfaAuthenticated":"yes"}}}`), `want a boolean, got string "yes"`},
		{"readOnly a string", rec("b", "readOnly", `"maybe"`), "field readOnly: want a boolean"},
		{"managementEvent an object", rec("b", "managementEvent", `{}`), "field managementEvent: want a boolean, got object"},
		{"missing eventID", rec("b", "eventID", ""), "no eventID"},
		{"null eventID", rec("b", "eventID", "null"), "no eventID"},
		{"empty eventID", rec(""), "empty eventID"},
		{"eventID a number", rec("b", "eventID", "7"), "field eventID: want a string, got number"},
		{"eventTime yesterday", rec("b", "eventTime", `"yesterday"`), `eventTime "yesterday" is not RFC 3339`},
		{"eventTime without zone", rec("b", "eventTime", `"2024-01-02T03:04:05"`), "is not RFC 3339"},
		{"missing eventTime", rec("b", "eventTime", ""), "no eventTime"},
		{"eventTime a number", rec("b", "eventTime", "1704164645"), "field eventTime: want a string, got number"},
		{"a number", `12`, "record is a JSON number, not an object"},
		{"null", `null`, "record is a JSON null, not an object"},
		{"an array", `[` + rec("b") + `]`, "record is a JSON array, not an object"},
		{"a string", `"{}"`, "record is a JSON string, not an object"},
		{"a boolean", `true`, "record is a JSON boolean, not an object"},
		{"an empty object", `{}`, "no eventID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newTestDecoder(t, 0)
			data := doc(rec("a"), tt.record, rec("c"))
			o := Origin{Key: "k.json.gz", Account: "123456789012", Region: "eu-west-1"}
			res := decode(t, d, data, o)
			recs, _ := oracleRecords(t, []byte(data))
			checkObject(t, tt.name, o, recs, res, defaultBatchSize)
			if res.Events != 2 || res.Skipped != 1 || len(res.Errors) != 1 {
				t.Fatalf("Events %d Skipped %d Errors %v, want 2, 1, one", res.Events, res.Skipped, res.Errors)
			}
			e := res.Errors[0]
			var re *RecordError
			if !errors.As(error(e), &re) || re.Index != 1 || re.Key != o.Key {
				t.Fatalf("record error %+v, want index 1 of %q", e, o.Key)
			}
			if !strings.Contains(e.Error(), tt.reason) || !strings.HasPrefix(e.Error(), `record 1 of "k.json.gz": `) {
				t.Fatalf("reason %q, want it to contain %q", e.Error(), tt.reason)
			}
			rows := rowsOf(t, res, defaultBatchSize)
			if rows[0][ColEventID] != "a" || rows[1][ColEventID] != "c" || rows[1][ColRecordIndex] != int32(2) {
				t.Fatalf("rows %v, want records a and c", rows)
			}
		})
	}
}

func TestDecode_manyBadRecords(t *testing.T) {
	t.Parallel()
	d := newTestDecoder(t, 0)
	var recs []string
	for i := range 10 {
		if i == 0 || i == 9 {
			recs = append(recs, rec(fmt.Sprint(i)))
		} else {
			recs = append(recs, rec(fmt.Sprint(i), "eventTime", `"not a time"`))
		}
	}
	res := decode(t, d, doc(recs...), Origin{Key: "k"})
	if res.Events != 2 || res.Skipped != 8 || len(res.Errors) != maxRecordErrors {
		t.Fatalf("Events %d Skipped %d Errors %d, want 2, 8, %d", res.Events, res.Skipped, len(res.Errors), maxRecordErrors)
	}
	for i, e := range res.Errors {
		if e.Index != i+1 {
			t.Fatalf("error %d is for record %d, want %d", i, e.Index, i+1)
		}
	}
}

// TestDecode_oddRecords covers records that decode, with their values.
func TestDecode_oddRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		record string
		want   map[string]any // some columns of the row
	}{
		{"userIdentity null", rec("a", "userIdentity", "null"),
			map[string]any{ColUserIdentityType: nil, ColSessionIssuerARN: nil, ColMFAAuthenticated: nil}},
		{"userIdentity absent", rec("a", "userIdentity", ""),
			map[string]any{ColUserIdentityARN: nil, ColUserIdentityAccountID: nil}},
		{"sessionContext null", rec("a", "userIdentity", `{"type":"IAMUser","sessionContext":null}`),
			map[string]any{ColUserIdentityType: "IAMUser", ColSessionIssuerType: nil, ColMFAAuthenticated: nil}},
		{"strings null", rec("a", "eventName", "null", "awsRegion", "null"),
			map[string]any{ColEventName: nil, ColAWSRegion: nil}},
		{"empty strings are not NULL", rec("a", "errorCode", `""`, "eventName", `""`),
			map[string]any{ColErrorCode: "", ColEventName: ""}},
		{"unknown region", rec("a", "awsRegion", `"mars-north-9"`),
			map[string]any{ColAWSRegion: "mars-north-9"}},
		{"escapes", rec("a", "eventName", `"Run\u0049nstances\n\"x\""`),
			map[string]any{ColEventName: "RunInstances\n\"x\""}},
		{"escaped member name", strings.Replace(rec("a", "eventName", "", "EVNAME", `"Escaped"`), `"EVNAME"`, `"event\u004eame"`, 1),
			map[string]any{ColEventName: "Escaped"}},
		{"member names are case sensitive", rec("a", "eventName", "", "EventName", `"Wrong"`),
			map[string]any{ColEventName: nil}},
		{"other case ignored, also of a wrong type", rec("a", "EVENTNAME", `42`, "UserIdentity", `"x"`),
			map[string]any{ColEventName: "RunInstances", ColUserIdentityType: "AssumedRole"}},
		{"unknown members ignored", rec("a", "sessionCredentialFromConsole", `"true"`, "edgeDeviceDetails", `[1]`),
			map[string]any{ColEventName: "RunInstances"}},
		{"time with offset and fraction", rec("a", "eventTime", `"2024-01-02T05:04:05.1234567+02:00"`),
			map[string]any{ColEventTime: time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)}},
		{"raw sub-documents of any JSON type", rec("a", "requestParameters", `"text"`, "responseElements", `[1, 2.50, {"a": null}]`, "resources", `7`, "tlsDetails", `false`),
			map[string]any{ColRequestParameters: `"text"`, ColResponseElements: `[1, 2.50, {"a": null}]`, ColResources: `7`, ColTLSDetails: `false`}},
		{"raw null and absent", rec("a", "requestParameters", `null`, "additionalEventData", ""),
			map[string]any{ColRequestParameters: nil, ColAdditionalEventData: nil}},
		{"raw empty object", rec("a", "serviceEventDetails", `{}`),
			map[string]any{ColServiceEventDetails: `{}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newTestDecoder(t, 0)
			data := doc(tt.record)
			res := decode(t, d, data, Origin{Key: "k"})
			recs, _ := oracleRecords(t, []byte(data))
			checkObject(t, tt.name, Origin{Key: "k"}, recs, res, defaultBatchSize)
			rows := rowsOf(t, res, defaultBatchSize)
			if len(rows) != 1 {
				t.Fatalf("%d rows, errors %v", len(rows), res.Errors)
			}
			for col, w := range tt.want {
				g := rows[0][col]
				if wt, ok := w.(time.Time); ok {
					if !g.(time.Time).Equal(wt) {
						t.Errorf("%s = %v, want %v", col, g, wt)
					}
					continue
				}
				if g != w {
					t.Errorf("%s = %#v, want %#v", col, g, w)
				}
			}
		})
	}
}

// TestDecode_repeatedMembers checks that the last of a repeated member
// counts, also for the flattened objects, as with encoding/json.
func TestDecode_repeatedMembers(t *testing.T) {
	t.Parallel()
	d := newTestDecoder(t, 0)
	data := `{"Records":[{"eventID":"a","eventTime":"2024-01-01T00:00:00Z","eventName":1,"eventName":"Second",` +
		`"userIdentity":{"type":"First","arn":"x","sessionContext":{"attributes":{"mfaAuthenticated":"true"}}},` +
		`"userIdentity":{"type":"Second"}}]}`
	res := decode(t, d, data, Origin{Key: "k"})
	recs, _ := oracleRecords(t, []byte(data))
	checkObject(t, "repeated", Origin{Key: "k"}, recs, res, defaultBatchSize)
	row := rowsOf(t, res, defaultBatchSize)[0]
	if row[ColEventName] != "Second" || row[ColUserIdentityType] != "Second" || row[ColUserIdentityARN] != nil || row[ColMFAAuthenticated] != nil {
		t.Fatalf("row %v, want the last members only", row)
	}
}

func TestDecode_booleans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string // the value, "" for absent
		want any
	}{
		{"string true", `"true"`, true},
		{"string false", `"false"`, false},
		{"true", `true`, true},
		{"false", `false`, false},
		{"null", `null`, nil},
		{"absent", ``, nil},
		{"escaped string", `"tru\u0065"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newTestDecoder(t, 0)
			attrs := `{}`
			if tt.json != "" {
				attrs = `{"mfaAuthenticated":` + tt.json + `}`
			}
			data := doc(
				rec("mfa", "userIdentity", `{"sessionContext":{"attributes":`+attrs+`}}`),
				rec("ro", "readOnly", tt.json, "managementEvent", tt.json),
			)
			res := decode(t, d, data, Origin{Key: "k"})
			rows := rowsOf(t, res, defaultBatchSize)
			if len(rows) != 2 {
				t.Fatalf("%d rows, errors %v", len(rows), res.Errors)
			}
			if g := rows[0][ColMFAAuthenticated]; g != tt.want {
				t.Errorf("mfa_authenticated = %#v, want %#v", g, tt.want)
			}
			if g := rows[1][ColReadOnly]; g != tt.want {
				t.Errorf("read_only = %#v, want %#v", g, tt.want)
			}
			if g := rows[1][ColManagementEvent]; g != tt.want {
				t.Errorf("management_event = %#v, want %#v", g, tt.want)
			}
		})
	}
	t.Run("other case is no boolean", func(t *testing.T) {
		t.Parallel()
		d := newTestDecoder(t, 0)
		res := decode(t, d, doc(rec("a", "readOnly", `"TRUE"`)), Origin{Key: "k"})
		if res.Skipped != 1 || !strings.Contains(res.Errors[0].Error(), "want a boolean") {
			t.Fatalf("Skipped %d, %v", res.Skipped, res.Errors)
		}
	})
}

// TestDecode_invalidUTF8 checks that bytes that are not UTF-8 become
// U+FFFD, one for each byte, as encoding/json does, in typed and raw
// columns, and that such records are kept.
func TestDecode_invalidUTF8(t *testing.T) {
	t.Parallel()
	d := newTestDecoder(t, 0)
	data := "{\"Records\":[{\"eventID\":\"\xff\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventName\":\"Run\xc3\x28x\"," +
		"\"userIdentity\":{\"arn\":\"a\xed\xa0\x80b\"},\"requestParameters\":{\"k\xfe\":\"v\xff\xfe\",\"n\":[1,\"\x80\"]},\"\xffeventName\":\"x\"}]}"
	res := decode(t, d, data, Origin{Key: "k"})
	recs, _ := oracleRecords(t, []byte(data))
	checkObject(t, "utf8", Origin{Key: "k"}, recs, res, defaultBatchSize)
	row := rowsOf(t, res, defaultBatchSize)[0]
	want := map[string]any{
		ColEventID:           "\uFFFD",
		ColEventName:         "Run\uFFFD(x",
		ColUserIdentityARN:   "a\uFFFD\uFFFD\uFFFDb",
		ColRequestParameters: "{\"k\uFFFD\":\"v\uFFFD\uFFFD\",\"n\":[1,\"\uFFFD\"]}",
	}
	for col, w := range want {
		if row[col] != w {
			t.Errorf("%s = %q, want %q", col, row[col], w)
		}
	}
}

// --- bad objects ---

func TestDecode_badObject(t *testing.T) {
	t.Parallel()
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	var syntax *json.SyntaxError
	tests := []struct {
		name    string
		doc     string
		is      error // errors.Is target; nil: any error
		syntax  bool  // the error is a *json.SyntaxError
		wantErr bool
		events  int // when no error
	}{
		{name: "empty", doc: "", is: ErrNotCloudTrail, wantErr: true},
		{name: "white space", doc: " \n\t", is: ErrNotCloudTrail, wantErr: true},
		{name: "empty array", doc: `[]`, is: ErrNotCloudTrail, wantErr: true},
		{name: "bare array of records", doc: `[` + rec("a") + `]`, is: ErrNotCloudTrail, wantErr: true},
		{name: "null", doc: `null`, is: ErrNotCloudTrail, wantErr: true},
		{name: "string", doc: `"Records"`, is: ErrNotCloudTrail, wantErr: true},
		{name: "number", doc: `1`, is: ErrNotCloudTrail, wantErr: true},
		{name: "empty object", doc: `{}`, is: ErrNotCloudTrail, wantErr: true},
		{name: "other members only", doc: `{"records":[` + rec("a") + `],"Record":[]}`, is: ErrNotCloudTrail, wantErr: true},
		{name: "Records an object", doc: `{"Records":{}}`, is: ErrNotCloudTrail, wantErr: true},
		{name: "Records a string", doc: `{"Records":"[]"}`, is: ErrNotCloudTrail, wantErr: true},
		{name: "Records a number", doc: `{"Records":0}`, is: ErrNotCloudTrail, wantErr: true},
		{name: "Records twice", doc: `{"Records":[` + rec("a") + `],"Records":[]}`, is: ErrNotCloudTrail, wantErr: true},
		{name: "Records null", doc: `{"Records":null}`, events: 0},
		{name: "Records empty", doc: `{"Records":[]}`, events: 0},
		{name: "other members skipped", doc: `{"x":{"Records":[1]},"Records":[` + rec("a") + `],"y":[[]],"z":null}`, events: 1},
		{name: "white space around", doc: "\n\t {\"Records\" : [ " + rec("a") + " , " + rec("b") + " ] } \n", events: 2},
		{name: "truncated mid record", doc: doc(rec("a"), rec("b"))[:60], is: io.ErrUnexpectedEOF, wantErr: true},
		{name: "truncated after a record", doc: `{"Records":[` + rec("a") + `,`, is: io.ErrUnexpectedEOF, wantErr: true},
		{name: "truncated before the end", doc: `{"Records":[` + rec("a") + `]`, is: io.ErrUnexpectedEOF, wantErr: true},
		{name: "trailing garbage", doc: doc(rec("a")) + "x", syntax: true, wantErr: true},
		{name: "second document", doc: doc(rec("a")) + doc(rec("b")), wantErr: true},
		{name: "trailing comma", doc: `{"Records":[` + rec("a") + `,]}`, syntax: true, wantErr: true},
		{name: "missing comma", doc: `{"Records":[` + rec("a") + rec("b") + `]}`, syntax: true, wantErr: true},
		{name: "single quotes", doc: `{'Records':[]}`, syntax: true, wantErr: true},
		{name: "bad literal in a record", doc: `{"Records":[{"eventID":tru}]}`, syntax: true, wantErr: true},
		{name: "bad literal in another member", doc: `{"x":nul,"Records":[]}`, syntax: true, wantErr: true},
		{name: "control character in a string", doc: "{\"Records\":[{\"eventID\":\"a\x01\"}]}", syntax: true, wantErr: true},
		{name: "nested too deep in a record", doc: doc(rec("a", "requestParameters", deep(10001))), wantErr: true},
		{name: "nested too deep in another member", doc: `{"x":` + deep(10001) + `,"Records":[]}`, wantErr: true},
		{name: "nested too deep at the top", doc: deep(100000), is: ErrNotCloudTrail, wantErr: true},
		{name: "nested deep but allowed", doc: doc(rec("a", "requestParameters", deep(9000))), events: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newTestDecoder(t, 0)
			res, err := d.Decode(strings.NewReader(tt.doc), Origin{Key: "k"})
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				defer res.Release()
				if res.Events != tt.events || res.Skipped != 0 {
					t.Fatalf("Events %d Skipped %d, want %d and 0", res.Events, res.Skipped, tt.events)
				}
				recs, _ := oracleRecords(t, []byte(tt.doc))
				checkObject(t, tt.name, Origin{Key: "k"}, recs, res, defaultBatchSize)
				return
			}
			if err == nil || res != nil {
				t.Fatalf("Decode = %v, %v; want an error", res, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %q is not %q", err, tt.is)
			}
			if tt.syntax && !errors.As(err, &syntax) {
				t.Fatalf("error %q is not a *json.SyntaxError", err)
			}
			if tt.is != ErrNotCloudTrail && errors.Is(err, ErrNotCloudTrail) {
				t.Fatalf("error %q says not CloudTrail", err)
			}
		})
	}
}

// TestDecode_everyPrefix cuts a document at every byte: each cut is an
// error, and the decoder keeps working afterwards.
func TestDecode_everyPrefix(t *testing.T) {
	t.Parallel()
	d := newTestDecoder(t, 1)
	full := doc(rec("a"), rec("b", "requestParameters", `{"a":[1,"x",{"b":null}]}`), `7`, rec("c"))
	for n := range len(full) {
		res, err := d.Decode(strings.NewReader(full[:n]), Origin{Key: "cut"})
		if err == nil || res != nil {
			t.Fatalf("prefix %d %q: Decode = %v, %v; want an error", n, full[:n], res, err)
		}
		want := io.ErrUnexpectedEOF
		if n == 0 {
			want = ErrNotCloudTrail
		}
		if !errors.Is(err, want) {
			t.Fatalf("prefix %d %q: error %q is not %q", n, full[:n], err, want)
		}
	}
	res := decode(t, d, full, Origin{Key: "full"})
	if res.Events != 3 || res.Skipped != 1 || len(res.Batches) != 3 {
		t.Fatalf("Events %d Skipped %d batches %d, want 3, 1, 3", res.Events, res.Skipped, len(res.Batches))
	}
	for _, r := range rowsOf(t, res, 1) {
		if r[ColObjectKey] != "full" {
			t.Fatalf("row of %v after failed objects", r[ColObjectKey])
		}
	}
}

func TestDecode_readError(t *testing.T) {
	t.Parallel()
	errRead := errors.New("connection reset")
	tests := []struct {
		name string
		r    io.Reader
	}{
		{"at once", iotest.ErrReader(errRead)},
		{"mid record", io.MultiReader(strings.NewReader(`{"Records":[{"eventID":"a`), iotest.ErrReader(errRead))},
		{"between records", io.MultiReader(strings.NewReader(`{"Records":[`+rec("a")+`,`), iotest.ErrReader(errRead))},
		{"after the document", io.MultiReader(strings.NewReader(doc(rec("a"))), iotest.ErrReader(errRead))},
		{"one byte at a time then", io.MultiReader(iotest.OneByteReader(strings.NewReader(doc(rec("a")))), iotest.ErrReader(errRead))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newTestDecoder(t, 0)
			res, err := d.Decode(tt.r, Origin{Key: "k"})
			if !errors.Is(err, errRead) || res != nil {
				t.Fatalf("Decode = %v, %v; want the read error", res, err)
			}
		})
	}
}

// TestDecode_gzipChecksum feeds a real log whose gzip trailer is damaged:
// the reader's error reaches the caller although the JSON is complete.
func TestDecode_gzipChecksum(t *testing.T) {
	t.Parallel()
	var data []byte
	for _, b := range invictusFiles(t) {
		data = b
		break
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	gz := buf.Bytes()
	gz[len(gz)-8] ^= 0xff // CRC-32
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	d := newTestDecoder(t, 0)
	res, err := d.Decode(zr, Origin{Key: "k"})
	if !errors.Is(err, gzip.ErrChecksum) || res != nil {
		t.Fatalf("Decode = %v, %v; want gzip.ErrChecksum", res, err)
	}
}

// --- batches and reuse ---

func TestDecode_batches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		batchSize int
		records   []string
		rows      []int   // rows of each batch
		indexes   []int32 // record_index of every row
	}{
		{"2 over 5", 2, []string{rec("a"), rec("b"), rec("c"), rec("d"), rec("e")}, []int{2, 2, 1}, []int32{0, 1, 2, 3, 4}},
		{"2 over 4", 2, []string{rec("a"), rec("b"), rec("c"), rec("d")}, []int{2, 2}, []int32{0, 1, 2, 3}},
		{"skipped records keep their index", 2, []string{rec("a"), `1`, rec("b"), rec("c", "eventID", ""), rec("d"), rec("e")}, []int{2, 2}, []int32{0, 2, 4, 5}},
		{"one batch", 0, []string{rec("a"), rec("b"), rec("c")}, []int{3}, []int32{0, 1, 2}},
		{"only bad records", 2, []string{`1`, `2`}, nil, nil},
		{"no records", 2, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := newChecked(t)
			d := NewDecoder(mem, tt.batchSize)
			res, err := d.Decode(strings.NewReader(doc(tt.records...)), Origin{Key: "k"})
			if err != nil {
				t.Fatal(err)
			}
			var rows []int
			for _, b := range res.Batches {
				rows = append(rows, int(b.NumRows()))
			}
			if !slices.Equal(rows, tt.rows) {
				t.Fatalf("batch rows %v, want %v", rows, tt.rows)
			}
			var indexes []int32
			for _, r := range rowsOf(t, res, max(tt.batchSize, defaultBatchSize)) {
				indexes = append(indexes, r[ColRecordIndex].(int32))
			}
			if !slices.Equal(indexes, tt.indexes) {
				t.Fatalf("record_index %v, want %v", indexes, tt.indexes)
			}
			res.Release()
			if res.Batches != nil {
				t.Fatal("Release kept the batches")
			}
			res.Release() // twice is harmless
			d.Release()
			if n := mem.CurrentAlloc(); n != 0 {
				t.Fatalf("%d bytes still allocated after Release", n)
			}
		})
	}
}

// TestDecode_batchBytes checks that a batch is cut early when its strings
// grow large.
func TestDecode_batchBytes(t *testing.T) {
	t.Parallel()
	d := newTestDecoder(t, 0)
	d.maxBatchBytes = 1000
	big := `"` + strings.Repeat("x", 600) + `"`
	res := decode(t, d, doc(rec("a", "requestParameters", big), rec("b", "requestParameters", big), rec("c")), Origin{Key: "k"})
	var rows []int
	for _, b := range res.Batches {
		rows = append(rows, int(b.NumRows()))
	}
	if !slices.Equal(rows, []int{2, 1}) || res.Events != 3 {
		t.Fatalf("batch rows %v, events %d; want [2 1], 3", rows, res.Events)
	}
}

func TestDecode_recordTooLarge(t *testing.T) {
	t.Parallel()
	d := newTestDecoder(t, 0)
	d.maxRecordBytes = 1000
	res := decode(t, d, doc(rec("a"), rec("b", "requestParameters", `"`+strings.Repeat("x", 500)+`"`)), Origin{Key: "k"})
	if res.Events != 1 || res.Skipped != 1 || !strings.Contains(res.Errors[0].Error(), "more than 1000") {
		t.Fatalf("Events %d Skipped %d %v, want the large record skipped", res.Events, res.Skipped, res.Errors)
	}
}

// TestDecoder_reuse decodes objects one after another with one decoder:
// rows of an object that failed, also of batches already cut, must not
// appear in the next object's batches.
func TestDecoder_reuse(t *testing.T) {
	t.Parallel()
	good := func(key string, n int) string {
		var recs []string
		for i := range n {
			recs = append(recs, rec(fmt.Sprintf("%s-%d", key, i)))
		}
		return doc(recs...)
	}
	failing := map[string]string{
		"truncated after cut batches": good("bad", 5)[:len(good("bad", 5))-3],
		"trailing data":               good("bad", 3) + "{}",
		"Records twice":               `{"Records":[` + rec("bad-0") + `,` + rec("bad-1") + `,` + rec("bad-2") + `],"Records":[]}`,
		"bad record then truncated":   `{"Records":[` + rec("bad-0") + `,1,` + rec("bad-1"),
		"no Records after records":    `{"x":[` + rec("bad-0") + `]}`,
	}
	for name, bad := range failing {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mem := newChecked(t)
			d := NewDecoder(mem, 2)
			defer d.Release()
			steps := []struct {
				key  string
				doc  string
				fail bool
			}{
				{"one", good("one", 3), false},
				{"bad", bad, true},
				{"two", good("two", 3), false},
				{"bad", bad, true},
				{"bad", bad, true},
				{"three", good("three", 1), false},
			}
			for _, s := range steps {
				res, err := d.Decode(strings.NewReader(s.doc), Origin{Key: s.key, Account: s.key})
				if s.fail {
					if err == nil || res != nil {
						t.Fatalf("%s: Decode = %v, %v; want an error", s.key, res, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", s.key, err)
				}
				rows := rowsOf(t, res, 2)
				for i, r := range rows {
					if r[ColObjectKey] != s.key || r[ColKeyAccount] != s.key || r[ColEventID] != fmt.Sprintf("%s-%d", s.key, i) {
						t.Fatalf("%s: row %d is %v/%v/%v", s.key, i, r[ColObjectKey], r[ColKeyAccount], r[ColEventID])
					}
				}
				if len(rows) != res.Events {
					t.Fatalf("%s: %d rows, %d events", s.key, len(rows), res.Events)
				}
				res.Release()
			}
		})
	}
}

// TestDecoder_releaseAndReuse checks that a released decoder can be used
// again.
func TestDecoder_releaseAndReuse(t *testing.T) {
	t.Parallel()
	d := newTestDecoder(t, 0)
	d.Release()
	d.Release()
	res := decode(t, d, doc(rec("a")), Origin{Key: "k"})
	if res.Events != 1 {
		t.Fatalf("Events %d, want 1", res.Events)
	}
}

// TestDecoder_concurrentResults checks that batches outlive the decoder and
// may be read while the decoder decodes the next object.
func TestDecoder_concurrentResults(t *testing.T) {
	t.Parallel()
	d := newTestDecoder(t, 1)
	first := decode(t, d, doc(rec("a"), rec("b")), Origin{Key: "first"})
	done := make(chan []string)
	go func() {
		var ids []string
		for _, b := range first.Batches {
			ids = append(ids, b.Column(idxEventID).(*array.String).Value(0))
		}
		done <- ids
	}()
	second := decode(t, d, doc(rec("c")), Origin{Key: "second"})
	ids := <-done
	if !slices.Equal(ids, []string{"a", "b"}) || rowsOf(t, second, 1)[0][ColEventID] != "c" {
		t.Fatalf("first object's event ids %v", ids)
	}
}

func TestRecordError(t *testing.T) {
	t.Parallel()
	inner := errors.New("no eventID")
	e := &RecordError{Key: "AWSLogs/1/x.json.gz", Index: 3, Err: inner}
	if got, want := e.Error(), `record 3 of "AWSLogs/1/x.json.gz": no eventID`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, inner) {
		t.Fatal("RecordError does not unwrap")
	}
}

func TestSchema(t *testing.T) {
	t.Parallel()
	if Schema.NumFields() != numColumns {
		t.Fatalf("%d fields, want %d", Schema.NumFields(), numColumns)
	}
	for col, s := range sources {
		if (s.kind == kindNone) != (col < idxEventVersion) {
			t.Errorf("column %s has kind %d", Schema.Field(col).Name, s.kind)
		}
	}
	wantType := map[kind]arrow.DataType{
		kindString: arrow.BinaryTypes.String,
		kindID:     arrow.BinaryTypes.String,
		kindRaw:    arrow.BinaryTypes.String,
		kindBool:   arrow.FixedWidthTypes.Boolean,
		kindTime:   &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
	}
	for col := idxEventVersion; col < numColumns; col++ {
		f := Schema.Field(col)
		if w := wantType[sources[col].kind]; !arrow.TypeEqual(f.Type, w) {
			t.Errorf("column %s is %v, want %v", f.Name, f.Type, w)
		}
	}
}

// --- benchmark ---

func BenchmarkDecode(b *testing.B) {
	files := invictusFiles(b)
	var total int64
	docs := make([][]byte, 0, len(files))
	origins := make([]Origin, 0, len(files))
	for key, data := range files {
		docs = append(docs, data)
		origins = append(origins, originOf(key))
		total += int64(len(data))
	}
	d := NewDecoder(nil, 0)
	defer d.Release()
	b.ReportAllocs()
	b.SetBytes(total)
	events := 0
	for b.Loop() {
		for i, data := range docs {
			res, err := d.Decode(bytes.NewReader(data), origins[i])
			if err != nil {
				b.Fatal(err)
			}
			events += res.Events
			res.Release()
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
