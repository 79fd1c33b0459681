package lake

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"
)

// downloaders is how many files Local fetches at once.
const downloaders = 8

// Local returns a local path for each file, for a reader such as DuckDB:
// the file itself in a folder lake; in an S3 lake, a copy kept in cacheDir
// under the same partition folders, fetched unless a copy of the same ETag
// is there already.
func (l *Lake) Local(ctx context.Context, files []File, cacheDir string) ([]string, error) {
	out := make([]string, len(files))
	if _, ok := l.cfg.Store.(localStore); ok {
		for i, f := range files {
			out[i], _ = l.LocalPath(f)
		}
		return out, nil
	}
	if cacheDir == "" {
		return nil, fmt.Errorf("lake %s is not a local folder, and there is no cache folder to copy it to", l)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(downloaders)
	for i, f := range files {
		dir := filepath.Join(cacheDir, filepath.FromSlash(f.Partition.Dir()))
		name := strings.TrimSuffix(f.Name, fileSuffix) + "." + safeTag(f.ETag) + fileSuffix
		out[i] = filepath.Join(dir, name)
		if fi, err := os.Stat(out[i]); err == nil && fi.Size() == f.Size {
			continue
		}
		g.Go(func() error { return l.download(gctx, f, dir, name) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func (l *Lake) download(ctx context.Context, f File, dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rc, err := l.cfg.Store.Open(ctx, f.Key)
	if err != nil {
		return err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, rc); err != nil {
		tmp.Close()
		return fmt.Errorf("copy %q from the lake: %w", f.Key, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Older copies of the same file (another ETag) go.
	old, _ := filepath.Glob(filepath.Join(dir, strings.TrimSuffix(f.Name, fileSuffix)+".*"+fileSuffix))
	for _, o := range old {
		_ = os.Remove(o)
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

// safeTag makes an ETag usable in a file name.
func safeTag(etag string) string {
	var b strings.Builder
	for _, c := range etag {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
