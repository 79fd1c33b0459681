//go:build duckdb_arrow

package main

// Tests of the saved audit queries (sql/queries/*.sql): each runs through
// `fullstop query --name` over one lake of the real sample logs and its CSV
// is compared with a golden file; for most of them the rows are also worked
// out in Go from the raw JSON records, without DuckDB or the lake.

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/rules/duckdb/audit"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

const (
	sampleInvictusDir = "../../testdata/cloudtrail/invictus"
	sampleStratusDir  = "../../testdata/cloudtrail/stratus"
	savedQueriesDir   = "../../sql/queries"
	queryGoldenDir    = "testdata/queries"
)

// savedQueryParams are the parameters the golden runs give, chosen from the
// sample logs so that the results are not empty.
var savedQueryParams = map[string][]string{
	// A role used in both sources: its sessions in invictus and stratus.
	"actions-by-principal": {"principal=stratus-red-team-ec2-get-password-data-role"},
	// The credentials of an EC2 instance's role, used from the instance.
	"actions-by-access-key": {"access_key_id=ASIATFQR7NSCSHSEVYP5"},
	// Invictus's region and a stratus (made-up) one.
	"activity-outside-allowed-regions": {"allowed_regions=us-east-1,us-north-2r"},
}

// emptyOnSamples are the saved queries the sample logs genuinely have no
// rows for; their golden files hold the header only.
var emptyOnSamples = map[string]string{
	"root-account-use":      "no record of invictus or stratus has userIdentity.type Root",
	"failed-console-logins": "the 3 ConsoleLogin records all succeeded",
	"kms-key-deletions":     "the only KMS calls are Decrypt, Encrypt and GenerateDataKey",
}

// sampleRecord is one raw CloudTrail record of the sample logs, with the
// account and region of the key of the object that holds it.
type sampleRecord struct {
	KeyAccount, KeyRegion string

	EventID      string `json:"eventID"`
	EventTime    string `json:"eventTime"`
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	EventType    string `json:"eventType"`
	AWSRegion    string `json:"awsRegion"`
	ErrorCode    string `json:"errorCode"`
	UserIdentity struct {
		Type           string `json:"type"`
		PrincipalID    string `json:"principalId"`
		ARN            string `json:"arn"`
		AccessKeyID    string `json:"accessKeyId"`
		UserName       string `json:"userName"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext struct {
			SessionIssuer struct {
				ARN      string `json:"arn"`
				UserName string `json:"userName"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
}

// principal is the principal column of the saved queries: the caller's ARN,
// else its role's, else the service that called, else its principal id.
func (r sampleRecord) principal() string {
	u := r.UserIdentity
	for _, s := range []string{u.ARN, u.SessionContext.SessionIssuer.ARN, u.InvokedBy, u.PrincipalID} {
		if s != "" {
			return s
		}
	}
	return ""
}

// field decodes a JSON sub-document into v; null or absent leaves v zero.
func field(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

// stratusObject is one stratus file as a CloudTrail log object.
type stratusObject struct {
	key  string // the object key, CloudTrail's layout
	body []byte // the gzipped {"Records":[...]}
	recs []json.RawMessage
	acct string
	reg  string
	day  time.Time
}

// stratusObjects reads the stratus files (each a JSON array of records) and
// makes each one log object, in the folder of the account
// (recipientAccountId), region and day of its earliest record.
func stratusObjects(t *testing.T) []stratusObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sampleStratusDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no stratus files (%v)", err)
	}
	sort.Strings(files)
	var out []stratusObject
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var recs []json.RawMessage
		if err := json.Unmarshal(b, &recs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(recs) == 0 {
			continue
		}
		type head struct {
			EventTime          time.Time `json:"eventTime"`
			RecipientAccountID string    `json:"recipientAccountId"`
			AWSRegion          string    `json:"awsRegion"`
		}
		var first head
		for j, r := range recs {
			var h head
			if err := json.Unmarshal(r, &h); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if j == 0 || h.EventTime.Before(first.EventTime) {
				first = h
			}
		}
		ts := first.EventTime.UTC()
		name := fmt.Sprintf("%s_CloudTrail_%s_%s_stratus%02d.json.gz", first.RecipientAccountID, first.AWSRegion, ts.Format("20060102T1504Z"), i)
		key := fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s", first.RecipientAccountID, first.AWSRegion, ts.Format("2006/01/02"), name)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		doc, err := json.Marshal(struct {
			Records []json.RawMessage
		}{recs})
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(doc)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		out = append(out, stratusObject{key: key, body: buf.Bytes(), recs: recs, acct: first.RecipientAccountID, reg: first.AWSRegion, day: ts.Truncate(24 * time.Hour)})
	}
	return out
}

// sampleRecords decodes every record of invictus and stratus, with the
// account and region of its object's key.
func sampleRecords(t *testing.T, stratus []stratusObject) []sampleRecord {
	t.Helper()
	var out []sampleRecord
	add := func(raw json.RawMessage, acct, reg string) {
		r := sampleRecord{KeyAccount: acct, KeyRegion: reg}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	err := filepath.WalkDir(sampleInvictusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		rel, _ := filepath.Rel(sampleInvictusDir, p)
		parts := strings.Split(filepath.ToSlash(rel), "/") // AWSLogs/<account>/CloudTrail/<region>/...
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		var doc struct{ Records []json.RawMessage }
		if err := json.NewDecoder(zr).Decode(&doc); err != nil {
			return err
		}
		for _, r := range doc.Records {
			add(r, parts[1], parts[3])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range stratus {
		for _, r := range o.recs {
			add(r, o.acct, o.reg)
		}
	}
	return out
}

// buildSampleLake backfills invictus and the stratus objects into a new
// lake and returns its folder.
func buildSampleLake(t *testing.T, stratus []stratusObject) string {
	t.Helper()
	src := t.TempDir()
	from, to := stratus[0].day, stratus[0].day
	events := 0
	for _, o := range stratus {
		p := filepath.Join(src, filepath.FromSlash(o.key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, o.body, 0o644); err != nil {
			t.Fatal(err)
		}
		from, to = minTime(from, o.day), maxTime(to, o.day)
		events += len(o.recs)
	}
	lakeDir := filepath.Join(t.TempDir(), "lake")
	env := []string{"DATABASE_URL=" + pgtest.New(t)}
	for _, b := range []struct {
		source, from, to string
		events           int
	}{
		{sampleInvictusDir, "2023-07-10", "2023-07-11", 2900},
		{src, from.Format(time.DateOnly), to.AddDate(0, 0, 1).Format(time.DateOnly), events},
	} {
		code, out, errOut := fullstop(t, env, "--log-level", "warn", "backfill", "--source", b.source,
			"--from", b.from, "--to", b.to, "--lake", lakeDir, "--progress=false")
		if code != 0 || !strings.Contains(out, fmt.Sprintf("events      %d ", b.events)) {
			t.Fatalf("backfill %s: exit %d, want 0 and %d events\n%s\n%s", b.source, code, b.events, out, errOut)
		}
	}
	return lakeDir
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// csvResult is the parsed CSV output of a query.
type csvResult struct {
	header []string
	rows   [][]string
}

func parseCSV(t *testing.T, name, text string) csvResult {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s: output is not CSV with a header (%v):\n%s", name, err, text)
	}
	return csvResult{header: recs[0], rows: recs[1:]}
}

// column returns the values of a column, in row order.
func (r csvResult) column(t *testing.T, name string) []string {
	t.Helper()
	i := slices.Index(r.header, name)
	if i < 0 {
		t.Fatalf("no column %s in %v", name, r.header)
	}
	var out []string
	for _, row := range r.rows {
		out = append(out, row[i])
	}
	return out
}

// tuples returns each row's values of the columns, joined with "|".
func (r csvResult) tuples(t *testing.T, names ...string) []string {
	t.Helper()
	cols := make([][]string, len(names))
	for i, n := range names {
		cols[i] = r.column(t, n)
	}
	out := make([]string, len(r.rows))
	for j := range r.rows {
		vals := make([]string, len(names))
		for i := range names {
			vals[i] = cols[i][j]
		}
		out[j] = strings.Join(vals, "|")
	}
	return out
}

// runSaved runs one saved query over the lake and returns its CSV.
func runSaved(t *testing.T, lakeDir string, s audit.Saved) string {
	t.Helper()
	args := []string{"query", "--lake", lakeDir, "--name", s.Name}
	for _, p := range savedQueryParams[s.Name] {
		args = append(args, "--param", p)
	}
	args = append(args, "-o", "csv")
	code, out, errOut := fullstop(t, nil, args...)
	if code != 0 {
		t.Fatalf("query --name %s: exit %d\n%s", s.Name, code, errOut)
	}
	return out
}

// TestSavedQueries runs every saved query over a lake of the real sample
// logs (invictus as delivered, stratus put into CloudTrail's key layout),
// compares each CSV with testdata/queries/<name>.csv (-update rewrites
// them), and checks the rows of most against what the raw records say.
func TestSavedQueries(t *testing.T) {
	t.Parallel()
	saved, err := savedQueries()
	if err != nil {
		t.Fatal(err)
	}
	if len(saved) == 0 {
		t.Fatal("no saved queries embedded")
	}
	stratus := stratusObjects(t)
	lakeDir := buildSampleLake(t, stratus)

	outputs := map[string]csvResult{}
	for _, s := range saved {
		for _, p := range s.Params {
			if !p.HasDefault && !slices.ContainsFunc(savedQueryParams[s.Name], func(v string) bool { return strings.HasPrefix(v, p.Name+"=") }) {
				t.Fatalf("saved query %s needs --param %s: add a value from the sample logs to savedQueryParams", s.Name, p.Name)
			}
		}
		out := runSaved(t, lakeDir, s)
		outputs[s.Name] = parseCSV(t, s.Name, out)
		t.Run("golden/"+s.Name, func(t *testing.T) {
			golden := filepath.Join(queryGoldenDir, s.Name+".csv")
			if *update {
				if err := os.MkdirAll(queryGoldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("saved query %s has no golden file: %v (go test -tags duckdb_arrow,libdeflate ./cmd/fullstop -run TestSavedQueries -update writes it)", s.Name, err)
			}
			if out != string(want) {
				t.Errorf("%s differs from the golden file (-update rewrites it); got:\n%s", golden, out)
			}
			n := len(outputs[s.Name].rows)
			why, empty := emptyOnSamples[s.Name]
			switch {
			case empty && n > 0:
				t.Errorf("%s has %d rows on the sample logs, but emptyOnSamples says %q", s.Name, n, why)
			case !empty && n == 0:
				t.Errorf("%s has no rows on the sample logs: choose params that find some, or list it in emptyOnSamples with the reason", s.Name)
			}
		})
	}
	t.Run("golden files all belong to a saved query", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(queryGoldenDir, "*.csv"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".csv")
			if _, ok := outputs[name]; !ok {
				t.Errorf("%s: no saved query %s", f, name)
			}
		}
	})

	recs := sampleRecords(t, stratus)
	if len(recs) != 2900+310 {
		t.Fatalf("%d sample records, want 3210", len(recs))
	}
	t.Run("hand check", func(t *testing.T) {
		handCheck(t, recs, outputs)
	})
}

// handCheck works out, from the raw records, the rows of the saved queries
// it knows, and compares them with the queries' output.
func handCheck(t *testing.T, recs []sampleRecord, outputs map[string]csvResult) {
	param := func(query, name string) string {
		for _, p := range savedQueryParams[query] {
			if v, ok := strings.CutPrefix(p, name+"="); ok {
				return v
			}
		}
		t.Fatalf("no --param %s for %s", name, query)
		return ""
	}
	// eventIDs checks a query's event ids (in its row order) against those
	// of the records keep selects, which must be at least atLeast.
	eventIDs := func(query string, atLeast int, keep func(r sampleRecord) bool) {
		t.Run(query, func(t *testing.T) {
			out, ok := outputs[query]
			if !ok {
				t.Fatalf("no saved query %s", query)
			}
			var want []string
			for _, r := range recs {
				if keep(r) {
					want = append(want, r.EventID)
				}
			}
			got := out.column(t, "event_id")
			if len(want) < atLeast {
				t.Fatalf("the raw records have %d events for %s, want at least %d: the check proves little", len(want), query, atLeast)
			}
			sortedGot := slices.Sorted(slices.Values(got))
			slices.Sort(want)
			if !slices.Equal(sortedGot, want) {
				t.Fatalf("%s: event ids\n got %v\nwant %v", query, sortedGot, want)
			}
			times := out.column(t, "event_time")
			for i := 1; i < len(got); i++ {
				if times[i] < times[i-1] || times[i] == times[i-1] && got[i] < got[i-1] {
					t.Fatalf("%s: rows not in event_time, event_id order at row %d", query, i+1)
				}
			}
		})
	}
	// multiset checks a query's tuples of columns against want, in any order.
	multiset := func(query string, cols []string, want []string) {
		t.Run(query, func(t *testing.T) {
			out, ok := outputs[query]
			if !ok {
				t.Fatalf("no saved query %s", query)
			}
			got := slices.Sorted(slices.Values(out.tuples(t, cols...)))
			slices.Sort(want)
			if len(want) == 0 {
				t.Fatalf("the raw records have no rows for %s: the check proves little", query)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: rows (%s)\n got %q\nwant %q", query, strings.Join(cols, "|"), got, want)
			}
		})
	}

	eventIDs("root-account-use", 0, func(r sampleRecord) bool {
		return r.UserIdentity.Type == "Root" && r.UserIdentity.InvokedBy == "" && r.EventType != "AwsServiceEvent"
	})

	key := param("actions-by-access-key", "access_key_id")
	eventIDs("actions-by-access-key", 10, func(r sampleRecord) bool { return r.UserIdentity.AccessKeyID == key })

	who := param("actions-by-principal", "principal")
	eventIDs("actions-by-principal", 50, func(r sampleRecord) bool {
		u := r.UserIdentity
		id, _, _ := strings.Cut(u.PrincipalID, ":")
		return slices.Contains([]string{u.ARN, u.UserName, u.SessionContext.SessionIssuer.UserName, u.SessionContext.SessionIssuer.ARN, u.PrincipalID, id}, who)
	})

	tampering := []string{"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors",
		"DeleteEventDataStore", "UpdateEventDataStore", "StopEventDataStoreIngestion"}
	eventIDs("cloudtrail-tampering", 10, func(r sampleRecord) bool {
		return r.EventSource == "cloudtrail.amazonaws.com" && slices.Contains(tampering, r.EventName)
	})

	type login struct {
		ConsoleLogin string
		MFAUsed      string
	}
	consoleLogin := func(r sampleRecord) (resp, add login, ok bool) {
		if r.EventSource != "signin.amazonaws.com" || r.EventName != "ConsoleLogin" {
			return login{}, login{}, false
		}
		field(t, r.ResponseElements, &resp)
		field(t, r.AdditionalEventData, &add)
		return resp, add, true
	}
	eventIDs("console-logins-without-mfa", 2, func(r sampleRecord) bool {
		resp, add, ok := consoleLogin(r)
		return ok && add.MFAUsed == "No" && resp.ConsoleLogin == "Success" && r.ErrorCode == ""
	})
	eventIDs("failed-console-logins", 0, func(r sampleRecord) bool {
		resp, _, ok := consoleLogin(r)
		return ok && (resp.ConsoleLogin == "Failure" || r.ErrorCode != "")
	})

	iamWrite := regexp.MustCompile(`^(Add|Attach|Change|Create|Deactivate|Delete|Detach|Enable|Put|Remove|Reset|Resync|Set|Tag|Untag|Update|Upload)`)
	eventIDs("iam-policy-and-user-changes", 50, func(r sampleRecord) bool {
		return r.EventSource == "iam.amazonaws.com" && iamWrite.MatchString(r.EventName)
	})

	eventIDs("kms-key-deletions", 0, func(r sampleRecord) bool {
		return r.EventSource == "kms.amazonaws.com" && slices.Contains([]string{"ScheduleKeyDeletion", "DisableKey", "DeleteImportedKeyMaterial"}, r.EventName)
	})

	s3Access := []string{"PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls",
		"PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock", "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"}
	var s3Rows []string
	for _, r := range recs {
		if strings.HasPrefix(r.EventSource, "s3") && slices.Contains(s3Access, r.EventName) {
			var rp struct {
				BucketName string `json:"bucketName"`
			}
			field(t, r.RequestParameters, &rp)
			s3Rows = append(s3Rows, r.EventID+"|"+r.EventName+"|"+rp.BucketName)
		}
	}
	multiset("s3-bucket-policy-changes", []string{"event_id", "event_name", "bucket"}, s3Rows)

	// security-group-opened-to-world: one row per /0 range of each rule.
	type ipRange struct {
		CidrIP   string `json:"cidrIp"`
		CidrIPv6 string `json:"cidrIpv6"`
	}
	type sgRule struct {
		IPProtocol string          `json:"ipProtocol"`
		FromPort   json.RawMessage `json:"fromPort"`
		ToPort     json.RawMessage `json:"toPort"`
		IPRanges   struct {
			Items []ipRange `json:"items"`
		} `json:"ipRanges"`
		IPv6Ranges struct {
			Items []ipRange `json:"items"`
		} `json:"ipv6Ranges"`
	}
	var sgRows []string
	for _, r := range recs {
		if r.EventSource != "ec2.amazonaws.com" || r.EventName != "AuthorizeSecurityGroupIngress" || r.ErrorCode != "" {
			continue
		}
		var rp struct {
			GroupID       string `json:"groupId"`
			GroupName     string `json:"groupName"`
			IPPermissions struct {
				Items []sgRule `json:"items"`
			} `json:"ipPermissions"`
			sgRule
			ipRange
		}
		field(t, r.RequestParameters, &rp)
		group := cmp.Or(rp.GroupID, rp.GroupName)
		rules := rp.IPPermissions.Items
		if rp.CidrIP != "" || rp.CidrIPv6 != "" {
			legacy := rp.sgRule
			legacy.IPRanges.Items = []ipRange{rp.ipRange}
			rules = append(rules, legacy)
		}
		for _, rule := range rules {
			for _, rg := range append(rule.IPRanges.Items, rule.IPv6Ranges.Items...) {
				for _, cidr := range []string{rg.CidrIP, rg.CidrIPv6} {
					if strings.HasSuffix(cidr, "/0") {
						sgRows = append(sgRows, strings.Join([]string{r.EventID, group, rule.IPProtocol, port(rule.FromPort), port(rule.ToPort), cidr}, "|"))
					}
				}
			}
		}
	}
	multiset("security-group-opened-to-world", []string{"event_id", "group_id", "protocol", "from_port", "to_port", "cidr"}, sgRows)

	var keyRows []string
	for _, r := range recs {
		if r.EventSource != "iam.amazonaws.com" || r.EventName != "CreateAccessKey" || r.ErrorCode != "" {
			continue
		}
		var re struct {
			AccessKey struct {
				AccessKeyID string `json:"accessKeyId"`
				UserName    string `json:"userName"`
			} `json:"accessKey"`
		}
		field(t, r.ResponseElements, &re)
		other := re.AccessKey.UserName != r.UserIdentity.UserName
		keyRows = append(keyRows, strings.Join([]string{r.EventID, r.principal(), re.AccessKey.UserName, re.AccessKey.AccessKeyID, strconv.FormatBool(other)}, "|"))
	}
	multiset("access-keys-created", []string{"event_id", "principal", "user_name", "access_key_id", "for_another_user"}, keyRows)

	denied := regexp.MustCompile(`^(Client\.)?(AccessDenied|Unauthorized|Forbidden|NotAuthorized|AuthorizationError)`)
	failures := map[string]int{}
	for _, r := range recs {
		if denied.MatchString(r.ErrorCode) {
			failures[strings.Join([]string{r.KeyAccount, r.principal(), r.EventSource, r.EventName, r.ErrorCode}, "|")]++
		}
	}
	var failRows []string
	for k, n := range failures {
		failRows = append(failRows, k+"|"+strconv.Itoa(n))
	}
	multiset("failed-calls-by-principal", []string{"account", "principal", "event_source", "event_name", "error_code", "failures"}, failRows)

	var allowed []string
	for _, r := range strings.Split(param("activity-outside-allowed-regions", "allowed_regions"), ",") {
		allowed = append(allowed, strings.TrimSpace(r))
	}
	global := []string{"iam.amazonaws.com", "signin.amazonaws.com", "organizations.amazonaws.com", "route53.amazonaws.com",
		"cloudfront.amazonaws.com", "support.amazonaws.com", "health.amazonaws.com", "ce.amazonaws.com"}
	outside := map[string]int{}
	for _, r := range recs {
		if r.AWSRegion != "" && !slices.Contains(allowed, r.AWSRegion) && !slices.Contains(global, r.EventSource) {
			outside[strings.Join([]string{r.KeyAccount, r.AWSRegion, r.principal()}, "|")]++
		}
	}
	var outsideRows []string
	for k, n := range outside {
		outsideRows = append(outsideRows, k+"|"+strconv.Itoa(n))
	}
	multiset("activity-outside-allowed-regions", []string{"account", "aws_region", "principal", "calls"}, outsideRows)
}

// port is a JSON port number as the CSV writes it; absent is empty.
func port(raw json.RawMessage) string {
	s := strings.Trim(string(raw), `"`)
	if s == "null" {
		return ""
	}
	return s
}

// TestSavedQueriesCLI checks what fullstop query says about the saved
// queries: --list names each with its parameters, an unknown --name and a
// missing required --param are usage errors (exit 2) that say what to give.
func TestSavedQueriesCLI(t *testing.T) {
	t.Parallel()
	saved, err := savedQueries()
	if err != nil {
		t.Fatal(err)
	}
	// The embedded queries are the files of sql/queries, and each parses.
	files, err := filepath.Glob(filepath.Join(savedQueriesDir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var fileNames, names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := audit.ParseSaved(filepath.Base(f), string(b))
		if err != nil {
			t.Error(err)
		}
		fileNames = append(fileNames, s.Name)
	}
	for _, s := range saved {
		names = append(names, s.Name)
	}
	sort.Strings(fileNames)
	if !slices.Equal(names, fileNames) {
		t.Fatalf("embedded saved queries %v, files of %s %v", names, savedQueriesDir, fileNames)
	}
	for _, want := range []string{"root-account-use", "actions-by-principal", "actions-by-access-key", "console-logins-without-mfa",
		"failed-console-logins", "iam-policy-and-user-changes", "security-group-opened-to-world", "cloudtrail-tampering",
		"access-keys-created", "failed-calls-by-principal", "s3-bucket-policy-changes", "kms-key-deletions",
		"activity-outside-allowed-regions"} {
		if !slices.Contains(names, want) {
			t.Errorf("no saved query %s", want)
		}
	}

	t.Run("list", func(t *testing.T) {
		code, out, errOut := fullstop(t, nil, "query", "--list")
		if code != 0 {
			t.Fatalf("query --list: exit %d\n%s", code, errOut)
		}
		lines := strings.Split(out, "\n")
		for _, s := range saved {
			i := slices.Index(lines, s.Name)
			if i < 0 {
				t.Errorf("--list does not name %s:\n%s", s.Name, out)
				continue
			}
			if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != s.Description {
				t.Errorf("--list: %s is not followed by its description %q", s.Name, s.Description)
			}
			for j, p := range s.Params {
				want := fmt.Sprintf("--param %s=…  %s", p.Name, p.Description)
				if p.HasDefault {
					want += " (default: " + p.Default + ")"
				}
				if i+2+j >= len(lines) || strings.TrimSpace(lines[i+2+j]) != want {
					t.Errorf("--list: %s's parameter line %d is not %q:\n%s", s.Name, j+1, want, out)
				}
			}
		}
	})

	lakeDir := t.TempDir()
	t.Run("unknown name", func(t *testing.T) {
		code, out, errOut := fullstop(t, nil, "query", "--lake", lakeDir, "--name", "nosuch")
		if code != 2 || out != "" {
			t.Fatalf("exit %d, stdout %q, want 2 and nothing", code, out)
		}
		if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 || !strings.Contains(errOut, "nosuch") {
			t.Fatalf("stderr %q: want one line naming nosuch", errOut)
		}
		for _, n := range names {
			if !strings.Contains(errOut, n) {
				t.Errorf("stderr %q does not name the saved query %s", errOut, n)
			}
		}
	})

	required := 0
	for _, s := range saved {
		for _, p := range s.Params {
			if p.HasDefault {
				continue
			}
			required++
			t.Run("missing param/"+s.Name+"/"+p.Name, func(t *testing.T) {
				code, out, errOut := fullstop(t, nil, "query", "--lake", lakeDir, "--name", s.Name)
				if code != 2 || out != "" {
					t.Fatalf("exit %d, stdout %q, want 2 and nothing; stderr %q", code, out, errOut)
				}
				if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 ||
					!strings.Contains(errOut, "missing parameter "+p.Name) || !strings.Contains(errOut, "--param "+p.Name+"=") {
					t.Fatalf("stderr %q: want one line naming the missing parameter %s", errOut, p.Name)
				}
			})
		}
	}
	if required == 0 {
		t.Error("no saved query has a required parameter: the missing-param check proved nothing")
	}

	t.Run("unknown param", func(t *testing.T) {
		code, _, errOut := fullstop(t, nil, "query", "--lake", lakeDir, "--name", "root-account-use", "--param", "since=2023-07-10")
		if code != 2 || !strings.Contains(errOut, "unknown parameter since") {
			t.Fatalf("exit %d, stderr %q: want 2 naming the unknown parameter", code, errOut)
		}
	})
}

// lackingRecords are hand-written records, shaped as AWS documents them,
// of the events the sample logs lack: root use, a failed console sign-in,
// KMS key deletion, an IPv6 and an all-protocol world-open rule, public
// access block changes and UpdateTrail; and records each query must leave
// out.
const lackingRecords = `[
 {"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},
  "eventTime":"2024-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1",
  "userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},
  "additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},
  "eventID":"00000000-0000-4000-8000-000000000001","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE"},
  "eventTime":"2024-03-01T10:01:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1",
  "userAgent":"aws-cli/2.15.0","requestParameters":{"Host":"s3.amazonaws.com"},"responseElements":null,
  "eventID":"00000000-0000-4000-8000-000000000002","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","invokedBy":"support.amazonaws.com"},
  "eventTime":"2024-03-01T10:02:00Z","eventSource":"iam.amazonaws.com","eventName":"GetAccountSummary","awsRegion":"us-east-1","sourceIPAddress":"support.amazonaws.com",
  "userAgent":"support.amazonaws.com","requestParameters":null,"responseElements":null,
  "eventID":"00000000-0000-4000-8000-000000000003","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","accountId":"111122223333","accessKeyId":"","userName":"alice"},
  "eventTime":"2024-03-01T10:05:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7",
  "userAgent":"Mozilla/5.0","errorMessage":"Failed authentication","requestParameters":null,"responseElements":{"ConsoleLogin":"Failure"},
  "additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},
  "eventID":"00000000-0000-4000-8000-000000000004","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAI44QH8DHBEXAMPLE","userName":"alice"},
  "eventTime":"2024-03-01T10:10:00Z","eventSource":"kms.amazonaws.com","eventName":"ScheduleKeyDeletion","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",
  "userAgent":"aws-cli/2.15.0","requestParameters":{"keyId":"1234abcd-12ab-34cd-56ef-1234567890ab","pendingWindowInDays":7},
  "responseElements":{"keyId":"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab","keyState":"PendingDeletion","deletionDate":"Mar 8, 2024, 10:10:00 AM","pendingWindowInDays":7},
  "eventID":"00000000-0000-4000-8000-000000000005","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAI44QH8DHBEXAMPLE","userName":"alice"},
  "eventTime":"2024-03-01T10:11:00Z","eventSource":"kms.amazonaws.com","eventName":"DisableKey","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",
  "userAgent":"aws-cli/2.15.0","requestParameters":{"keyId":"0987dcba-09fe-87dc-65ba-ab0987654321"},"responseElements":null,
  "eventID":"00000000-0000-4000-8000-000000000006","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAI44QH8DHBEXAMPLE","userName":"alice"},
  "eventTime":"2024-03-01T10:12:00Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",
  "userAgent":"aws-cli/2.15.0","requestParameters":{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,
  "eventID":"00000000-0000-4000-8000-000000000007","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAI44QH8DHBEXAMPLE","userName":"alice"},
  "eventTime":"2024-03-01T10:20:00Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",
  "userAgent":"aws-cli/2.15.0","requestParameters":{"groupId":"sg-0123456789abcdef0","ipPermissions":{"items":[
    {"ipProtocol":"-1","groups":{},"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]},"ipv6Ranges":{"items":[{"cidrIpv6":"::/0"}]},"prefixListIds":{}},
    {"ipProtocol":"tcp","fromPort":3389,"toPort":3389,"groups":{},"ipRanges":{"items":[{"cidrIp":"192.0.2.0/24"},{"cidrIp":"0.0.0.0/0"}]},"ipv6Ranges":{},"prefixListIds":{}}]}},
  "responseElements":{"requestId":"6c5a1e8b-0000-4000-8000-000000000000","_return":true},
  "eventID":"00000000-0000-4000-8000-000000000008","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAI44QH8DHBEXAMPLE","userName":"alice"},
  "eventTime":"2024-03-01T10:21:00Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",
  "userAgent":"aws-cli/2.15.0","errorCode":"Client.InvalidPermission.Duplicate","errorMessage":"the specified rule already exists",
  "requestParameters":{"groupId":"sg-0123456789abcdef0","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}},
  "responseElements":null,
  "eventID":"00000000-0000-4000-8000-000000000009","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAI44QH8DHBEXAMPLE","userName":"alice"},
  "eventTime":"2024-03-01T10:30:00Z","eventSource":"s3.amazonaws.com","eventName":"DeleteBucketPublicAccessBlock","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",
  "userAgent":"aws-cli/2.15.0","requestParameters":{"publicAccessBlock":"","bucketName":"amzn-s3-demo-bucket","Host":"amzn-s3-demo-bucket.s3.eu-west-1.amazonaws.com"},"responseElements":null,
  "eventID":"00000000-0000-4000-8000-000000000010","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAI44QH8DHBEXAMPLE","userName":"alice"},
  "eventTime":"2024-03-01T10:31:00Z","eventSource":"s3.amazonaws.com","eventName":"PutAccountPublicAccessBlock","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",
  "userAgent":"aws-cli/2.15.0","requestParameters":{"PublicAccessBlockConfiguration":{"BlockPublicAcls":false,"IgnorePublicAcls":false,"BlockPublicPolicy":false,"RestrictPublicBuckets":false}},"responseElements":null,
  "eventID":"00000000-0000-4000-8000-000000000011","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAI44QH8DHBEXAMPLE","userName":"alice"},
  "eventTime":"2024-03-01T10:40:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",
  "userAgent":"aws-cli/2.15.0","requestParameters":{"name":"management-events","isMultiRegionTrail":false},"responseElements":{"name":"management-events","isMultiRegionTrail":false},
  "eventID":"00000000-0000-4000-8000-000000000012","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}
]`

// TestSavedQueries_EventsTheSamplesLack runs the queries the sample logs
// leave empty (or only partly exercise) over hand-written records.
func TestSavedQueries_EventsTheSamplesLack(t *testing.T) {
	t.Parallel()
	var recs []json.RawMessage
	if err := json.Unmarshal([]byte(lackingRecords), &recs); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	dir := filepath.Join(src, "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/01")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	doc, _ := json.Marshal(struct{ Records []json.RawMessage }{recs})
	zw.Write(doc)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "111122223333_CloudTrail_eu-west-1_20240301T1045Z_hand.json.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	lakeDir := filepath.Join(t.TempDir(), "lake")
	code, out, errOut := fullstop(t, []string{"DATABASE_URL=" + pgtest.New(t)}, "--log-level", "warn", "backfill", "--source", src,
		"--from", "2024-03-01", "--to", "2024-03-02", "--lake", lakeDir, "--progress=false")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("events      %d ", len(recs))) {
		t.Fatalf("backfill: exit %d\n%s\n%s", code, out, errOut)
	}
	run := func(name string, cols ...string) []string {
		t.Helper()
		code, out, errOut := fullstop(t, nil, "query", "--lake", lakeDir, "--name", name, "-o", "csv")
		if code != 0 {
			t.Fatalf("query --name %s: exit %d\n%s", name, code, errOut)
		}
		return parseCSV(t, name, out).tuples(t, cols...)
	}
	id := func(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }
	for _, tc := range []struct {
		query string
		cols  []string
		want  []string
	}{
		// The root sign-in and the root key's call, not the call a service made as root.
		{"root-account-use", []string{"event_id", "event_name", "principal"}, []string{
			id(1) + "|ConsoleLogin|arn:aws:iam::111122223333:root",
			id(2) + "|ListBuckets|arn:aws:iam::111122223333:root"}},
		// The failed sign-in said MFAUsed No too, but failed.
		{"console-logins-without-mfa", []string{"event_id", "principal"}, []string{id(1) + "|arn:aws:iam::111122223333:root"}},
		// No ARN for a failed sign-in: the user name stands in.
		{"failed-console-logins", []string{"event_id", "principal", "error", "mfa_used"}, []string{
			id(4) + "|alice|Failed authentication|No"}},
		{"kms-key-deletions", []string{"event_id", "event_name", "key_id", "pending_window_days", "deletion_date"}, []string{
			id(5) + "|ScheduleKeyDeletion|arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab|7|Mar 8, 2024, 10:10:00 AM",
			id(6) + "|DisableKey|0987dcba-09fe-87dc-65ba-ab0987654321||"}},
		// Every protocol to ::/0 and RDP to 0.0.0.0/0; not 10.0.0.0/8, not 192.0.2.0/24, not the failed call.
		{"security-group-opened-to-world", []string{"event_id", "group_id", "protocol", "from_port", "to_port", "cidr"}, []string{
			id(8) + "|sg-0123456789abcdef0|-1|||::/0",
			id(8) + "|sg-0123456789abcdef0|tcp|3389|3389|0.0.0.0/0"}},
		{"s3-bucket-policy-changes", []string{"event_id", "event_name", "bucket", "detail"}, []string{
			id(10) + "|DeleteBucketPublicAccessBlock|amzn-s3-demo-bucket|",
			id(11) + `|PutAccountPublicAccessBlock||{"BlockPublicAcls":false,"IgnorePublicAcls":false,"BlockPublicPolicy":false,"RestrictPublicBuckets":false}`}},
		{"cloudtrail-tampering", []string{"event_id", "event_name", "trail", "detail"}, []string{
			id(12) + `|UpdateTrail|management-events|{"name":"management-events","isMultiRegionTrail":false}`}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			if got := run(tc.query, tc.cols...); !slices.Equal(got, tc.want) {
				t.Fatalf("%s (%s):\n got %q\nwant %q", tc.query, strings.Join(tc.cols, "|"), got, tc.want)
			}
		})
	}
}
