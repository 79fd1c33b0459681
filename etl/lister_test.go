package etl_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
			got, st, err := l.ListRange(context.Background(), tt.from, tt.to)
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
	if _, _, err := l.ListRange(context.Background(), utc(2023, 7, 10, 5, 0), utc(2023, 7, 10, 6, 0)); err != nil {
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
		got, st, err := l.ListRange(context.Background(), last, last.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Errorf("history %d days: %d candidates, want 2", history, len(got))
		}
		calls[history] = st.ListCalls
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
	first, _, err := l.ListRange(context.Background(), from, to)
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
	second, _, err := l.ListRange(context.Background(), from, to)
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
			got, _, err := l.ListRange(context.Background(), utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0))
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
		if _, _, err := l.ListRange(ctx, utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0)); !errors.Is(err, context.Canceled) {
			t.Errorf("ListRange with a cancelled context: %v, want context.Canceled", err)
		}
	})
	for _, l := range []*etl.Lister{
		{Source: newFileSource(t, root), Accounts: []string{"12345"}},
		{Source: newFileSource(t, root), Regions: []string{"us-east-1", ""}},
		{Source: newFileSource(t, root), Regions: []string{"a/b"}},
	} {
		if _, _, err := l.ListRange(context.Background(), utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0)); err == nil {
			t.Errorf("ListRange with accounts %q and regions %q succeeded, want an error", l.Accounts, l.Regions)
		}
	}
	t.Run("no source", func(t *testing.T) {
		t.Parallel()
		if _, _, err := (&etl.Lister{}).ListRange(context.Background(), utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0)); err == nil {
			t.Error("ListRange without a source succeeded")
		}
	})
}

func TestLister_ListRange_invictus(t *testing.T) {
	t.Parallel()
	l := &etl.Lister{Source: newFileSource(t, "../testdata/cloudtrail/invictus")}
	got, st, err := l.ListRange(context.Background(), utc(2023, 7, 10, 0, 0), utc(2023, 7, 11, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 55 || st.ListCalls != 3 || st.SkippedKeys != 0 {
		t.Errorf("invictus: %d candidates, stats %+v; want 55 candidates in 3 LIST calls", len(got), st)
	}
	for _, c := range got {
		if c.Key.Account != "218007301253" || c.Key.Region != "us-east-1" || c.Key.Time.Equal(c.Key.Day) {
			t.Errorf("candidate %q: key %+v", c.Object.Key, c.Key)
		}
	}
	// The window 12:00–12:10 holds the files named 12:00 and 12:05.
	got, _, err = l.ListRange(context.Background(), utc(2023, 7, 10, 12, 0), utc(2023, 7, 10, 12, 10))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Errorf("12:00–12:10: %d candidates, want 10", len(got))
	}
}

// memSource is an in-memory Source holding empty objects under the given
// keys, for listings of trees too large to write to disk.
type memSource struct {
	keys []string // sorted
}

func newMemSource(keys []string) *memSource {
	k := slices.Clone(keys)
	slices.Sort(k)
	return &memSource{keys: slices.Compact(k)}
}

func (s *memSource) List(ctx context.Context, prefix, delimiter string) (etl.Listing, error) {
	if err := ctx.Err(); err != nil {
		return etl.Listing{}, err
	}
	var out etl.Listing
	i, _ := slices.BinarySearch(s.keys, prefix)
	for ; i < len(s.keys) && strings.HasPrefix(s.keys[i], prefix); i++ {
		rest := s.keys[i][len(prefix):]
		if j := strings.Index(rest, delimiter); delimiter != "" && j >= 0 {
			p := prefix + rest[:j+1]
			if n := len(out.Prefixes); n == 0 || out.Prefixes[n-1] != p {
				out.Prefixes = append(out.Prefixes, p)
			}
			continue
		}
		out.Objects = append(out.Objects, etl.Object{Key: s.keys[i], Size: 2, ETag: "e"})
	}
	return out, nil
}

func (s *memSource) Open(context.Context, string) (io.ReadCloser, error) { return nil, os.ErrNotExist }
func (s *memSource) String() string                                      { return "mem" }

// bruteForce returns the log keys of keys whose key time is in [from, to),
// sorted: what ListRange must find.
func bruteForce(keys []string, from, to time.Time) []string {
	var out []string
	for _, k := range keys {
		pk, err := etl.ParseKey(k)
		if err == nil && !pk.Time.Before(from) && pk.Time.Before(to) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// denseDays returns one log key a day from first to last inclusive for
// each account and region.
func denseDays(accounts, regions []string, first, last time.Time) []string {
	var keys []string
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		for _, a := range accounts {
			for _, r := range regions {
				keys = append(keys, logObj{account: a, region: r, at: d.Add(13 * time.Hour)}.key(""))
			}
		}
	}
	return keys
}

// TestLister_ListRange_longRangeOverFewDays is the case of the issue: a
// window of 100,000 hours (eleven years) over a folder of 500 objects in 3
// day folders. Listing every day of the window made 4,168 LIST calls for
// the one region; walking the date folders that exist makes eight.
func TestLister_ListRange_longRangeOverFewDays(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{}
	for i := range 500 {
		day := []time.Time{utc(2026, 11, 28, 0, 0), utc(2026, 11, 30, 0, 0), utc(2026, 12, 1, 0, 0)}[i%3]
		o := logObj{account: acctA, region: "eu-west-1", at: day.Add(time.Duration(i) * time.Minute)}
		files[o.key("")] = []byte("{}")
	}
	src := &recordingSource{Source: newFileSource(t, writeFiles(t, files))}
	l := &etl.Lister{Source: src}
	to := utc(2026, 12, 2, 8, 0)
	got, st, err := l.ListRange(context.Background(), to.Add(-100000*time.Hour), to)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 500 {
		t.Errorf("%d candidates, want 500", len(got))
	}
	want := []string{
		"AWSLogs/ /",
		"AWSLogs/" + acctA + "/CloudTrail/ /",
		"AWSLogs/" + acctA + "/CloudTrail/eu-west-1/ /",
		"AWSLogs/" + acctA + "/CloudTrail/eu-west-1/2026/ /",
		"AWSLogs/" + acctA + "/CloudTrail/eu-west-1/2026/11/ /",
		"AWSLogs/" + acctA + "/CloudTrail/eu-west-1/2026/11/28/ /",
		"AWSLogs/" + acctA + "/CloudTrail/eu-west-1/2026/11/30/ /",
		// December has only 2 days in the window: its day folders are
		// listed directly, the one that does not exist too.
		"AWSLogs/" + acctA + "/CloudTrail/eu-west-1/2026/12/01/ /",
		"AWSLogs/" + acctA + "/CloudTrail/eu-west-1/2026/12/02/ /",
	}
	slices.Sort(want)
	if calls := src.calls(); !slices.Equal(calls, want) || st.ListCalls != len(want) {
		t.Errorf("%d LIST calls (stats %d):\n got %q\nwant %q", len(calls), st.ListCalls, calls, want)
	}
	if st.DayFolders != 4 {
		t.Errorf("%d day folders listed, want 4", st.DayFolders)
	}
}

// TestLister_ListRange_shortRangesListDaysDirectly checks that a range of
// up to nine days lists its day folders and nothing above them, as the
// steady-state run of a 48-hour look-back always did.
func TestLister_ListRange_shortRangesListDaysDirectly(t *testing.T) {
	t.Parallel()
	keys := denseDays([]string{acctA}, []string{"us-east-1"}, utc(2023, 12, 1, 0, 0), utc(2024, 2, 10, 0, 0))
	for days := 1; days <= 9; days++ {
		for _, from := range []time.Time{utc(2023, 12, 30, 7, 0), utc(2024, 1, 10, 0, 0), utc(2024, 1, 31, 23, 0)} {
			to := from.AddDate(0, 0, days-1).Add(30 * time.Minute)
			src := newMemSource(keys)
			_, st, err := (&etl.Lister{Source: src}).ListRange(context.Background(), from, to)
			if err != nil {
				t.Fatal(err)
			}
			wantDays := int(midnightAfter(to).Sub(midnightOf(from)) / (24 * time.Hour))
			if st.ListCalls != 2+wantDays || st.DayFolders != wantDays {
				t.Errorf("[%v, %v): %d LIST calls, %d day folders; want 2 + %d day folders", from, to, st.ListCalls, st.DayFolders, wantDays)
			}
		}
	}
}

func midnightOf(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

func midnightAfter(t time.Time) time.Time {
	m := midnightOf(t)
	if m.Before(t) {
		m = m.AddDate(0, 0, 1)
	}
	return m
}

// TestLister_ListRange_walkCostBounds lists many ranges over a bucket with
// a folder for every day (the worst case of the walk) and over one with a
// few days of logs: the walk finds exactly the keys of the range, costs at
// most a tenth more than listing every day when every day exists, and far
// less when few do.
func TestLister_ListRange_walkCostBounds(t *testing.T) {
	t.Parallel()
	regions := []string{"eu-west-1", "us-east-1"}
	dense := denseDays([]string{acctA}, regions, utc(2021, 11, 20, 0, 0), utc(2024, 2, 10, 0, 0))
	sparse := denseDays([]string{acctA}, regions, utc(2023, 6, 29, 0, 0), utc(2023, 7, 1, 0, 0))
	rng := rand.New(rand.NewPCG(1, 2))
	base := utc(2021, 10, 1, 0, 0)
	for i := range 300 {
		from := base.Add(time.Duration(rng.Int64N(int64(900 * 24 * time.Hour)))).Truncate(time.Hour)
		length := time.Duration(rng.Int64N(int64(700*24*time.Hour))) + time.Hour
		if i%3 == 0 {
			length = time.Duration(rng.Int64N(int64(40*24*time.Hour))) + time.Hour
		}
		to := from.Add(length)
		days := int(midnightAfter(to).Sub(midnightOf(from)) / (24 * time.Hour))
		for _, tree := range []struct {
			name string
			keys []string
		}{{"dense", dense}, {"sparse", sparse}} {
			src := newMemSource(tree.keys)
			got, st, err := (&etl.Lister{Source: src}).ListRange(context.Background(), from, to)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, c := range got {
				keys = append(keys, c.Object.Key)
			}
			if want := bruteForce(tree.keys, from, to); !slices.Equal(keys, want) {
				t.Fatalf("%s [%v, %v): %d keys, want %d", tree.name, from, to, len(keys), len(want))
			}
			perRegion := (st.ListCalls - 2) / len(regions) // root and the account's regions
			if tree.name == "dense" && perRegion*10 > days*11 {
				t.Errorf("dense [%v, %v): %d LIST calls per region for %d days, more than a tenth above", from, to, perRegion, days)
			}
			if days < 10 && perRegion != days {
				t.Errorf("%s [%v, %v): %d LIST calls per region for %d days, want one a day", tree.name, from, to, perRegion, days)
			}
			if tree.name == "sparse" && days >= 60 && perRegion > 12 {
				t.Errorf("sparse [%v, %v): %d LIST calls per region for 3 days of logs in %d days", from, to, perRegion, days)
			}
		}
	}
}

// TestLister_ListRange_oddDateFolders checks that folders CloudTrail does
// not write (a year of other than four digits, month 13, February 30, a
// file in a year folder) are not followed, as ParseKey refuses their keys.
func TestLister_ListRange_oddDateFolders(t *testing.T) {
	t.Parallel()
	good := logObj{account: acctA, region: "us-east-1", at: utc(2023, 2, 28, 10, 0)}
	region := "AWSLogs/" + acctA + "/CloudTrail/us-east-1/"
	keys := []string{
		good.key(""),
		region + "023/02/27/" + acctA + "_CloudTrail_us-east-1_20230227T1000Z_a.json.gz",
		region + "2023/13/01/" + acctA + "_CloudTrail_us-east-1_20230227T1000Z_b.json.gz",
		region + "2023/02/30/" + acctA + "_CloudTrail_us-east-1_20230230T1000Z_c.json.gz",
		region + "2023/2/27/" + acctA + "_CloudTrail_us-east-1_20230227T1000Z_d.json.gz",
		region + "2023/x.json.gz",
		region + "notes/2023/02/27/" + acctA + "_CloudTrail_us-east-1_20230227T1000Z_e.json.gz",
	}
	src := newMemSource(keys)
	got, _, err := (&etl.Lister{Source: src}).ListRange(context.Background(), utc(2020, 1, 1, 0, 0), utc(2024, 1, 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Object.Key != good.key("") {
		t.Errorf("candidates %+v, want only %s", got, good.key(""))
	}
}
