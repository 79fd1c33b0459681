// Package sourcetest is a conformance suite for etl.Source backends: every
// backend must list and open the same files the same way.
package sourcetest

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/etl"
)

// NewSource returns a source holding exactly files (key → contents). It is
// called once per sub-test, possibly in parallel.
type NewSource func(t *testing.T, files map[string][]byte) etl.Source

// tree is the file set most cases use. Keys are chosen so that byte order
// differs from folder-walk order ("a/b.json" < "a/b/..." since '.' < '/'),
// and include an empty file and non-ASCII names.
var tree = map[string][]byte{
	"top.txt":          []byte("top"),
	"a/b.json":         []byte(`{"b":1}`),
	"a/b/c.json":       []byte(`{"c":1}`),
	"a/b/d/e.json.gz":  []byte("\x1f\x8b binary\x00\xff"),
	"a/ba/x":           []byte("x"),
	"a/c":              []byte(""),
	"a/é ü/f.json":     []byte("unicode"),
	"z/1/2/3/4/5/deep": []byte("deep"),
	"AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1240Z_x.json.gz":              []byte("log"),
	"AWSLogs/o-abcdef1234/123456789012/CloudTrail/eu-west-1/2023/07/10/123456789012_CloudTrail_eu-west-1_20230710T1240Z_x.json.gz": []byte("org log"),
}

// Run runs the suite; newSource builds the backend under test. Prefixes
// with "." or ".." elements or empty elements are left out: S3 finds no
// keys for them, MinIO rejects them.
func Run(t *testing.T, newSource NewSource) {
	t.Helper()
	allKeys := make([]string, 0, len(tree))
	for k := range tree {
		allKeys = append(allKeys, k)
	}
	slices.Sort(allKeys)

	listTests := []struct {
		name      string
		prefix    string
		delimiter string
		objects   []string
		prefixes  []string
	}{
		{name: "everything", objects: allKeys},
		{name: "top level", delimiter: "/", objects: []string{"top.txt"}, prefixes: []string{"AWSLogs/", "a/", "z/"}},
		{name: "folder", prefix: "a/", delimiter: "/", objects: []string{"a/b.json", "a/c"}, prefixes: []string{"a/b/", "a/ba/", "a/é ü/"}},
		{name: "folder subtree", prefix: "a/", objects: []string{"a/b.json", "a/b/c.json", "a/b/d/e.json.gz", "a/ba/x", "a/c", "a/é ü/f.json"}},
		{name: "partial name", prefix: "a/b", delimiter: "/", objects: []string{"a/b.json"}, prefixes: []string{"a/b/", "a/ba/"}},
		{name: "partial name subtree", prefix: "a/b", objects: []string{"a/b.json", "a/b/c.json", "a/b/d/e.json.gz", "a/ba/x"}},
		{name: "partial top name", prefix: "t", delimiter: "/", objects: []string{"top.txt"}},
		{name: "nested folder", prefix: "a/b/", delimiter: "/", objects: []string{"a/b/c.json"}, prefixes: []string{"a/b/d/"}},
		{name: "deep folder", prefix: "z/1/2/3/4/5/", delimiter: "/", objects: []string{"z/1/2/3/4/5/deep"}},
		{name: "only sub-folders", prefix: "z/", delimiter: "/", prefixes: []string{"z/1/"}},
		{name: "exact key", prefix: "a/c", objects: []string{"a/c"}},
		{name: "exact key with delimiter", prefix: "a/c", delimiter: "/", objects: []string{"a/c"}},
		{name: "unicode folder", prefix: "a/é ü/", delimiter: "/", objects: []string{"a/é ü/f.json"}},
		{name: "accounts", prefix: "AWSLogs/", delimiter: "/", prefixes: []string{"AWSLogs/123456789012/", "AWSLogs/o-abcdef1234/"}},
		{name: "day folder", prefix: "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/", delimiter: "/",
			objects: []string{"AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1240Z_x.json.gz"}},
		{name: "missing folder", prefix: "nope/", delimiter: "/"},
		{name: "missing subtree", prefix: "nope/"},
		{name: "missing nested folder", prefix: "a/nope/deeper/", delimiter: "/"},
		{name: "file as folder", prefix: "a/c/", delimiter: "/"},
		{name: "file as folder subtree", prefix: "top.txt/"},
		{name: "no match", prefix: "q", delimiter: "/"},
		{name: "leading slash", prefix: "/a/", delimiter: "/"},
	}
	t.Run("List", func(t *testing.T) {
		t.Parallel()
		src := newSource(t, tree)
		for _, tt := range listTests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ls, err := src.List(context.Background(), tt.prefix, tt.delimiter)
				if err != nil {
					t.Fatalf("List(%q, %q): %v", tt.prefix, tt.delimiter, err)
				}
				var keys []string
				for _, o := range ls.Objects {
					keys = append(keys, o.Key)
				}
				if !slices.Equal(keys, tt.objects) {
					t.Errorf("List(%q, %q) objects\n got %q\nwant %q", tt.prefix, tt.delimiter, keys, tt.objects)
				}
				if !slices.Equal(ls.Prefixes, tt.prefixes) {
					t.Errorf("List(%q, %q) prefixes\n got %q\nwant %q", tt.prefix, tt.delimiter, ls.Prefixes, tt.prefixes)
				}
			})
		}
	})

	t.Run("ObjectFields", func(t *testing.T) {
		t.Parallel()
		src := newSource(t, tree)
		ls, err := src.List(context.Background(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ls.Objects) != len(tree) {
			t.Fatalf("listed %d objects, want %d", len(ls.Objects), len(tree))
		}
		for _, o := range ls.Objects {
			if o.Size != int64(len(tree[o.Key])) {
				t.Errorf("%q: size %d, want %d", o.Key, o.Size, len(tree[o.Key]))
			}
			if o.ETag == "" || strings.Contains(o.ETag, `"`) {
				t.Errorf("%q: ETag %q, want a non-empty unquoted tag", o.Key, o.ETag)
			}
			if o.LastModified.IsZero() || o.LastModified.Location().String() != "UTC" {
				t.Errorf("%q: LastModified %v, want a UTC time", o.Key, o.LastModified)
			}
		}
	})

	t.Run("ETagChangesWithContent", func(t *testing.T) {
		t.Parallel()
		a := newSource(t, map[string][]byte{"k": []byte("one")})
		b := newSource(t, map[string][]byte{"k": []byte("two!")})
		la, err := a.List(context.Background(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		lb, err := b.List(context.Background(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(la.Objects) != 1 || len(lb.Objects) != 1 || la.Objects[0].ETag == lb.Objects[0].ETag {
			t.Errorf("different contents gave objects %+v and %+v, want different ETags", la.Objects, lb.Objects)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		src := newSource(t, map[string][]byte{})
		for _, d := range []string{"", "/"} {
			ls, err := src.List(context.Background(), "", d)
			if err != nil {
				t.Fatalf("List(\"\", %q): %v", d, err)
			}
			if len(ls.Objects) != 0 || len(ls.Prefixes) != 0 {
				t.Errorf("List(\"\", %q) of an empty source = %+v", d, ls)
			}
		}
	})

	t.Run("Open", func(t *testing.T) {
		t.Parallel()
		src := newSource(t, tree)
		for _, k := range allKeys {
			t.Run(k, func(t *testing.T) {
				t.Parallel()
				r, err := src.Open(context.Background(), k)
				if err != nil {
					t.Fatalf("Open(%q): %v", k, err)
				}
				defer r.Close()
				b, err := io.ReadAll(r)
				if err != nil {
					t.Fatalf("read %q: %v", k, err)
				}
				if string(b) != string(tree[k]) {
					t.Errorf("Open(%q) read %q, want %q", k, b, tree[k])
				}
			})
		}
	})

	t.Run("OpenMissing", func(t *testing.T) {
		t.Parallel()
		src := newSource(t, tree)
		for _, k := range []string{"missing", "a/missing.json", "nope/nope", "a", "a/b", "a/b/", "top.txt/x", "AWSLogs/"} {
			r, err := src.Open(context.Background(), k)
			if err == nil {
				r.Close()
				t.Errorf("Open(%q) succeeded, want os.ErrNotExist", k)
				continue
			}
			if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Open(%q) = %v, want an error wrapping os.ErrNotExist", k, err)
			}
			if !strings.Contains(err.Error(), k) {
				t.Errorf("Open(%q) error %q does not name the key", k, err)
			}
		}
	})

	t.Run("String", func(t *testing.T) {
		t.Parallel()
		if s := newSource(t, tree).String(); s == "" {
			t.Error("String() is empty")
		}
	})
}
