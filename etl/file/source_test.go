package file_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/file"
	"github.com/fullstop-audit/fullstop/etl/sourcetest"
)

// writeTree writes files (slash-separated key → contents) under a new
// temporary folder and returns it.
func writeTree(t *testing.T, files map[string][]byte) string {
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

func newSource(t *testing.T, root string) *file.Source {
	t.Helper()
	s, err := file.New(root)
	if err != nil {
		t.Fatalf("New(%q): %v", root, err)
	}
	return s
}

func TestSource_Conformance(t *testing.T) {
	t.Parallel()
	sourcetest.Run(t, func(t *testing.T, files map[string][]byte) etl.Source {
		return newSource(t, writeTree(t, files))
	})
}

func TestNew(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string][]byte{"AWSLogs/x.json": []byte("{}"), "f": nil})
	tests := []struct {
		name    string
		arg     string
		wantErr bool
	}{
		{name: "path", arg: root},
		{name: "file url", arg: "file://" + filepath.ToSlash(root)},
		{name: "file url localhost", arg: "file://localhost" + filepath.ToSlash(root)},
		{name: "trailing slash", arg: root + "/"},
		{name: "empty", arg: "", wantErr: true},
		{name: "missing", arg: filepath.Join(root, "missing"), wantErr: true},
		{name: "a file", arg: filepath.Join(root, "f"), wantErr: true},
		{name: "remote file url", arg: "file://host/x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := file.New(tt.arg)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("New(%q) = %v, want an error", tt.arg, s)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tt.arg, err)
			}
			if want := "file://" + filepath.ToSlash(root); s.String() != want {
				t.Errorf("String() = %q, want %q", s.String(), want)
			}
			ls, err := s.List(context.Background(), "AWSLogs/", "/")
			if err != nil || len(ls.Objects) != 1 || ls.Objects[0].Key != "AWSLogs/x.json" {
				t.Errorf("List = %+v, %v; want AWSLogs/x.json", ls, err)
			}
		})
	}
}

func TestNew_relativePath(t *testing.T) {
	t.Parallel()
	s := newSource(t, "../../testdata/cloudtrail/invictus")
	ls, err := s.List(context.Background(), "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/", "/")
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Objects) != 55 {
		t.Errorf("listed %d objects in the invictus day folder, want 55", len(ls.Objects))
	}
	if !strings.HasPrefix(s.String(), "file:///") {
		t.Errorf("String() = %q, want an absolute file URL", s.String())
	}
}

func TestSource_List_badDelimiter(t *testing.T) {
	t.Parallel()
	s := newSource(t, writeTree(t, map[string][]byte{"a/b": nil}))
	if ls, err := s.List(context.Background(), "", "-"); err == nil {
		t.Errorf("List with delimiter \"-\" = %+v, want an error", ls)
	}
}

func TestSource_List_cancelled(t *testing.T) {
	t.Parallel()
	s := newSource(t, writeTree(t, map[string][]byte{"a/b": nil}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.List(ctx, "", ""); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.Open(ctx, "a/b"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestSource_ETagChangesWithFile(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string][]byte{"k": []byte("one")})
	s := newSource(t, root)
	etag := func() string {
		ls, err := s.List(context.Background(), "k", "")
		if err != nil || len(ls.Objects) != 1 {
			t.Fatalf("List: %+v, %v", ls, err)
		}
		return ls.Objects[0].ETag
	}
	before := etag()
	if err := os.WriteFile(filepath.Join(root, "k"), []byte("three"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after := etag(); after == before {
		t.Errorf("ETag %q did not change after rewriting the file", after)
	}
}

// TestSource_staysInsideRoot checks that no key reaches outside the folder,
// through "..", absolute paths or symbolic links, and that no symbolic link
// is followed even inside it (TestSource_symlinks has the details).
func TestSource_staysInsideRoot(t *testing.T) {
	t.Parallel()
	outside := writeTree(t, map[string][]byte{"secret": []byte("secret"), "dir/secret2": []byte("s2")})
	root := writeTree(t, map[string][]byte{"in/file": []byte("in")})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "in", "escape")))
	must(os.Symlink(filepath.Join(outside, "dir"), filepath.Join(root, "in", "escapedir")))
	must(os.Symlink("file", filepath.Join(root, "in", "link")))
	must(os.Symlink("missing", filepath.Join(root, "in", "dangling")))
	s := newSource(t, root)

	for _, k := range []string{"in/escape", "in/escapedir/secret2", "../" + filepath.Base(outside) + "/secret", "in/../../x", "/etc/passwd", "in/dangling", "in/link", "in", "."} {
		r, err := s.Open(context.Background(), k)
		if err == nil {
			b, _ := io.ReadAll(r)
			r.Close()
			t.Errorf("Open(%q) read %q, want an error", k, b)
		}
	}
	r, err := s.Open(context.Background(), "in/file")
	if err != nil {
		t.Fatalf("Open(in/file): %v", err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "in" {
		t.Errorf("Open(in/file) read %q, want %q", b, "in")
	}

	for _, d := range []string{"", "/"} {
		ls, err := s.List(context.Background(), "in/", d)
		if err != nil {
			t.Fatalf("List(in/, %q): %v", d, err)
		}
		var keys, skipped []string
		for _, o := range ls.Objects {
			keys = append(keys, o.Key)
		}
		for _, e := range ls.Skipped {
			skipped = append(skipped, e.Key)
		}
		if want := []string{"in/file"}; !slices.Equal(keys, want) || len(ls.Prefixes) != 0 {
			t.Errorf("List(in/, %q) = %q %q, want objects %q and no prefixes", d, keys, ls.Prefixes, want)
		}
		if want := []string{"in/dangling", "in/escape", "in/escapedir", "in/link"}; !slices.Equal(skipped, want) {
			t.Errorf("List(in/, %q) skipped %q, want %q", d, skipped, want)
		}
	}
	for _, p := range []string{"../", "in/../../", "/", "in//", "./in/", "in/./"} {
		ls, err := s.List(context.Background(), p, "/")
		if err != nil || len(ls.Objects)+len(ls.Prefixes)+len(ls.Skipped) != 0 {
			t.Errorf("List(%q) = %+v, %v; want nothing", p, ls, err)
		}
	}
}
