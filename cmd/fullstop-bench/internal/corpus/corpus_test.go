package corpus

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/event"
)

const testdata = "../../../../testdata/cloudtrail"

var (
	poolOnce sync.Once
	pool     *Pool
	poolErr  error
)

func testPool(t *testing.T) *Pool {
	t.Helper()
	poolOnce.Do(func() { pool, poolErr = LoadPool(testdata) })
	if poolErr != nil {
		t.Fatal(poolErr)
	}
	return pool
}

func TestLoadPool(t *testing.T) {
	t.Parallel()
	p := testPool(t)
	// Every source folder contributes; the account lists and YAML files of
	// fullstop-fixtures do not.
	for _, src := range []string{"invictus", "stratus", "fullstop-fixtures"} {
		if p.Sources[src] == 0 {
			t.Errorf("no records from %s", src)
		}
	}
	if p.Sources["invictus"] < 2800 || p.Sources["stratus"] < 300 {
		t.Errorf("records per source = %v, want about 2,900 invictus and 310 stratus", p.Sources)
	}
	if p.Len() != p.Sources["invictus"]+p.Sources["stratus"]+p.Sources["fullstop-fixtures"] {
		t.Errorf("Len() = %d, sources %v", p.Len(), p.Sources)
	}
}

// files returns the relative paths and contents of the files under dir.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	p := testPool(t)
	cfg := Config{Events: 1500, Seed: 7, MinPerFile: 50, MaxPerFile: 200}
	a, b := t.TempDir(), t.TempDir()
	ma, err := Generate(context.Background(), cfg, p, a, 1)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := Generate(context.Background(), cfg, p, b, 4)
	if err != nil {
		t.Fatal(err)
	}
	fa, fb := files(t, a), files(t, b)
	delete(fa, ManifestName)
	delete(fb, ManifestName)
	if len(fa) != ma.Files || len(fb) != mb.Files {
		t.Fatalf("files on disk %d and %d, manifests say %d and %d", len(fa), len(fb), ma.Files, mb.Files)
	}
	for k, v := range fa {
		if !bytes.Equal(v, fb[k]) {
			t.Errorf("%s differs between two runs with the same seed (or is missing from one)", k)
		}
	}
	if ma.JSONBytes != mb.JSONBytes || ma.GzipBytes != mb.GzipBytes {
		t.Errorf("sizes differ: %d/%d and %d/%d", ma.JSONBytes, ma.GzipBytes, mb.JSONBytes, mb.GzipBytes)
	}

	// Another seed gives another corpus.
	c := t.TempDir()
	if _, err := Generate(context.Background(), Config{Events: 1500, Seed: 8, MinPerFile: 50, MaxPerFile: 200}, p, c, 2); err != nil {
		t.Fatal(err)
	}
	for k := range files(t, c) {
		if _, ok := fa[k]; ok {
			t.Errorf("seeds 7 and 8 both made %s", k)
		}
	}
}

var (
	uuidV4   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	fileName = regexp.MustCompile(`^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
)

// record is the part of a CloudTrail record the generator sets.
type record struct {
	EventID            string
	EventTime          time.Time
	AWSRegion          string
	RecipientAccountID string `json:"recipientAccountId"`
	UserIdentity       *struct {
		AccountID *string `json:"accountId"`
	}
}

func TestGenerateLayoutAndRecords(t *testing.T) {
	t.Parallel()
	p := testPool(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"defaults but small files", Config{Events: 3000, Seed: 1, MinPerFile: 100, MaxPerFile: 400}},
		{"one account, one region, one day", Config{Events: 777, Seed: 2, Accounts: 1, Regions: []string{"eu-west-1"}, Days: 1, MinPerFile: 100, MaxPerFile: 300}},
		{"files of one record", Config{Events: 40, Seed: 3, Accounts: 3, Days: 2, MinPerFile: 1, MaxPerFile: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			m, err := Generate(context.Background(), tc.cfg, p, dir, 2)
			if err != nil {
				t.Fatal(err)
			}
			cfg := tc.cfg.withDefaults()
			if m.Events != int64(cfg.Events) {
				t.Errorf("manifest events = %d, want %d", m.Events, cfg.Events)
			}
			if len(m.Accounts) != cfg.Accounts {
				t.Errorf("manifest accounts = %v, want %d", m.Accounts, cfg.Accounts)
			}
			fromManifest, err := ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			if fromManifest.Events != m.Events || fromManifest.Files != m.Files {
				t.Errorf("manifest on disk %+v, returned %+v", fromManifest, m)
			}

			var (
				events, jsonBytes, gzBytes int64
				nfiles                     int
				ids                        = map[string]bool{}
				accounts                   = map[string]bool{}
				dec                        = event.NewDecoder(nil, 0)
			)
			defer dec.Release()
			for rel, data := range files(t, dir) {
				if rel == ManifestName {
					continue
				}
				nfiles++
				gzBytes += int64(len(data))
				k, err := etl.ParseKey(rel)
				if err != nil {
					t.Fatalf("generated key: %v", err)
				}
				match := fileName.FindStringSubmatch(k.Name)
				if match == nil || match[1] != k.Account || match[2] != k.Region {
					t.Errorf("%s: file name does not follow <acct>_CloudTrail_<region>_<time>_<16 alnum>.json.gz of its folder", rel)
				}
				if k.Prefix != "" || k.OrgID != "" || k.Time.Equal(k.Day) {
					t.Errorf("%s: parsed as %+v, want no prefix, no organization and a delivery time", rel, k)
				}
				if k.Day.Before(m.From) || !k.Day.Before(m.To) {
					t.Errorf("%s: day %s outside [%s, %s)", rel, k.Day, m.From, m.To)
				}
				accounts[k.Account] = true
				if !containsString(cfg.Regions, k.Region) {
					t.Errorf("%s: region %q not in %v", rel, k.Region, cfg.Regions)
				}

				zr, err := gzip.NewReader(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				plain, err := io.ReadAll(zr)
				if err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				jsonBytes += int64(len(plain))

				res, err := dec.Decode(bytes.NewReader(plain), event.Origin{Key: rel, Account: k.Account, Region: k.Region})
				if err != nil {
					t.Fatalf("%s: decode: %v", rel, err)
				}
				if res.Skipped != 0 {
					t.Errorf("%s: decoder skipped %d records: %v", rel, res.Skipped, res.Errors[0])
				}
				rows := 0
				for _, b := range res.Batches {
					rows += int(b.NumRows())
				}
				if rows != res.Events {
					t.Errorf("%s: %d rows in batches, %d events", rel, rows, res.Events)
				}
				if res.Events < 1 || (res.Events > cfg.MaxPerFile) {
					t.Errorf("%s: %d records, want 1..%d", rel, res.Events, cfg.MaxPerFile)
				}
				events += int64(res.Events)
				checkBatchRegion(t, rel, res, k.Region)
				res.Release()

				var doc struct{ Records []record }
				if err := json.Unmarshal(plain, &doc); err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				for i, r := range doc.Records {
					if !uuidV4.MatchString(r.EventID) {
						t.Errorf("%s record %d: eventID %q is not a version 4 UUID", rel, i, r.EventID)
					}
					if ids[r.EventID] {
						t.Errorf("%s record %d: eventID %s used twice", rel, i, r.EventID)
					}
					ids[r.EventID] = true
					if r.AWSRegion != k.Region || r.RecipientAccountID != k.Account {
						t.Errorf("%s record %d: region %q, recipient %q, want the key's %q and %q", rel, i, r.AWSRegion, r.RecipientAccountID, k.Region, k.Account)
					}
					if r.UserIdentity != nil && r.UserIdentity.AccountID != nil && *r.UserIdentity.AccountID != k.Account {
						t.Errorf("%s record %d: userIdentity.accountId %q, want %q", rel, i, *r.UserIdentity.AccountID, k.Account)
					}
					if r.EventTime.Before(k.Day) || !r.EventTime.Before(k.Day.AddDate(0, 0, 1)) || r.EventTime.After(k.Time) {
						t.Errorf("%s record %d: eventTime %s not on day %s before the delivery %s", rel, i, r.EventTime, k.Day, k.Time)
					}
				}
			}
			if nfiles != m.Files || events != m.Events || jsonBytes != m.JSONBytes || gzBytes != m.GzipBytes {
				t.Errorf("found %d files, %d events, %d JSON bytes, %d gzip bytes; manifest says %d, %d, %d, %d",
					nfiles, events, jsonBytes, gzBytes, m.Files, m.Events, m.JSONBytes, m.GzipBytes)
			}
			if len(accounts) > cfg.Accounts {
				t.Errorf("%d accounts in keys, want at most %d", len(accounts), cfg.Accounts)
			}
		})
	}
}

// checkBatchRegion checks the decoded aws_region column against the key's.
func checkBatchRegion(t *testing.T, key string, res *event.Result, region string) {
	t.Helper()
	for _, b := range res.Batches {
		idx := b.Schema().FieldIndices(event.ColAWSRegion)
		if len(idx) != 1 {
			t.Fatalf("no aws_region column in %v", b.Schema())
		}
		col := b.Column(idx[0]).(*array.String)
		for i := range col.Len() {
			if col.Value(i) != region {
				t.Fatalf("%s row %d: aws_region %q, want %q", key, i, col.Value(i), region)
			}
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestEnsureCaches(t *testing.T) {
	t.Parallel()
	p := testPool(t)
	dir := t.TempDir()
	cfg := Config{Events: 200, Seed: 5, MinPerFile: 50, MaxPerFile: 100}
	m1, cached, err := Ensure(context.Background(), cfg, p, dir, 2)
	if err != nil || cached {
		t.Fatalf("first Ensure: cached %v, err %v", cached, err)
	}
	m2, cached, err := Ensure(context.Background(), cfg, p, dir, 2)
	if err != nil || !cached || m2.Events != m1.Events || m2.Files != m1.Files {
		t.Fatalf("second Ensure: cached %v, err %v, %+v vs %+v", cached, err, m2, m1)
	}
	// Another size replaces the corpus: the old files are gone.
	cfg.Events = 120
	m3, cached, err := Ensure(context.Background(), cfg, p, dir, 2)
	if err != nil || cached || m3.Events != 120 {
		t.Fatalf("Ensure of another size: cached %v, err %v, events %d", cached, err, m3.Events)
	}
	got := files(t, dir)
	if len(got) != m3.Files+1 {
		t.Errorf("%d files on disk after regenerating, want %d and the manifest", len(got), m3.Files)
	}
}

func TestObjectKeyAndUUID(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	ts := time.Date(2024, 2, 29, 23, 55, 0, 0, time.UTC)
	key := ObjectKey(rng, "123456789012", "eu-central-1", ts)
	if !strings.HasPrefix(key, "AWSLogs/123456789012/CloudTrail/eu-central-1/2024/02/29/123456789012_CloudTrail_eu-central-1_20240229T2355Z_") {
		t.Errorf("ObjectKey = %q", key)
	}
	k, err := etl.ParseKey(key)
	if err != nil || !k.Time.Equal(ts) {
		t.Errorf("ParseKey(%q) = %+v, %v; want time %s", key, k, err, ts)
	}
	for range 100 {
		if u := NewUUID(rng); !uuidV4.MatchString(u) {
			t.Fatalf("NewUUID() = %q, not a version 4 UUID", u)
		}
	}
}
