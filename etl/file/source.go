// Package file is an etl.Source over a local folder that holds CloudTrail's
// key layout (AWSLogs/<account>/CloudTrail/...), for tests, downloaded logs
// and air-gapped runs.
//
// Keys are slash-separated paths relative to the folder. Only regular files
// are objects and only folders are prefixes. No symbolic link is followed,
// whether it points to a file or a folder, inside or outside the folder, or
// nowhere: a listing reports each one it meets in Listing.Skipped, and Open
// refuses a key that goes through one (ErrSymlink). Other entries that
// cannot be read (special files such as named pipes, entries that cannot be
// stat'ed, sub-folders that cannot be opened or read) are reported in
// Listing.Skipped too, and the listing goes on. The source logs nothing
// itself: etl.Lister logs the skipped entries.
//
// Nothing outside the folder can be read: every access goes through an
// os.Root. The folder given to New may itself be a symbolic link.
package file

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/fullstop-audit/fullstop/etl"
)

var _ etl.Source = (*Source)(nil)

// ErrSymlink is the error of Open for a key that is, or goes through, a
// symbolic link.
var ErrSymlink = errors.New("symbolic link, not followed")

// Source reads objects from a local folder. It is safe for concurrent use.
type Source struct {
	root string // absolute path of the folder
}

// New returns a source over the folder root, given as a path or as a
// file:///abs/path URL. The folder must exist.
func New(root string) (*Source, error) {
	if strings.HasPrefix(root, "file:") {
		u, err := url.Parse(root)
		if err != nil {
			return nil, fmt.Errorf("parse source url %q: %w", root, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("source url %q: want file:///abs/path", root)
		}
		root = filepath.FromSlash(u.Path)
	}
	if root == "" {
		return nil, errors.New("file source: empty path")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("file source %q: %w", root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("file source: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("file source %q: not a folder", root)
	}
	return &Source{root: abs}, nil
}

// String returns the folder as a file:// URL.
func (s *Source) String() string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(s.root)}).String()
}

// List lists the keys starting with prefix. With delimiter "/" it reads
// only the one folder the prefix points into; with "" it walks the folder's
// subtree. Other delimiters are an error. A prefix naming no folder gives an
// empty listing.
//
// Symbolic links and unreadable entries under the prefix are neither
// objects nor prefixes: they are reported in Listing.Skipped (sorted by
// key) and the listing goes on. In "/" mode each sub-folder is opened once
// to check that it can be listed. A prefix that goes through a symbolic
// link gives an empty listing that reports the link. Only an error on the
// folder the prefix points into (other than its absence) or a cancelled
// context fails List.
//
// An object's ETag is its size and modification time in hex
// ("<size>-<mtime ns>"): a cheap change marker, not a content hash.
func (s *Source) List(ctx context.Context, prefix, delimiter string) (etl.Listing, error) {
	if delimiter != "" && delimiter != "/" {
		return etl.Listing{}, fmt.Errorf("list %q: unsupported delimiter %q", prefix, delimiter)
	}
	if err := ctx.Err(); err != nil {
		return etl.Listing{}, err
	}
	// dir is the folder the prefix points into, as a key prefix ("" or
	// ending in "/"); keys below it must start with the rest of prefix.
	i := strings.LastIndexByte(prefix, '/')
	dir := prefix[:i+1]
	fsDir := "."
	if dir != "" {
		fsDir = strings.TrimSuffix(dir, "/")
		if !fs.ValidPath(fsDir) {
			return etl.Listing{}, nil // no key can have such a prefix
		}
	}
	r, err := os.OpenRoot(s.root)
	if err != nil {
		return etl.Listing{}, fmt.Errorf("list %q: %w", prefix, err)
	}
	defer r.Close()

	l := lister{ctx: ctx, root: r, prefix: prefix, walk: delimiter == ""}
	f, err := l.openTop(fsDir)
	if err != nil {
		return etl.Listing{}, fmt.Errorf("list %q: %w", prefix, err)
	}
	if f == nil {
		return l.out, nil // no such folder, or behind a symbolic link
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return etl.Listing{}, fmt.Errorf("list %q: %w", prefix, err)
	}
	if err := l.entries(fsDir, entries); err != nil {
		return etl.Listing{}, fmt.Errorf("list %q: %w", prefix, err)
	}
	out := l.out
	// Keys sort by bytes, not in folder-walk order ("a/b.json" < "a/b/c").
	slices.SortFunc(out.Objects, func(a, b etl.Object) int { return strings.Compare(a.Key, b.Key) })
	slices.Sort(out.Prefixes)
	slices.SortFunc(out.Skipped, func(a, b etl.SkippedEntry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// lister is the state of one List call.
type lister struct {
	ctx    context.Context
	root   *os.Root
	prefix string
	walk   bool // delimiter "": descend into sub-folders
	out    etl.Listing
}

// openTop opens the folder fsDir the listing reads, following no symbolic
// link on the way. It returns nil, nil when there is no such folder (a
// symbolic link on the way is reported as skipped).
func (l *lister) openTop(fsDir string) (*os.File, error) {
	if fsDir == "." {
		return l.root.Open(".") // the folder itself, which may be a link
	}
	var fi fs.FileInfo
	elems := strings.Split(fsDir, "/")
	for i := range elems {
		name := strings.Join(elems[:i+1], "/")
		var err error
		fi, err = l.root.Lstat(name)
		switch {
		case err != nil && isMissingDir(err):
			return nil, nil
		case err != nil:
			return nil, err
		case fi.Mode()&fs.ModeSymlink != 0:
			l.skip(name, l.symlinkReason(name))
			return nil, nil
		case !fi.IsDir():
			return nil, nil // a file used as a folder
		}
	}
	f, err := l.root.Open(fsDir)
	if err != nil {
		if isMissingDir(err) {
			return nil, nil
		}
		return nil, err
	}
	if err := sameFile(f, fi); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// entries lists the entries of the folder fsDir ("." or a slash-separated
// path), descending into sub-folders in walk mode. Only a cancelled
// context is an error.
func (l *lister) entries(fsDir string, entries []fs.DirEntry) error {
	if err := l.ctx.Err(); err != nil {
		return err
	}
	for _, e := range entries {
		p := path.Join(fsDir, e.Name())
		key := p // path.Join drops the leading "./"
		if !strings.HasPrefix(key, l.prefix) {
			continue
		}
		// Lstat through the root rather than e.Info(): it follows no link
		// and stays inside the folder.
		fi, err := l.root.Lstat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the folder was read
			}
			l.skip(key, reason("stat", err))
			continue
		}
		switch mode := fi.Mode(); {
		case mode.IsRegular():
			l.out.Objects = append(l.out.Objects, object(key, fi))
		case mode&fs.ModeSymlink != 0:
			l.skip(key, l.symlinkReason(p))
		case mode.IsDir():
			if err := l.folder(p, fi); err != nil {
				return err
			}
		default:
			l.skip(key, "not a regular file or folder: "+kind(mode))
		}
	}
	return nil
}

// folder handles the sub-folder p: it is opened and read from (so that one
// that cannot be listed is reported as skipped rather than offered as a
// prefix whose own listing would fail), then offered as a prefix or, in
// walk mode, read in full.
func (l *lister) folder(p string, fi fs.FileInfo) error {
	f, err := l.root.Open(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			l.skip(p, reason("open folder", err))
		}
		return nil
	}
	if err := sameFile(f, fi); err != nil {
		f.Close()
		l.skip(p, err.Error())
		return nil
	}
	if !l.walk {
		// Read one entry: a folder that can be opened but not read (no
		// search permission) would fail its own listing.
		_, err := f.ReadDir(1)
		f.Close()
		if err != nil && err != io.EOF {
			l.skip(p, reason("read folder", err))
			return nil
		}
		l.out.Prefixes = append(l.out.Prefixes, p+"/")
		return nil
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		// Keep what was read; the folder is reported as incomplete.
		l.skip(p, reason("read folder", err))
	}
	return l.entries(p, entries)
}

func (l *lister) skip(key, why string) {
	l.out.Skipped = append(l.out.Skipped, etl.SkippedEntry{Key: key, Reason: why})
}

// symlinkReason is the skip reason for the symbolic link name, with its
// target when it can be read.
func (l *lister) symlinkReason(name string) string {
	if target, err := l.root.Readlink(name); err == nil {
		return fmt.Sprintf("symbolic link to %q (not followed)", target)
	}
	return "symbolic link (not followed)"
}

// sameFile checks that the opened f is the entry fi was stat'ed from: a
// rename racing with the listing could otherwise put a symbolic link (which
// the os.Root follows, inside the folder) where a folder or file was.
func sameFile(f *os.File, fi fs.FileInfo) error {
	got, err := f.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(got, fi) {
		return errors.New("changed while being read")
	}
	return nil
}

// reason is the skip reason for err from op, without the path the key
// already gives.
func reason(op string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return op + ": " + err.Error()
}

// kind names the type of a special file.
func kind(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "named pipe"
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeCharDevice != 0:
		return "character device"
	case mode&fs.ModeDevice != 0:
		return "device"
	}
	return "irregular file (" + mode.Type().String() + ")"
}

// isMissingDir reports whether err says a folder does not exist (or is a
// file).
func isMissingDir(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func object(key string, fi fs.FileInfo) etl.Object {
	return etl.Object{
		Key:          key,
		Size:         fi.Size(),
		ETag:         fmt.Sprintf("%x-%x", fi.Size(), fi.ModTime().UnixNano()),
		LastModified: fi.ModTime().UTC(),
	}
}

// Open opens the object key. A missing key (or a folder, or a special
// file) is os.ErrNotExist; a key that is or goes through a symbolic link
// is ErrSymlink.
func (s *Source) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !fs.ValidPath(key) || key == "." {
		return nil, fmt.Errorf("open object %q: %w", key, os.ErrNotExist)
	}
	r, err := os.OpenRoot(s.root)
	if err != nil {
		return nil, fmt.Errorf("open object %q: %w", key, err)
	}
	defer r.Close() // an open file outlives its root
	// Lstat each element: the os.Root would follow a link (inside the
	// folder), and opening a named pipe would block.
	var fi fs.FileInfo
	elems := strings.Split(key, "/")
	for i := range elems {
		name := strings.Join(elems[:i+1], "/")
		fi, err = r.Lstat(name)
		switch {
		case err != nil && isMissingDir(err):
			return nil, fmt.Errorf("open object %q: %w", key, os.ErrNotExist)
		case err != nil:
			return nil, fmt.Errorf("open object %q: %w", key, err)
		case fi.Mode()&fs.ModeSymlink != 0 && name == key:
			return nil, fmt.Errorf("open object %q: %w", key, ErrSymlink)
		case fi.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("open object %q: %q: %w", key, name, ErrSymlink)
		case name == key && !fi.Mode().IsRegular():
			return nil, fmt.Errorf("open object %q: not a file: %w", key, os.ErrNotExist)
		case name != key && !fi.IsDir():
			return nil, fmt.Errorf("open object %q: %w", key, os.ErrNotExist)
		}
	}
	f, err := r.Open(key)
	if err != nil {
		if isMissingDir(err) {
			return nil, fmt.Errorf("open object %q: %w", key, os.ErrNotExist)
		}
		return nil, fmt.Errorf("open object %q: %w", key, err)
	}
	if err := sameFile(f, fi); err != nil {
		f.Close()
		return nil, fmt.Errorf("open object %q: %w", key, err)
	}
	return f, nil
}

// Put stores data as the object key, creating its folders: it is written
// to a hidden temporary file in the object's folder, flushed to disk and
// renamed over key, so that a reader sees the whole object or none (the
// previous one, if any). A key that goes through a symbolic link is
// refused.
func (s *Source) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !fs.ValidPath(key) || key == "." {
		return fmt.Errorf("put object %q: invalid key", key)
	}
	r, err := os.OpenRoot(s.root)
	if err != nil {
		return fmt.Errorf("put object %q: %w", key, err)
	}
	defer r.Close()
	dir, name := path.Split(key)
	dir = strings.TrimSuffix(dir, "/")
	if dir != "" {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("put object %q: %w", key, err)
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, "."+name+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("put object %q: %w", key, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.Rename(tmp, key)
	}
	if err != nil {
		_ = r.Remove(tmp)
		return fmt.Errorf("put object %q: %w", key, err)
	}
	// The rename is durable once the folder is flushed.
	if d, err := r.Open(cmp.Or(dir, ".")); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Delete removes the object key; a missing key is not an error. Folders
// left empty stay.
func (s *Source) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !fs.ValidPath(key) || key == "." {
		return fmt.Errorf("delete object %q: invalid key", key)
	}
	r, err := os.OpenRoot(s.root)
	if err != nil {
		return fmt.Errorf("delete object %q: %w", key, err)
	}
	defer r.Close()
	if err := r.Remove(key); err != nil && !isMissingDir(err) {
		return fmt.Errorf("delete object %q: %w", key, err)
	}
	return nil
}

// ReadAt reads len(p) bytes of the object key from offset off, as
// io.ReaderAt does.
func (s *Source) ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error) {
	rc, err := s.Open(ctx, key)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	f, ok := rc.(io.ReaderAt)
	if !ok {
		return 0, fmt.Errorf("read object %q: not a file", key)
	}
	return f.ReadAt(p, off)
}

// Path returns the local path of key.
func (s *Source) Path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}
