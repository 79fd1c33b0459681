package s3_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/s3"
	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
	"github.com/fullstop-audit/fullstop/etl/sourcetest"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// newSource returns a source over a new bucket holding files.
func newSource(t *testing.T, files map[string][]byte, mod func(*s3.Config)) (*s3.Source, *s3test.Server, string) {
	t.Helper()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	putAll(t, srv, bucket, files)
	cfg := s3.Config{Bucket: bucket, Region: srv.Region, Endpoint: srv.Endpoint, PathStyle: true}
	if mod != nil {
		mod(&cfg)
	}
	src, err := s3.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src, srv, bucket
}

// putAll uploads files a few at a time.
func putAll(t *testing.T, srv *s3test.Server, bucket string, files map[string][]byte) {
	t.Helper()
	var g errgroup.Group
	g.SetLimit(8)
	for k, b := range files {
		g.Go(func() error {
			srv.Put(t, bucket, k, b)
			return nil
		})
	}
	g.Wait()
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url            string
		bucket, prefix string
		wantErr        bool
	}{
		{url: "s3://bucket", bucket: "bucket"},
		{url: "s3://bucket/", bucket: "bucket"},
		{url: "s3://bucket/logs", bucket: "bucket", prefix: "logs"},
		{url: "s3://bucket/logs/", bucket: "bucket", prefix: "logs"},
		{url: "s3://my.bucket-1/a/b/c/", bucket: "my.bucket-1", prefix: "a/b/c"},
		{url: "s3://bucket//logs//", bucket: "bucket", prefix: "logs"},
		{url: "s3://bucket/AWSLogs", bucket: "bucket", prefix: "AWSLogs"},
		{url: "s3://b", wantErr: true},
		{url: "s3://", wantErr: true},
		{url: "s3:///logs", wantErr: true},
		{url: "s3://Bucket/logs", wantErr: true},
		{url: "s3://bucket_1", wantErr: true},
		{url: "s3://-bucket", wantErr: true},
		{url: "s3://bucket-", wantErr: true},
		{url: "s3://" + string(make([]byte, 64)), wantErr: true},
		{url: "S3://bucket", wantErr: true},
		{url: "https://bucket.s3.amazonaws.com/logs", wantErr: true},
		{url: "bucket/logs", wantErr: true},
		{url: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			bucket, prefix, err := s3.ParseURL(tt.url)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %q, %q; want an error", tt.url, bucket, prefix)
				}
				return
			}
			if err != nil || bucket != tt.bucket || prefix != tt.prefix {
				t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", tt.url, bucket, prefix, err, tt.bucket, tt.prefix)
			}
		})
	}
}

func TestNew(t *testing.T) {
	staticCredentials(t)
	tests := []struct {
		name    string
		cfg     s3.Config
		str     string
		wantErr bool
	}{
		{name: "bucket", cfg: s3.Config{Bucket: "bucket"}, str: "s3://bucket"},
		{name: "prefix", cfg: s3.Config{Bucket: "bucket", Prefix: "logs/", Region: "eu-west-1"}, str: "s3://bucket/logs"},
		{name: "no bucket", cfg: s3.Config{}, wantErr: true},
		{name: "bad bucket", cfg: s3.Config{Bucket: "Bad_Bucket"}, wantErr: true},
		{name: "negative max keys", cfg: s3.Config{Bucket: "bucket", MaxKeys: -1}, wantErr: true},
		{name: "timeouts", cfg: s3.Config{Bucket: "bucket", ConnectTimeout: time.Second, RequestTimeout: 2 * time.Second,
			ReadTimeout: 3 * time.Second, CredentialsTimeout: time.Second}, str: "s3://bucket"},
		{name: "negative request timeout", cfg: s3.Config{Bucket: "bucket", RequestTimeout: -time.Second}, wantErr: true},
		{name: "negative read timeout", cfg: s3.Config{Bucket: "bucket", ReadTimeout: -time.Second}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := s3.New(context.Background(), tt.cfg)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("New(%+v) succeeded, want an error", tt.cfg)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%+v): %v", tt.cfg, err)
			}
			if s.String() != tt.str {
				t.Errorf("String() = %q, want %q", s.String(), tt.str)
			}
			if l, g := s.Requests(); l != 0 || g != 0 {
				t.Errorf("New made requests: %d lists, %d gets", l, g)
			}
		})
	}
}

func TestSource_Conformance(t *testing.T) {
	t.Parallel()
	for _, maxKeys := range []int32{0, 2} {
		t.Run(fmt.Sprintf("MaxKeys=%d", maxKeys), func(t *testing.T) {
			t.Parallel()
			sourcetest.Run(t, func(t *testing.T, files map[string][]byte) etl.Source {
				src, _, _ := newSource(t, files, func(c *s3.Config) { c.MaxKeys = maxKeys })
				return src
			})
		})
	}
}

// TestSource_List_paging checks that pages are merged and that each page is
// one counted LIST request.
func TestSource_List_paging(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{}
	var keys, folders []string
	for i := range 95 {
		k := fmt.Sprintf("flat/%03d.json", i)
		files[k], keys = []byte(k), append(keys, k)
	}
	for i := range 25 {
		f := fmt.Sprintf("tree/%02d/", i)
		folders = append(folders, f)
		for j := range 2 {
			files[fmt.Sprintf("%s%d.json", f, j)] = nil
		}
	}
	files["tree/top.json"] = nil
	src, _, _ := newSource(t, files, func(c *s3.Config) { c.MaxKeys = 10 })
	ctx := context.Background()

	ls, err := src.List(ctx, "flat/", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range ls.Objects {
		got = append(got, o.Key)
	}
	if !slices.Equal(got, keys) {
		t.Errorf("flat listing: got %d keys %q, want %d", len(got), got, len(keys))
	}
	if l, _ := src.Requests(); l != 10 {
		t.Errorf("flat listing of 95 keys in pages of 10: %d LIST requests, want 10", l)
	}

	ls, err = src.List(ctx, "tree/", "/")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ls.Prefixes, folders) || len(ls.Objects) != 1 || ls.Objects[0].Key != "tree/top.json" {
		t.Errorf("folder listing: prefixes %q, objects %+v", ls.Prefixes, ls.Objects)
	}
	if l, _ := src.Requests(); l != 10+3 { // 26 entries in pages of 10
		t.Errorf("LIST requests after the folder listing: %d, want 13", l)
	}
}

// TestSource_List_defaultPageSize lists more keys than one page of the
// server's default size holds.
func TestSource_List_defaultPageSize(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{}
	for i := range 1001 {
		files[fmt.Sprintf("k/%04d", i)] = nil
	}
	src, _, _ := newSource(t, files, nil)
	ls, err := src.List(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Objects) != 1001 || ls.Objects[0].Key != "k/0000" || ls.Objects[1000].Key != "k/1000" {
		t.Errorf("listed %d objects, want 1001 in order", len(ls.Objects))
	}
	if l, g := src.Requests(); l != 2 || g != 0 {
		t.Errorf("requests: %d lists, %d gets; want 2 lists", l, g)
	}
}

func TestSource_Open(t *testing.T) {
	t.Parallel()
	src, srv, bucket := newSource(t, map[string][]byte{"a/b.json.gz": []byte("hello")}, nil)
	ctx := context.Background()
	r, err := src.Open(ctx, "a/b.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(b) != "hello" {
		t.Errorf("read %q, %v; want hello", b, err)
	}
	if _, err := src.Open(ctx, "a/missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing key: %v, want os.ErrNotExist", err)
	}
	if l, g := src.Requests(); l != 0 || g != 2 {
		t.Errorf("requests: %d lists, %d gets; want 0 and 2", l, g)
	}

	// The ETag is S3's, without quotes, and changes with the contents.
	etag := func() string {
		ls, err := src.List(ctx, "a/", "/")
		if err != nil || len(ls.Objects) != 1 {
			t.Fatalf("List: %+v, %v", ls, err)
		}
		return ls.Objects[0].ETag
	}
	before := etag()
	if want := "5d41402abc4b2a76b9719d911017c592"; before != want { // md5("hello")
		t.Errorf("ETag %q, want %q", before, want)
	}
	srv.Put(t, bucket, "a/b.json.gz", []byte("hello again"))
	if after := etag(); after == before {
		t.Errorf("ETag %q did not change with the contents", after)
	}
}

func TestSource_errors(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	src, err := s3.New(context.Background(), s3.Config{Bucket: "no-such-bucket-" + fmt.Sprint(time.Now().UnixNano()),
		Region: srv.Region, Endpoint: srv.Endpoint, PathStyle: true, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.List(context.Background(), "", "/"); err == nil {
		t.Error("List of a missing bucket succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Open(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestLister_invictus lists the real invictus logs from MinIO under a
// prefix, next to a digest file and folder placeholders.
func TestLister_invictus(t *testing.T) {
	t.Parallel()
	const root = "../../testdata/cloudtrail/invictus"
	const dayDir = "logs/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/"
	files := map[string][]byte{
		"logs/AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/218007301253_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T124012Z.json.gz": []byte("digest"),
		dayDir:                  nil, // folder placeholder, as the S3 console makes them
		"logs/AWSLogs/":         nil,
		dayDir + "notes.txt":    []byte("not a log"),
		"logs/AWSLogs/x/y.json": []byte("{}"),
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "LICENSE" {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		files["logs/"+filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	src, _, _ := newSource(t, files, func(c *s3.Config) { c.Prefix = "logs" })
	l := &etl.Lister{Source: src, Prefix: "logs"}
	day := time.Date(2023, 7, 10, 0, 0, 0, 0, time.UTC)
	got, st, err := l.ListRange(context.Background(), day, day.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 55 {
		t.Errorf("found %d log objects, want 55", len(got))
	}
	for _, c := range got {
		if b := files[c.Object.Key]; c.Object.Size != int64(len(b)) || c.Key.Account != "218007301253" {
			t.Errorf("candidate %+v: want size %d", c, len(b))
		}
	}
	lists, gets := src.Requests()
	if st.ListCalls != 3 || lists != 3 || gets != 0 {
		t.Errorf("stats %+v, requests %d lists %d gets; want 3 LIST calls and requests", st, lists, gets)
	}
	if st.SkippedKeys != 2 || st.Objects != 57 {
		t.Errorf("stats %+v: want 57 objects of which 2 skipped (placeholder, notes.txt)", st)
	}
}
