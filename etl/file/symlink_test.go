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
)

// listed is what a set of listings returned, merged.
type listed struct {
	objects []string            // sorted object keys
	skipped []string            // sorted skipped keys
	reasons map[string][]string // skipped key → reasons
}

func merge(t *testing.T, into *listed, ls etl.Listing) {
	t.Helper()
	if into.reasons == nil {
		into.reasons = make(map[string][]string)
	}
	for _, o := range ls.Objects {
		into.objects = append(into.objects, o.Key)
	}
	for _, e := range ls.Skipped {
		into.skipped = append(into.skipped, e.Key)
		into.reasons[e.Key] = append(into.reasons[e.Key], e.Reason)
	}
	if !slices.IsSortedFunc(ls.Skipped, func(a, b etl.SkippedEntry) int { return strings.Compare(a.Key, b.Key) }) {
		t.Errorf("skipped entries not sorted by key: %+v", ls.Skipped)
	}
	slices.Sort(into.objects)
	slices.Sort(into.skipped)
}

// listAll lists the whole source with delimiter "": one call.
func listAll(t *testing.T, s *file.Source) listed {
	t.Helper()
	ls, err := s.List(context.Background(), "", "")
	if err != nil {
		t.Fatalf(`List("", ""): %v`, err)
	}
	var out listed
	merge(t, &out, ls)
	return out
}

// walkSlash lists the whole source with delimiter "/", folder by folder
// from the top, as etl.Lister does.
func walkSlash(t *testing.T, s *file.Source) listed {
	t.Helper()
	var out listed
	var walk func(prefix string)
	walk = func(prefix string) {
		ls, err := s.List(context.Background(), prefix, "/")
		if err != nil {
			t.Fatalf("List(%q, /): %v", prefix, err)
		}
		merge(t, &out, ls)
		for _, p := range ls.Prefixes {
			walk(p)
		}
	}
	walk("")
	return out
}

// symlinkTree is the regular content every symlink case starts from.
var symlinkTree = map[string][]byte{
	"top.json":         []byte("top"),
	"d/a.json":         []byte("a"),
	"d/sub/b.json":     []byte("b"),
	"z/deep/c.json.gz": []byte("c"),
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestSource_symlinks(t *testing.T) {
	t.Parallel()
	// A link is its key and its target; in targets, "$root" and "$out" are
	// the absolute paths of the source folder and of a folder outside it.
	type link struct{ key, target string }
	tests := []struct {
		name  string
		links []link
	}{
		{name: "folder link inside root", links: []link{{"l", "d"}}},
		{name: "nested folder link inside root", links: []link{{"z/l", "../d/sub"}}},
		{name: "absolute folder link inside root", links: []link{{"l", "$root/d"}}},
		{name: "folder link to its own parent", links: []link{{"d/sub/loop", ".."}}},
		{name: "folder link to the root", links: []link{{"d/root", "$root"}}},
		{name: "relative file link", links: []link{{"d/l.json", "a.json"}}},
		{name: "relative file link into another folder", links: []link{{"z/l.json", "../d/sub/b.json"}}},
		{name: "absolute file link inside root", links: []link{{"l.json", "$root/top.json"}}},
		{name: "file link outside root", links: []link{{"d/out.json", "$out/o.json"}}},
		{name: "folder link outside root", links: []link{{"d/out", "$out/od"}}},
		{name: "top folder link outside root", links: []link{{"out", "$out/od"}}},
		{name: "relative folder link escaping root", links: []link{{"d/esc", "../../out/od"}}},
		{name: "dangling relative link", links: []link{{"d/dangling", "missing"}}},
		{name: "dangling absolute link", links: []link{{"dangling", "/nonexistent/fullstop/x"}}},
		{name: "link to itself", links: []link{{"d/self", "self"}}},
		{name: "every kind at once", links: []link{
			{"l", "d"}, {"d/l.json", "a.json"}, {"l.json", "$root/top.json"}, {"d/out.json", "$out/o.json"},
			{"d/out", "$out/od"}, {"z/deep/dangling", "missing"}, {"d/sub/loop", ".."},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// base holds both the source folder and, beside it, "out".
			base := t.TempDir()
			root := filepath.Join(base, "root")
			out := filepath.Join(base, "out")
			for k, b := range symlinkTree {
				writeFile(t, filepath.Join(root, filepath.FromSlash(k)), b)
			}
			writeFile(t, filepath.Join(out, "o.json"), []byte("outside"))
			writeFile(t, filepath.Join(out, "od", "x.json"), []byte("outside x"))
			var linkKeys []string
			targets := make(map[string]string)
			for _, l := range tt.links {
				target := strings.NewReplacer("$root", root, "$out", out).Replace(l.target)
				target = filepath.FromSlash(target)
				if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(l.key))); err != nil {
					t.Fatal(err)
				}
				linkKeys = append(linkKeys, l.key)
				targets[l.key] = target
			}
			slices.Sort(linkKeys)
			s := newSource(t, root)
			want := sortedKeys(symlinkTree)

			for mode, got := range map[string]listed{`""`: listAll(t, s), `"/"`: walkSlash(t, s)} {
				if !slices.Equal(got.objects, want) {
					t.Errorf("delimiter %s: objects %q, want exactly %q", mode, got.objects, want)
				}
				if !slices.Equal(got.skipped, linkKeys) {
					t.Errorf("delimiter %s: skipped %q, want each link once: %q", mode, got.skipped, linkKeys)
				}
				for k, reasons := range got.reasons {
					for _, r := range reasons {
						if !strings.Contains(r, "symbolic link") || !strings.Contains(r, "not followed") || !strings.Contains(r, targets[k]) {
							t.Errorf("delimiter %s: skip reason for %q is %q, want it to name a symbolic link to %q, not followed", mode, k, r, targets[k])
						}
					}
				}
			}

			ctx := context.Background()
			for _, k := range linkKeys {
				// The folder holding the link lists it as skipped, never as an
				// object or a prefix, in both modes.
				dir := k[:strings.LastIndexByte(k, '/')+1]
				for _, d := range []string{"/", ""} {
					ls, err := s.List(ctx, dir, d)
					if err != nil {
						t.Fatalf("List(%q, %q): %v", dir, d, err)
					}
					if slices.ContainsFunc(ls.Objects, func(o etl.Object) bool { return o.Key == k || strings.HasPrefix(o.Key, k+"/") }) ||
						slices.ContainsFunc(ls.Prefixes, func(p string) bool { return strings.HasPrefix(p, k+"/") }) {
						t.Errorf("List(%q, %q) = %+v, offers the link %q or something through it", dir, d, ls, k)
					}
					if !slices.ContainsFunc(ls.Skipped, func(e etl.SkippedEntry) bool { return e.Key == k }) {
						t.Errorf("List(%q, %q) skipped %+v, want %q among them", dir, d, ls.Skipped, k)
					}
				}
				// A prefix through the link lists nothing and reports the link.
				for _, p := range []string{k + "/", k + "/sub/", k + "/a"} {
					for _, d := range []string{"/", ""} {
						ls, err := s.List(ctx, p, d)
						if err != nil {
							t.Errorf("List(%q, %q) through a link: %v, want an empty listing", p, d, err)
							continue
						}
						if len(ls.Objects)+len(ls.Prefixes) != 0 || len(ls.Skipped) != 1 || ls.Skipped[0].Key != k {
							t.Errorf("List(%q, %q) through a link = %+v, want nothing but %q skipped", p, d, ls, k)
						}
					}
				}
				// Open refuses the link itself and any key through it.
				for _, key := range []string{k, k + "/a.json", k + "/sub/b.json", k + "/x.json"} {
					r, err := s.Open(ctx, key)
					if err == nil {
						b, _ := io.ReadAll(r)
						r.Close()
						t.Errorf("Open(%q) read %q, want an error", key, b)
						continue
					}
					if !errors.Is(err, file.ErrSymlink) || errors.Is(err, os.ErrNotExist) {
						t.Errorf("Open(%q): %v, want file.ErrSymlink, not os.ErrNotExist", key, err)
					}
					if !strings.Contains(err.Error(), "symbolic link, not followed") {
						t.Errorf("Open(%q): %q, want it to say %q", key, err, "symbolic link, not followed")
					}
				}
			}
			// Every regular object still opens.
			for _, k := range want {
				r, err := s.Open(ctx, k)
				if err != nil {
					t.Errorf("Open(%q): %v", k, err)
					continue
				}
				b, err := io.ReadAll(r)
				r.Close()
				if err != nil || string(b) != string(symlinkTree[k]) {
					t.Errorf("Open(%q) read %q, %v; want %q", k, b, err, symlinkTree[k])
				}
			}
		})
	}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
