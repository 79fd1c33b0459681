// Package file is an etl.Source over a local folder that holds CloudTrail's
// key layout (AWSLogs/<account>/CloudTrail/...), for tests, downloaded logs
// and air-gapped runs.
//
// Keys are slash-separated paths relative to the folder. Only regular files
// (and symbolic links to them) are objects; symbolic links to folders are
// not followed. Nothing outside the folder can be read: every access goes
// through an os.Root.
package file

import (
	"context"
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
	fsys := r.FS()

	var out etl.Listing
	if delimiter == "/" {
		entries, err := fs.ReadDir(fsys, fsDir)
		if err != nil {
			if isMissingDir(err) {
				return etl.Listing{}, nil
			}
			return etl.Listing{}, fmt.Errorf("list %q: %w", prefix, err)
		}
		for _, e := range entries {
			key := dir + e.Name()
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			fi, err := stat(fsys, path.Join(fsDir, e.Name()), e)
			if err != nil {
				return etl.Listing{}, fmt.Errorf("list %q: %w", prefix, err)
			}
			switch {
			case fi == nil:
			case fi.IsDir():
				out.Prefixes = append(out.Prefixes, key+"/")
			default:
				out.Objects = append(out.Objects, object(key, fi))
			}
		}
	} else {
		err := fs.WalkDir(fsys, fsDir, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if p == fsDir && isMissingDir(err) {
					return fs.SkipAll
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			key := strings.TrimPrefix(p, "./")
			if e.IsDir() {
				// Skip sub-folders that cannot hold a key with the prefix.
				if p != fsDir && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
					return fs.SkipDir
				}
				return nil
			}
			if !strings.HasPrefix(key, prefix) {
				return nil
			}
			fi, err := stat(fsys, p, e)
			if err != nil {
				return err
			}
			if fi != nil && !fi.IsDir() {
				out.Objects = append(out.Objects, object(key, fi))
			}
			return nil
		})
		if err != nil {
			return etl.Listing{}, fmt.Errorf("list %q: %w", prefix, err)
		}
	}
	// Keys sort by bytes, not in folder-walk order ("a/b.json" < "a/b/c").
	slices.SortFunc(out.Objects, func(a, b etl.Object) int { return strings.Compare(a.Key, b.Key) })
	slices.Sort(out.Prefixes)
	return out, nil
}

// stat returns the file info of a regular file or folder entry, following
// a symbolic link to a regular file; nil for anything else.
func stat(fsys fs.FS, name string, e fs.DirEntry) (fs.FileInfo, error) {
	t := e.Type()
	switch {
	case t.IsDir() || t.IsRegular():
		return e.Info()
	case t&fs.ModeSymlink != 0:
		fi, err := fs.Stat(fsys, name)
		if err != nil || !fi.Mode().IsRegular() {
			return nil, nil // dangling, escaping or not a file: not an object
		}
		return fi, nil
	}
	return nil, nil
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

// Open opens the object key. A missing key (or a folder) is
// os.ErrNotExist.
func (s *Source) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !fs.ValidPath(key) || key == "." {
		return nil, fmt.Errorf("open object %q: %w", key, os.ErrNotExist)
	}
	f, err := os.OpenInRoot(s.root, filepath.FromSlash(key))
	if err != nil {
		if isMissingDir(err) {
			return nil, fmt.Errorf("open object %q: %w", key, os.ErrNotExist)
		}
		return nil, fmt.Errorf("open object %q: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open object %q: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open object %q: not a file: %w", key, os.ErrNotExist)
	}
	return f, nil
}
