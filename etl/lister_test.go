package etl_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/file"
)

const (
	acctA = "111111111111"
	acctB = "222222222222"
	acctC = "333333333333"
	orgO  = "o-abcdef1234"
)

// logObj is one log file of a synthetic tree.
type logObj struct {
	org, account, region string
	at                   time.Time
}

func (o logObj) key(prefix string) string {
	name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", o.account, o.region, o.at.Format("20060102T1504Z"), "u"+o.at.Format("150405"))
	return etl.DayPrefix(prefix, o.org, o.account, o.region, o.at) + name
}

// listerTree is a bucket-like tree with direct and organization trails,
// several regions and days, and files that are not logs.
type listerTree struct {
	logs  []logObj
	junk  []string // non-log keys, relative to the prefix
	inDay []string // of junk, those inside day folders that are listed
}

func newListerTree() listerTree {
	var tr listerTree
	trails := []struct{ org, account, region string }{
		{"", acctA, "us-east-1"}, {"", acctA, "eu-west-1"},
		{"", acctB, "us-north-2r"},
		{orgO, acctC, "us-east-1"},
		{orgO, acctA, "eu-west-1"},
	}
	for _, t := range trails {
		for d := 9; d <= 11; d++ {
			for _, hm := range [][2]int{{0, 0}, {12, 0}, {23, 55}} {
				tr.logs = append(tr.logs, logObj{t.org, t.account, t.region, time.Date(2023, 7, d, hm[0], hm[1], 0, 0, time.UTC)})
			}
		}
	}
	dayA := "AWSLogs/" + acctA + "/CloudTrail/us-east-1/2023/07/10/"
	tr.inDay = []string{dayA + "README.txt", dayA + "x.json.gz.tmp", dayA + acctA + "_CloudTrail_us-east-1_20230710T1200Z_part.gz"}
	tr.junk = append([]string{
		"AWSLogs/" + acctA + "/CloudTrail-Digest/us-east-1/2023/07/10/" + acctA + "_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T120000Z.json.gz",
		"AWSLogs/" + acctA + "/CloudTrail-Insight/us-east-1/2023/07/10/" + acctA + "_CloudTrail-Insight_us-east-1_20230710T1200Z_x.json.gz",
		"AWSLogs/" + orgO + "/" + acctC + "/CloudTrail-Digest/us-east-1/2023/07/10/d.json.gz",
		"AWSLogs/junk.txt",
		"AWSLogs/not-an-account/CloudTrail/us-east-1/2023/07/10/x.json.gz",
		"AWSLogs/" + acctA + "/CloudTrail/us-east-1/2023/07/notaday/x.json.gz",
		"AWSLogs/" + acctA + "/CloudTrail/us-east-1/2023/07/10/sub/x.json.gz",
		"AWSLogs/" + acctA + "/Config/ConfigWritabilityCheckFile",
		"other/AWSLogs/" + acctA + "/CloudTrail/us-east-1/2023/07/10/x.json.gz",
	}, tr.inDay...)
	return tr
}

// write writes the tree under prefix into a new folder and returns it.
func (tr listerTree) write(t *testing.T, prefix string) string {
	t.Helper()
	files := map[string][]byte{}
	for _, o := range tr.logs {
		files[o.key(prefix)] = []byte("{}")
	}
	for _, k := range tr.junk {
		files[prefix+k] = []byte("junk")
	}
	return writeFiles(t, files)
}

func writeFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	for k, b := range files {
		p := filepath.Join(root, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// recordingSource records the List calls made to a Source and can fail
// one prefix.
type recordingSource struct {
	etl.Source
	failPrefix string

	mu    sync.Mutex
	lists []string
}

var errListFailed = errors.New("list failed")

func (s *recordingSource) List(ctx context.Context, prefix, delimiter string) (etl.Listing, error) {
	s.mu.Lock()
	s.lists = append(s.lists, prefix+" "+delimiter)
	s.mu.Unlock()
	if s.failPrefix != "" && prefix == s.failPrefix {
		return etl.Listing{}, errListFailed
	}
	return s.Source.List(ctx, prefix, delimiter)
}

func (s *recordingSource) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(slices.Values(s.lists))
}

func newFileSource(t *testing.T, root string) *file.Source {
	t.Helper()
	s, err := file.New(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func TestLister_ListRange(t *testing.T) {
	t.Parallel()
	tree := newListerTree()
	d10, d11 := utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0)
	tests := []struct {
		name     string
		prefix   string // of the tree; the lister's is the same unless listPrefix is set
		lister   string
		accounts []string
		regions  []string
		from, to time.Time
		// want selects the expected logs of the tree.
		want      func(o logObj) bool
		wantCalls int
		wantSkip  int
	}{
		{
			name: "one day, everything", from: d10, to: d11,
			want: func(o logObj) bool { return o.at.Day() == 10 },
			// root + org + 4 trails' regions + 5 region folders × 1 day
			wantCalls: 11, wantSkip: 3,
		},
		{
			name: "prefix", prefix: "logs/", lister: "logs", from: d10, to: d11,
			want:      func(o logObj) bool { return o.at.Day() == 10 },
			wantCalls: 11, wantSkip: 3,
		},
		{
			name: "prefix with slash", prefix: "a/b/", lister: "a/b/", from: d10, to: d11,
			want:      func(o logObj) bool { return o.at.Day() == 10 },
			wantCalls: 11, wantSkip: 3,
		},
		{
			name: "half-open bounds", from: utc(2023, 7, 10, 12, 0), to: utc(2023, 7, 11, 0, 0),
			want:      func(o logObj) bool { return o.at.Day() == 10 && o.at.Hour() >= 12 },
			wantCalls: 11, wantSkip: 3,
		},
		{
			name: "across midnight", from: utc(2023, 7, 9, 23, 55), to: utc(2023, 7, 10, 0, 1),
			want: func(o logObj) bool {
				return o.at.Equal(utc(2023, 7, 9, 23, 55)) || o.at.Equal(utc(2023, 7, 10, 0, 0))
			},
			wantCalls: 16, wantSkip: 3,
		},
		{
			name: "end at a later midnight lists no extra day", from: utc(2023, 7, 9, 0, 0), to: d11,
			want:      func(o logObj) bool { return o.at.Day() <= 10 },
			wantCalls: 16, wantSkip: 3,
		},
		{
			name: "days with no folders", from: utc(2023, 7, 11, 12, 0), to: utc(2023, 7, 13, 0, 0),
			want:      func(o logObj) bool { return o.at.Day() == 11 && o.at.Hour() >= 12 },
			wantCalls: 16,
		},
		{
			name: "account in and out of the organization", accounts: []string{acctA}, from: d10, to: d11,
			want: func(o logObj) bool { return o.at.Day() == 10 && o.account == acctA },
			// root + 2 trails' regions (direct, org) + 3 region folders
			wantCalls: 6, wantSkip: 3,
		},
		{
			name: "organization account only", accounts: []string{acctC, acctC}, from: d10, to: d11,
			want: func(o logObj) bool { return o.at.Day() == 10 && o.account == acctC },
			// root + 1 trail's regions (org; not directly under AWSLogs) + 1 region folder
			wantCalls: 3,
		},
		{
			name: "unknown account", accounts: []string{"999999999999"}, from: d10, to: d11,
			want:      func(logObj) bool { return false },
			wantCalls: 2, // root + the org trail's regions
		},
		{
			name: "regions", regions: []string{"eu-west-1"}, from: d10, to: d11,
			want: func(o logObj) bool { return o.at.Day() == 10 && o.region == "eu-west-1" },
			// root + org + 4 trails × 1 region × 1 day
			wantCalls: 6,
		},
		{
			name: "made-up region", regions: []string{"us-north-2r"}, from: d10, to: d11,
			want:      func(o logObj) bool { return o.at.Day() == 10 && o.region == "us-north-2r" },
			wantCalls: 6,
		},
		{
			name: "accounts and regions", accounts: []string{acctA}, regions: []string{"us-east-1"}, from: d10, to: d11,
			want:      func(o logObj) bool { return o.at.Day() == 10 && o.account == acctA && o.region == "us-east-1" },
			wantCalls: 3, wantSkip: 3, // root + 2 trails × 1 region × 1 day
		},
		{
			name: "empty range", from: d10, to: d10,
			want: func(logObj) bool { return false },
		},
		{
			name: "reversed range", from: d11, to: d10,
			want: func(logObj) bool { return false },
		},
		{
			name: "range in another time zone", from: d10.In(time.FixedZone("x", -5*3600)), to: d11.In(time.FixedZone("y", 9*3600)),
			want:      func(o logObj) bool { return o.at.Day() == 10 },
			wantCalls: 11, wantSkip: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := &recordingSource{Source: newFileSource(t, tree.write(t, tt.prefix))}
			l := &etl.Lister{Source: src, Prefix: tt.prefix, Accounts: tt.accounts, Regions: tt.regions, Concurrency: 3}
			if tt.lister != "" {
				l.Prefix = tt.lister
			}
			got, err := l.ListRange(context.Background(), tt.from, tt.to)
			if err != nil {
				t.Fatalf("ListRange: %v", err)
			}
			var keys []string
			for _, c := range got {
				keys = append(keys, c.Object.Key)
				if c.Key.String() != c.Object.Key || c.Object.Size != 2 || c.Object.ETag == "" {
					t.Errorf("candidate %+v: key and object disagree", c)
				}
				if c.Key.Time.Before(tt.from) || !c.Key.Time.Before(tt.to) {
					t.Errorf("candidate %q: time %v outside the range", c.Object.Key, c.Key.Time)
				}
			}
			var want []string
			for _, o := range tree.logs {
				if tt.want(o) {
					want = append(want, o.key(tt.prefix))
				}
			}
			slices.Sort(want)
			if !slices.Equal(keys, want) {
				t.Errorf("ListRange keys\n got %q\nwant %q", keys, want)
			}
			st := l.Stats()
			if st.ListCalls != tt.wantCalls || len(src.calls()) != tt.wantCalls {
				t.Errorf("list calls: stats %d, source saw %d, want %d: %q", st.ListCalls, len(src.calls()), tt.wantCalls, src.calls())
			}
			if st.SkippedKeys != tt.wantSkip {
				t.Errorf("skipped keys %d, want %d", st.SkippedKeys, tt.wantSkip)
			}
			if st.Objects < len(want)+st.SkippedKeys {
				t.Errorf("objects %d, want at least %d", st.Objects, len(want)+st.SkippedKeys)
			}
			for _, c := range src.calls() {
				if !strings.HasSuffix(c, "/ /") {
					t.Errorf("List call %q: want a folder with delimiter \"/\"", c)
				}
			}
		})
	}
}

// TestLister_ListRange_listsOnlyTheNeededFolders pins the exact LIST calls
// of a one-day window.
func TestLister_ListRange_listsOnlyTheNeededFolders(t *testing.T) {
	t.Parallel()
	tree := newListerTree()
	src := &recordingSource{Source: newFileSource(t, tree.write(t, "p/"))}
	l := &etl.Lister{Source: src, Prefix: "p"}
	if _, err := l.ListRange(context.Background(), utc(2023, 7, 10, 5, 0), utc(2023, 7, 10, 6, 0)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"p/AWSLogs/ /",
		"p/AWSLogs/" + orgO + "/ /",
		"p/AWSLogs/" + acctA + "/CloudTrail/ /",
		"p/AWSLogs/" + acctB + "/CloudTrail/ /",
		"p/AWSLogs/" + orgO + "/" + acctA + "/CloudTrail/ /",
		"p/AWSLogs/" + orgO + "/" + acctC + "/CloudTrail/ /",
		"p/AWSLogs/" + acctA + "/CloudTrail/eu-west-1/2023/07/10/ /",
		"p/AWSLogs/" + acctA + "/CloudTrail/us-east-1/2023/07/10/ /",
		"p/AWSLogs/" + acctB + "/CloudTrail/us-north-2r/2023/07/10/ /",
		"p/AWSLogs/" + orgO + "/" + acctA + "/CloudTrail/eu-west-1/2023/07/10/ /",
		"p/AWSLogs/" + orgO + "/" + acctC + "/CloudTrail/us-east-1/2023/07/10/ /",
	}
	slices.Sort(want)
	if got := src.calls(); !slices.Equal(got, want) {
		t.Errorf("List calls\n got %q\nwant %q", got, want)
	}
}

// TestLister_ListRange_costIndependentOfHistory checks that the LIST calls
// of a window do not grow with the days of history in the bucket.
func TestLister_ListRange_costIndependentOfHistory(t *testing.T) {
	t.Parallel()
	last := utc(2024, 3, 31, 0, 0)
	calls := map[int]int{}
	for _, history := range []int{1, 90} {
		files := map[string][]byte{}
		for i := range history {
			for _, acct := range []string{acctA, acctB} {
				o := logObj{account: acct, region: "us-east-1", at: last.AddDate(0, 0, -i).Add(10 * time.Hour)}
				files[o.key("")] = []byte("{}")
			}
		}
		l := &etl.Lister{Source: newFileSource(t, writeFiles(t, files))}
		got, err := l.ListRange(context.Background(), last, last.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Errorf("history %d days: %d candidates, want 2", history, len(got))
		}
		calls[history] = l.Stats().ListCalls
	}
	if calls[1] != calls[90] || calls[1] != 5 { // root + 2 × regions + 2 × day
		t.Errorf("list calls: %d with 1 day of history, %d with 90; want 5 for both", calls[1], calls[90])
	}
}

// TestLister_ListRange_lateFile checks that a file delivered late into an
// old day folder is found by any window that covers its key time, however
// new its modification time.
func TestLister_ListRange_lateFile(t *testing.T) {
	t.Parallel()
	on := logObj{account: acctA, region: "us-east-1", at: utc(2023, 7, 1, 8, 0)}
	late := logObj{account: acctA, region: "us-east-1", at: utc(2023, 7, 1, 9, 0)}
	root := writeFiles(t, map[string][]byte{on.key(""): []byte("{}")})
	l := &etl.Lister{Source: newFileSource(t, root)}
	from, to := utc(2023, 7, 1, 0, 0), utc(2023, 7, 3, 0, 0)
	first, err := l.ListRange(context.Background(), from, to)
	if err != nil || len(first) != 1 {
		t.Fatalf("first listing: %d candidates, %v; want 1", len(first), err)
	}
	p := filepath.Join(root, filepath.FromSlash(late.key("")))
	if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, time.Now(), time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	second, err := l.ListRange(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(second) != 2 || second[1].Object.Key != late.key("") {
		t.Errorf("second listing %+v, want the late file as well", second)
	}
}

func TestLister_ListRange_errors(t *testing.T) {
	t.Parallel()
	tree := newListerTree()
	root := tree.write(t, "")
	for _, fail := range []string{
		"AWSLogs/",
		"AWSLogs/" + orgO + "/",
		"AWSLogs/" + acctB + "/CloudTrail/",
		"AWSLogs/" + orgO + "/" + acctC + "/CloudTrail/us-east-1/2023/07/10/",
	} {
		t.Run(fail, func(t *testing.T) {
			t.Parallel()
			l := &etl.Lister{Source: &recordingSource{Source: newFileSource(t, root), failPrefix: fail}}
			got, err := l.ListRange(context.Background(), utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0))
			if !errors.Is(err, errListFailed) || got != nil {
				t.Fatalf("ListRange = %d candidates, %v; want the source's error", len(got), err)
			}
			if !strings.Contains(err.Error(), fail) {
				t.Errorf("error %q does not name the prefix %q", err, fail)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		l := &etl.Lister{Source: newFileSource(t, root)}
		if _, err := l.ListRange(ctx, utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0)); !errors.Is(err, context.Canceled) {
			t.Errorf("ListRange with a cancelled context: %v, want context.Canceled", err)
		}
	})
	for _, l := range []*etl.Lister{
		{Source: newFileSource(t, root), Accounts: []string{"12345"}},
		{Source: newFileSource(t, root), Regions: []string{"us-east-1", ""}},
		{Source: newFileSource(t, root), Regions: []string{"a/b"}},
	} {
		if _, err := l.ListRange(context.Background(), utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0)); err == nil {
			t.Errorf("ListRange with accounts %q and regions %q succeeded, want an error", l.Accounts, l.Regions)
		}
	}
	t.Run("no source", func(t *testing.T) {
		t.Parallel()
		if _, err := (&etl.Lister{}).ListRange(context.Background(), utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0)); err == nil {
			t.Error("ListRange without a source succeeded")
		}
	})
}

func TestLister_ListRange_invictus(t *testing.T) {
	t.Parallel()
	l := &etl.Lister{Source: newFileSource(t, "../testdata/cloudtrail/invictus")}
	got, err := l.ListRange(context.Background(), utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 55 || l.Stats().ListCalls != 3 || l.Stats().SkippedKeys != 0 {
		t.Errorf("invictus: %d candidates, stats %+v; want 55 candidates in 3 LIST calls", len(got), l.Stats())
	}
	for _, c := range got {
		if c.Key.Account != "218007301253" || c.Key.Region != "us-east-1" || c.Key.Time.Equal(c.Key.Day) {
			t.Errorf("candidate %q: key %+v", c.Object.Key, c.Key)
		}
	}
	// The window 12:00–12:10 holds the files named 12:00 and 12:05.
	got, err = l.ListRange(context.Background(), utc(2023, 7, 10, 12, 0), utc(2023, 7, 10, 12, 10))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Errorf("12:00–12:10: %d candidates, want 10", len(got))
	}
}
