package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl/file"
	"github.com/fullstop-audit/fullstop/etl/lake"
	"github.com/fullstop-audit/fullstop/etl/s3"
)

// lakeFlag is --lake, the events lake of run, backfill, serve, query, sql
// and lake.
func lakeFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "lake", EnvVars: []string{"FULLSTOP_LAKE"}, Usage: usage}
}

const lakeWriteUsage = "store every decoded event as Parquet in this events lake: a folder, file:///abs/path or s3://bucket/prefix (same S3 settings as the source)"

// lakeSetup is where a lake is, read from the flags.
type lakeSetup struct {
	url  string     // as given, for messages
	s3   *s3.Config // nil for a folder
	root string     // the folder
	// compression is the codec of the files a batch or a compaction
	// writes; "": the default.
	compression lake.Compression
}

// readLakeSetup reads --lake; nil when it is not set.
func readLakeSetup(c *cli.Context) (*lakeSetup, error) {
	raw := c.String("lake")
	if raw == "" {
		return nil, nil
	}
	ls := &lakeSetup{url: raw}
	switch {
	case strings.HasPrefix(raw, "s3://"):
		cfg, err := readS3Config(c, raw, "--lake (FULLSTOP_LAKE)")
		if err != nil {
			return nil, err
		}
		ls.s3 = cfg
	case strings.Contains(raw, "://") && !strings.HasPrefix(raw, "file://"):
		return nil, usagef("--lake (FULLSTOP_LAKE): %q: want a folder, file:///abs/path or s3://bucket/prefix", raw)
	default:
		ls.root = strings.TrimPrefix(raw, "file://")
	}
	return ls, nil
}

// errNoLake is a lake folder that does not exist, to a reader.
var errNoLake = errors.New("no such lake")

// openLake opens the lake; create makes a missing folder (for a writer).
func openLake(ctx context.Context, log *slog.Logger, ls *lakeSetup, create bool) (*lake.Lake, error) {
	cfg := lake.Config{Log: log, Compression: ls.compression, CompactCompression: ls.compression}
	if ls.s3 != nil {
		src, err := s3.New(ctx, *ls.s3)
		if errors.Is(err, s3.ErrNoCredentials) {
			return nil, usagef("%v", err)
		}
		if err != nil {
			return nil, fmt.Errorf("open the lake %s (FULLSTOP_LAKE): %w", ls.url, err)
		}
		cfg.Store, cfg.Prefix = src, ls.s3.Prefix
	} else {
		if create {
			if err := os.MkdirAll(ls.root, 0o755); err != nil {
				return nil, fmt.Errorf("create the lake folder (FULLSTOP_LAKE): %w", err)
			}
		} else if fi, err := os.Stat(ls.root); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%w: the lake folder %s (FULLSTOP_LAKE) does not exist; write it with run or backfill --lake", errNoLake, ls.url)
		}
		src, err := file.New(ls.root)
		if err != nil {
			return nil, fmt.Errorf("open the lake %s (FULLSTOP_LAKE): %w", ls.url, err)
		}
		cfg.Store = src
	}
	if lakeStoreHook != nil {
		cfg.Store = lakeStoreHook(cfg.Store)
	}
	return lake.New(cfg)
}

// lakeStoreHook, when set, wraps every lake store; the crash tests set it
// to kill the process at chosen writes. Nothing else sets it.
var lakeStoreHook func(lake.Store) lake.Store

func lakeCommand(a *app) *cli.Command {
	flags := func(more ...cli.Flag) []cli.Flag {
		return append(append([]cli.Flag{lakeFlag("the events lake: a folder, file:///abs/path or s3://bucket/prefix")}, s3Flags()...), more...)
	}
	return &cli.Command{
		Name:  "lake",
		Usage: "maintain the events lake: compact small files, prune old partitions",
		Subcommands: []*cli.Command{
			{
				Name:  "compact",
				Usage: "merge the small files of each partition older than the look-back window into files of about --target-size",
				Description: "Partitions of days inside the look-back window (--lookback, as run's) are left alone, as\n" +
					"batches may still write there. Rerunning compact after a crash finishes what it left.",
				Flags: flags(
					&cli.StringFlag{Name: "from", EnvVars: []string{"FULLSTOP_LAKE_FROM"}, Usage: "first partition date (YYYY-MM-DD), inclusive"},
					&cli.StringFlag{Name: "to", EnvVars: []string{"FULLSTOP_LAKE_TO"}, Usage: "last partition date (YYYY-MM-DD), inclusive"},
					lookbackFlag(),
					&cli.StringFlag{Name: "target-size", Value: "128MiB", EnvVars: []string{"FULLSTOP_LAKE_TARGET_SIZE"}, Usage: "size a merged file aims at (e.g. 128MiB, 1GiB)"},
					&cli.StringFlag{Name: "compression", Value: string(lake.DefaultCompactCompression), EnvVars: []string{"FULLSTOP_LAKE_COMPACT_COMPRESSION"}, Usage: "codec of the merged files: zstd (level 3), zstd-1 to zstd-4, or snappy"},
					&cli.BoolFlag{Name: "dry-run", EnvVars: []string{"FULLSTOP_LAKE_DRY_RUN"}, Usage: "say what would be merged without doing it"},
				),
				Action: func(c *cli.Context) error { return lakeCompact(c, a, os.Stdout) },
			},
			{
				Name:  "prune",
				Usage: "delete every partition of days before --before",
				Flags: flags(
					&cli.StringFlag{Name: "before", EnvVars: []string{"FULLSTOP_LAKE_PRUNE_BEFORE"}, Usage: "first date to keep (YYYY-MM-DD); required"},
					&cli.BoolFlag{Name: "dry-run", EnvVars: []string{"FULLSTOP_LAKE_DRY_RUN"}, Usage: "say what would be deleted without doing it"},
				),
				Action: func(c *cli.Context) error { return lakePrune(c, a, os.Stdout) },
			},
		},
	}
}

func requireLake(c *cli.Context) (*lakeSetup, error) {
	ls, err := readLakeSetup(c)
	if err != nil {
		return nil, err
	}
	if ls == nil {
		return nil, usagef("missing setting FULLSTOP_LAKE (--lake): the events lake, a folder or s3://bucket/prefix")
	}
	return ls, nil
}

func parseDay(c *cli.Context, name string) (time.Time, error) {
	if c.String(name) == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, c.String(name))
	if err != nil {
		return time.Time{}, usagef("--%s: %q is not YYYY-MM-DD", name, c.String(name))
	}
	return t, nil
}

func lakeCompact(c *cli.Context, a *app, w io.Writer) error {
	ls, err := requireLake(c)
	if err != nil {
		return err
	}
	var opts lake.CompactOptions
	if opts.Range.From, err = parseDay(c, "from"); err != nil {
		return err
	}
	if opts.Range.To, err = parseDay(c, "to"); err != nil {
		return err
	}
	lookback, err := readLookback(c)
	if err != nil {
		return err
	}
	if opts.TargetSize, err = parseSize(c.String("target-size")); err != nil || opts.TargetSize < 1<<20 || opts.TargetSize > 4<<30 {
		return usagef("--target-size (FULLSTOP_LAKE_TARGET_SIZE): %q: want a size from 1MiB to 4GiB, e.g. 128MiB", c.String("target-size"))
	}
	opts.Before = time.Now().UTC().Add(-lookback)
	if ls.compression, err = lake.ParseCompression(c.String("compression")); err != nil {
		return usagef("--compression (FULLSTOP_LAKE_COMPACT_COMPRESSION): %v", err)
	}
	opts.DryRun = c.Bool("dry-run")
	lk, err := openLake(c.Context, a.log, ls, false)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := lk.Compact(c.Context, opts)
	verb := "compacted"
	if opts.DryRun {
		verb = "would compact"
	}
	fmt.Fprintf(w, "fullstop lake compact: %s, partitions before %s\n", lk, opts.Before.Format(time.DateOnly))
	fmt.Fprintf(w, "  partitions  %d looked at, %d %s\n", res.Partitions, res.Compacted, verb)
	fmt.Fprintf(w, "  files       %d merged into %d, %d deleted\n", res.FilesRead, res.FilesWritten, res.FilesDeleted)
	fmt.Fprintf(w, "  bytes       %s read, %s written (%d rows)\n", formatSize(res.BytesRead), formatSize(res.BytesWritten), res.Rows)
	fmt.Fprintf(w, "  duration    %s\n", time.Since(start).Round(time.Millisecond))
	return err
}

func lakePrune(c *cli.Context, a *app, w io.Writer) error {
	ls, err := requireLake(c)
	if err != nil {
		return err
	}
	before, err := parseDay(c, "before")
	if err != nil {
		return err
	}
	if before.IsZero() {
		return usagef("lake prune needs --before YYYY-MM-DD: the first date to keep")
	}
	lk, err := openLake(c.Context, a.log, ls, false)
	if err != nil {
		return err
	}
	res, err := lk.Prune(c.Context, before, c.Bool("dry-run"))
	verb := "deleted"
	if c.Bool("dry-run") {
		verb = "would delete"
	}
	fmt.Fprintf(w, "fullstop lake prune: %s, partitions before %s: %s %d partitions, %d files, %s\n",
		lk, before.Format(time.DateOnly), verb, res.Partitions, res.Files, formatSize(res.Bytes))
	return err
}

// formatSize prints bytes in KiB, MiB or GiB.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// lakeCacheDir is where copies of an S3 lake's files are kept for queries.
func lakeCacheDir(ls *lakeSetup) string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	name := strings.NewReplacer("://", "-", "/", "-", ":", "-").Replace(ls.url)
	return filepath.Join(base, "fullstop", "lake", name)
}
