//go:build unix

package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestSource_unreadableEntries checks that special files and entries that
// cannot be read are reported as skipped, with the error, and that the
// listing goes on. Permissions do not bind root: run as root, the test
// checks only the special files (named pipes), which bind everyone.
func TestSource_unreadableEntries(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{
		"a.json":     []byte("a"),
		"d/b.json":   []byte("b"),
		"d/e/c.json": []byte("c"),
		"z.json":     []byte("z"),
	}
	root := writeTree(t, files)
	// key → what its skip reason must say
	wantSkipped := map[string]string{
		"pipe":   "not a regular file or folder: named pipe",
		"d/pipe": "not a regular file or folder: named pipe",
	}
	for k := range wantSkipped {
		if err := syscall.Mkfifo(filepath.Join(root, filepath.FromSlash(k)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	asRoot := os.Geteuid() == 0
	if !asRoot {
		// A folder that cannot be opened, and one that can be opened but
		// not read (its entries cannot be stat'ed: no search permission).
		writeFile(t, filepath.Join(root, "d", "locked", "x.json"), []byte("x"))
		writeFile(t, filepath.Join(root, "d", "noexec", "y.json"), []byte("y"))
		wantSkipped["d/locked"] = "open folder: permission denied"
		wantSkipped["d/noexec"] = "read folder: permission denied"
		for name, mode := range map[string]os.FileMode{"locked": 0, "noexec": 0o444} {
			p := filepath.Join(root, "d", name)
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(p, 0o755) })
		}
	}
	want := sortedKeys(files)
	var wantKeys []string
	for k := range wantSkipped {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(wantKeys)
	s := newSource(t, root)

	for mode, got := range map[string]listed{`""`: listAll(t, s), `"/"`: walkSlash(t, s)} {
		if !slices.Equal(got.objects, want) {
			t.Errorf("delimiter %s (as root: %v): objects %q, want exactly %q", mode, asRoot, got.objects, want)
		}
		if !slices.Equal(got.skipped, wantKeys) {
			t.Errorf("delimiter %s (as root: %v): skipped %q, want %q", mode, asRoot, got.skipped, wantKeys)
		}
		for k, reasons := range got.reasons {
			if len(reasons) != 1 || reasons[0] != wantSkipped[k] {
				t.Errorf("delimiter %s: skip reasons for %q are %q, want [%q]", mode, k, reasons, wantSkipped[k])
			}
		}
	}

	ctx := context.Background()
	// Opening a named pipe would block until a writer comes: Open must
	// refuse it first, as no object.
	for _, k := range []string{"pipe", "d/pipe"} {
		if r, err := s.Open(ctx, k); !errors.Is(err, os.ErrNotExist) {
			if err == nil {
				r.Close()
			}
			t.Errorf("Open(%q): %v, want os.ErrNotExist", k, err)
		}
	}
	if !asRoot {
		// The listed folder itself unreadable fails the listing.
		for _, d := range []string{"/", ""} {
			if ls, err := s.List(ctx, "d/locked/", d); err == nil || !strings.Contains(err.Error(), "permission denied") {
				t.Errorf("List(d/locked/, %q) = %+v, %v; want a permission error", d, ls, err)
			}
		}
		if _, err := s.Open(ctx, "d/locked/x.json"); err == nil || errors.Is(err, os.ErrNotExist) {
			t.Errorf("Open(d/locked/x.json): %v, want a permission error", err)
		}
	}
}
