package lake

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/etl/file"
	"github.com/fullstop-audit/fullstop/etl/s3"
	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

const invictus = "../../testdata/cloudtrail/invictus"

// object is one decoded source object of the real sample logs.
type object struct {
	cand    etl.Candidate
	batches []arrow.RecordBatch
}

// sampleObjects decodes every object of the invictus logs.
func sampleObjects(t *testing.T) []object {
	t.Helper()
	var out []object
	dec := event.NewDecoder(nil, 0)
	t.Cleanup(dec.Release)
	err := filepath.WalkDir(invictus, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		key := filepath.ToSlash(strings.TrimPrefix(p, invictus+"/"))
		k, err := etl.ParseKey(key)
		if err != nil {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return err
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			return err
		}
		res, err := dec.Decode(bytes.NewReader(body), event.Origin{Key: key, Account: k.Account, Region: k.Region})
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		out = append(out, object{cand: etl.Candidate{Object: etl.Object{Key: key, Size: int64(len(raw))}, Key: k}, batches: res.Batches})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, o := range out {
			release(o.batches)
		}
	})
	if len(out) < 50 {
		t.Fatalf("found %d sample objects", len(out))
	}
	return out
}

func folderLake(t *testing.T) (*Lake, string) {
	t.Helper()
	dir := t.TempDir()
	src, err := file.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(Config{Store: src})
	if err != nil {
		t.Fatal(err)
	}
	return l, dir
}

func s3Lake(t *testing.T, prefix string) *Lake {
	t.Helper()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	src, err := s3.New(context.Background(), s3.Config{Bucket: bucket, Prefix: prefix, Region: srv.Region, Endpoint: srv.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(Config{Store: src, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func writeAll(t *testing.T, l *Lake, objs []object) {
	t.Helper()
	for _, o := range objs {
		if err := l.LakeWrite(context.Background(), o.cand, o.batches); err != nil {
			t.Fatalf("LakeWrite %s: %v", o.cand.Object.Key, err)
		}
	}
}

// rowsByEvent reads every file Files lists and returns each row, rendered
// as text field by field, by event id; a second row of the same event id
// fails the test.
func rowsByEvent(t *testing.T, l *Lake) map[string]string {
	t.Helper()
	files, err := l.Files(context.Background(), Range{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		bs, _, err := l.readAll(context.Background(), f.Key)
		if err != nil {
			t.Fatal(err)
		}
		for id, row := range renderRows(t, bs) {
			if _, dup := out[id]; dup {
				t.Fatalf("event %s is in the lake twice (second in %s)", id, f.Key)
			}
			out[id] = row
		}
		release(bs)
	}
	return out
}

// renderRows renders each row of batches as text, keyed by event id.
func renderRows(t *testing.T, bs []arrow.RecordBatch) map[string]string {
	t.Helper()
	idIdx := event.Schema.FieldIndices(event.ColEventID)[0]
	out := map[string]string{}
	for _, b := range bs {
		ids := b.Column(idIdx).(*array.String)
		for r := range int(b.NumRows()) {
			var sb strings.Builder
			for c := range int(b.NumCols()) {
				fmt.Fprintf(&sb, "%s=%s|", b.ColumnName(c), b.Column(c).ValueStr(r))
			}
			out[ids.Value(r)] = sb.String()
		}
	}
	return out
}

func expected(t *testing.T, objs []object) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range objs {
		for id, row := range renderRows(t, o.batches) {
			out[id] = row
		}
	}
	return out
}

func equalRows(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("the lake holds %d events, want %d", len(got), len(want))
	}
	for id, w := range want {
		if g := got[id]; g != w {
			t.Fatalf("event %s:\n got %s\nwant %s", id, g, w)
		}
	}
}

// The lake written from the real sample logs holds every decoded event
// once, every field equal.
func TestLake_EqualsTheDecodedEvents(t *testing.T) {
	objs := sampleObjects(t)
	l, dir := folderLake(t)
	writeAll(t, l, objs)
	want := expected(t, objs)
	if len(want) != 2900 {
		t.Fatalf("decoded %d events, want the 2,900 of the invictus logs", len(want))
	}
	equalRows(t, rowsByEvent(t, l), want)
	// One file per object, in the object's partition, named after its key.
	files, _ := l.Files(context.Background(), Range{})
	if len(files) != len(objs) {
		t.Fatalf("%d files for %d objects", len(files), len(objs))
	}
	o := objs[0]
	p := filepath.Join(dir, "date=2023-07-10", "account=218007301253", "region=us-east-1", objectFileName(o.cand.Object.Key))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the object's file is not where the layout says: %v", err)
	}
	// Written again (a re-run, --reprocess): replaced, not added.
	writeAll(t, l, objs)
	equalRows(t, rowsByEvent(t, l), want)
	if files2, _ := l.Files(context.Background(), Range{}); len(files2) != len(objs) {
		t.Fatalf("written twice: %d files, want %d", len(files2), len(objs))
	}
	// No temporary files are left.
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return err
	})
}

// Written into an S3 lake (MinIO) and into a folder lake, the files and
// their contents are the same.
func TestLake_S3EqualsFolder(t *testing.T) {
	objs := sampleObjects(t)
	fl, _ := folderLake(t)
	sl := s3Lake(t, "lake/events")
	writeAll(t, fl, objs)
	writeAll(t, sl, objs)
	ff, err := fl.Files(context.Background(), Range{})
	if err != nil {
		t.Fatal(err)
	}
	sf, err := sl.Files(context.Background(), Range{})
	if err != nil {
		t.Fatal(err)
	}
	names := func(fs []File) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Partition.Dir()+"/"+f.Name)
		}
		sort.Strings(out)
		return strings.Join(out, "\n")
	}
	if names(ff) != names(sf) {
		t.Fatalf("S3 lake files differ from the folder lake's:\n%s\n--\n%s", names(sf), names(ff))
	}
	if !strings.HasPrefix(sf[0].Key, "lake/events/date=") {
		t.Fatalf("S3 key %q is not under the prefix", sf[0].Key)
	}
	equalRows(t, rowsByEvent(t, sl), rowsByEvent(t, fl))
	// The local copies a query reads are the files themselves.
	dir := t.TempDir()
	paths, err := sl.Local(context.Background(), sf, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(mustLocal(t, fl, ff[i]))
		if !bytes.Equal(got, want) {
			t.Fatalf("local copy %s differs from the folder lake's file", p)
		}
	}
	// A second call fetches nothing: the copies are there.
	if _, err := sl.Local(context.Background(), sf, dir); err != nil {
		t.Fatal(err)
	}
}

func mustLocal(t *testing.T, l *Lake, f File) string {
	t.Helper()
	p, ok := l.LocalPath(f)
	if !ok {
		t.Fatal("not a folder lake")
	}
	return p
}

// Compaction merges a partition's files into one, each event still once;
// writing an object of a compacted partition again replaces its rows in
// the compacted file.
func TestLake_CompactThenReprocess(t *testing.T) {
	for _, kind := range []string{"folder", "s3"} {
		t.Run(kind, func(t *testing.T) {
			objs := sampleObjects(t)
			var l *Lake
			if kind == "folder" {
				l, _ = folderLake(t)
			} else {
				l = s3Lake(t, "p")
			}
			writeAll(t, l, objs)
			want := expected(t, objs)
			ctx := context.Background()
			res, err := l.Compact(ctx, CompactOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Partitions != 1 || res.Compacted != 1 || res.FilesRead != len(objs) || res.FilesWritten != 1 || res.FilesDeleted != len(objs) || res.Rows != 2900 {
				t.Fatalf("compact: %+v", res)
			}
			files, _ := l.Files(ctx, Range{})
			if len(files) != 1 || !strings.HasPrefix(files[0].Name, "c-") {
				t.Fatalf("after compaction: %+v", files)
			}
			equalRows(t, rowsByEvent(t, l), want)
			// Again: nothing to do.
			if res, err := l.Compact(ctx, CompactOptions{}); err != nil || res.Compacted != 0 || res.FilesWritten != 0 {
				t.Fatalf("second compact: %+v %v", res, err)
			}
			// Reprocess every object (a fresh Lake, as a new batch is).
			l2, _ := New(l.cfg)
			writeAll(t, l2, objs)
			equalRows(t, rowsByEvent(t, l2), want)
			if files, _ := l2.Files(ctx, Range{}); len(files) != 1 {
				t.Fatalf("reprocessing a compacted partition added files: %d", len(files))
			}
			// An object whose content changed: its rows are replaced.
			o := objs[3]
			one := []arrow.RecordBatch{o.batches[0].NewSlice(0, 1)}
			defer release(one)
			if err := l2.LakeWrite(ctx, o.cand, one); err != nil {
				t.Fatal(err)
			}
			got := rowsByEvent(t, l2)
			if len(got) != 2900-int(rows(o.batches))+1 {
				t.Fatalf("after rewriting one object with 1 row: %d events, want %d", len(got), 2900-int(rows(o.batches))+1)
			}
		})
	}
}

// failingStore fails every Delete: a compaction that dies after storing
// its merged file, before it deletes the merged ones.
type failingStore struct {
	Store
}

func (failingStore) Delete(context.Context, string) error { return errors.New("killed") }

// A compaction that stopped between writing its merged file and deleting
// the merged ones leaves both; Files reads each event once anyway, and the
// next compaction deletes what the first left.
func TestLake_CompactionCrashLeavesEachEventOnce(t *testing.T) {
	objs := sampleObjects(t)
	l, dir := folderLake(t)
	writeAll(t, l, objs)
	want := expected(t, objs)
	crashed, _ := New(Config{Store: failingStore{l.cfg.Store}})
	if _, err := crashed.Compact(context.Background(), CompactOptions{}); err == nil {
		t.Fatal("the crashing compaction did not fail")
	}
	var onDisk int
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			onDisk++
		}
		return err
	})
	if onDisk != len(objs)+1 {
		t.Fatalf("%d files on disk after the crash, want the %d objects' and the merged one", onDisk, len(objs))
	}
	equalRows(t, rowsByEvent(t, l), want)
	res, err := l.Compact(context.Background(), CompactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesDeleted != len(objs) || res.FilesWritten != 0 {
		t.Fatalf("the compaction after the crash: %+v, want the %d superseded files deleted and nothing merged", res, len(objs))
	}
	equalRows(t, rowsByEvent(t, l), want)
}

// Compaction leaves the partitions inside the look-back window alone.
func TestLake_CompactKeepsTheLookbackWindow(t *testing.T) {
	objs := sampleObjects(t)
	l, _ := folderLake(t)
	writeAll(t, l, objs)
	res, err := l.Compact(context.Background(), CompactOptions{Before: time.Date(2023, 7, 10, 12, 0, 0, 0, time.UTC)})
	if err != nil || res.Partitions != 0 {
		t.Fatalf("compact before the partition's day: %+v %v", res, err)
	}
	res, err = l.Compact(context.Background(), CompactOptions{Before: time.Date(2023, 7, 11, 0, 0, 0, 0, time.UTC), DryRun: true})
	if err != nil || res.Compacted != 1 || res.FilesRead != len(objs) {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	if files, _ := l.Files(context.Background(), Range{}); len(files) != len(objs) {
		t.Fatal("a dry run changed the lake")
	}
}

func TestLake_PruneAndRanges(t *testing.T) {
	objs := sampleObjects(t)
	l, _ := folderLake(t)
	writeAll(t, l, objs)
	// The same objects moved to another day, as if delivered then.
	var later []object
	for _, o := range objs[:5] {
		c := o.cand
		c.Object.Key = strings.Replace(c.Object.Key, "/2023/07/10/", "/2023/07/12/", 1)
		c.Key.Day = c.Key.Day.Add(48 * time.Hour)
		later = append(later, object{cand: c, batches: o.batches})
	}
	writeAll(t, l, later)
	ctx := context.Background()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, tc := range []struct {
		r    Range
		want int
	}{
		{Range{}, len(objs) + 5},
		{Range{From: day("2023-07-11")}, 5},
		{Range{To: day("2023-07-11")}, len(objs)},
		{Range{From: day("2023-07-10"), To: day("2023-07-10")}, len(objs)},
		{Range{From: day("2023-07-13")}, 0},
	} {
		files, err := l.Files(ctx, tc.r)
		if err != nil || len(files) != tc.want {
			t.Errorf("Files(%v): %d files, %v; want %d", tc.r, len(files), err, tc.want)
		}
	}
	res, err := l.Prune(ctx, day("2023-07-12"), false)
	if err != nil || res.Partitions != 1 || res.Files != len(objs) {
		t.Fatalf("prune: %+v %v", res, err)
	}
	if files, _ := l.Files(ctx, Range{}); len(files) != 5 {
		t.Fatalf("after prune: %d files, want 5", len(files))
	}
}

func TestPartition_EscapeAndParse(t *testing.T) {
	for _, p := range []Partition{
		{Date: time.Date(2023, 7, 10, 0, 0, 0, 0, time.UTC), Account: "123456789012", Region: "us-east-1"},
		{Date: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), Account: "", Region: "odd/region=x y"},
	} {
		dir := p.Dir()
		if strings.Count(dir, "/") != 2 || strings.Count(dir, "=") != 3 {
			t.Fatalf("%q: a value was not escaped", dir)
		}
		got, err := parseDir(dir)
		if p.Account == "" {
			p.Account = "__HIVE_DEFAULT_PARTITION__"
		}
		if err != nil || got != p {
			t.Fatalf("parseDir(%q) = %+v, %v; want %+v", dir, got, err, p)
		}
	}
	for _, bad := range []string{"date=2023-07-10/account=1", "day=2023-07-10/account=1/region=x", "date=2023-13-10/account=1/region=x"} {
		if _, err := parseDir(bad); err == nil {
			t.Errorf("parseDir(%q) accepted", bad)
		}
	}
}
