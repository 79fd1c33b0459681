package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/etl"
)

// gunzipMain is the "gunzip" subcommand: it decompresses every .json.gz
// file below a folder with the pipeline's decompressor (etl.Inflater),
// workers files at a time, and prints "files <n>" and "bytes <n>" (the
// decompressed bytes).
func gunzipMain(ctx context.Context, args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("gunzip", flag.ContinueOnError)
	workers := fset.Int("workers", 1, "files decompressed in parallel")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() != 1 || *workers < 1 {
		return fmt.Errorf("usage: fullstop-bench gunzip [--workers N] DIR")
	}
	files, err := logFiles(fset.Arg(0))
	if err != nil {
		return err
	}
	var total atomic.Int64
	inflaters := sync.Pool{New: func() any { return etl.NewInflater() }}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(*workers)
	for _, f := range files {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			inf := inflaters.Get().(*etl.Inflater)
			defer inflaters.Put(inf)
			n, err := gunzipFile(f, inf)
			total.Add(n)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "files %d\nbytes %d\n", len(files), total.Load())
	return nil
}

// gunzipFile decompresses one file with the pipeline's inflater and
// returns its decompressed size.
func gunzipFile(path string, inf *etl.Inflater) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("gunzip: %w", err)
	}
	defer f.Close()
	out, err := inf.Inflate(f, math.MaxInt64-1, math.MaxInt64-1)
	if err != nil {
		return 0, fmt.Errorf("gunzip %s: %w", path, err)
	}
	return int64(len(out)), nil
}

// logFiles returns the .json.gz files below dir, sorted.
func logFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(path, ".json.gz") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	slices.Sort(files)
	return files, nil
}
