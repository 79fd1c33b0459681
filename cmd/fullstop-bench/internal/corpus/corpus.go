package corpus

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"
)

// Version changes whenever the generator's output changes, so that cached
// corpora made by an older generator are made again.
const Version = 1

// ManifestName is the file, next to AWSLogs/, describing a generated
// corpus.
const ManifestName = "manifest.json"

// Defaults of Config.
var (
	DefaultRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"}
	DefaultStart   = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
)

// Defaults of Config.
const (
	DefaultAccounts   = 20
	DefaultDays       = 3
	DefaultMinPerFile = 1000
	DefaultMaxPerFile = 5000
)

// Config describes a corpus. Zero fields get the documented defaults.
type Config struct {
	Events     int      // records in the corpus; required
	Seed       uint64   // seed of every random choice
	Accounts   int      // accounts the files are spread over; default 20
	Regions    []string // regions the files are spread over; default DefaultRegions
	Days       int      // days the files are spread over; default 3
	Start      time.Time
	MinPerFile int // fewest records in a file (but the last); default 1000
	MaxPerFile int // most records in a file; default 5000
}

// withDefaults returns c with its zero fields set.
func (c Config) withDefaults() Config {
	c.Accounts = cmp.Or(c.Accounts, DefaultAccounts)
	if len(c.Regions) == 0 {
		c.Regions = DefaultRegions
	}
	c.Days = cmp.Or(c.Days, DefaultDays)
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	y, m, d := c.Start.UTC().Date()
	c.Start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	c.MinPerFile = cmp.Or(c.MinPerFile, DefaultMinPerFile)
	c.MaxPerFile = cmp.Or(c.MaxPerFile, DefaultMaxPerFile)
	return c
}

func (c Config) check() error {
	switch {
	case c.Events < 1:
		return errors.New("corpus: events must be positive")
	case c.Accounts < 1 || c.Days < 1:
		return errors.New("corpus: accounts and days must be positive")
	case c.MinPerFile < 1 || c.MaxPerFile < c.MinPerFile:
		return fmt.Errorf("corpus: records per file %d..%d: want 1 <= min <= max", c.MinPerFile, c.MaxPerFile)
	}
	return nil
}

// Manifest describes a generated corpus.
type Manifest struct {
	Version    int
	PoolDigest string
	Config     Config
	Accounts   []string
	Files      int
	Events     int64
	JSONBytes  int64 // decompressed
	GzipBytes  int64
	// MaxFileJSONBytes is the decompressed size of the largest file.
	MaxFileJSONBytes int64
	// From and To are the first day and the day after the last.
	From, To time.Time
	// Generated is how long writing the corpus took.
	Generated time.Duration
}

// File is one planned log file.
type File struct {
	Key     string
	Account string
	Region  string
	Time    time.Time // delivery time in the file name
	Records int
	seed    uint64
}

// Plan returns the accounts and the files of a corpus, in the order they
// were drawn (not sorted by key).
func Plan(cfg Config) ([]string, []File, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x706c616e)) // "plan"
	accounts := make([]string, 0, cfg.Accounts)
	seen := map[string]bool{}
	for len(accounts) < cfg.Accounts {
		a := fmt.Sprintf("%012d", 100_000_000_000+rng.Int64N(900_000_000_000))
		if !seen[a] {
			seen[a] = true
			accounts = append(accounts, a)
		}
	}
	var files []File
	for left := cfg.Events; left > 0; {
		n := cfg.MinPerFile + rng.IntN(cfg.MaxPerFile-cfg.MinPerFile+1)
		n = min(n, left)
		left -= n
		acct := accounts[rng.IntN(len(accounts))]
		region := cfg.Regions[rng.IntN(len(cfg.Regions))]
		day := cfg.Start.AddDate(0, 0, rng.IntN(cfg.Days))
		// Deliveries every five minutes from 00:15 to 23:55, so that every
		// event, up to 15 minutes older than its file, is on the file's day.
		t := day.Add(15*time.Minute + time.Duration(rng.IntN((24*60-20)/5+1))*5*time.Minute)
		files = append(files, File{
			Key:     ObjectKey(rng, acct, region, t),
			Account: acct,
			Region:  region,
			Time:    t,
			Records: n,
			seed:    uint64(len(files)) + 1,
		})
	}
	return accounts, files, nil
}

// ObjectKey returns a CloudTrail log key for a file delivered at t:
// AWSLogs/<acct>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<acct>_CloudTrail_<region>_<yyyymmddThhmmZ>_<16 alnum>.json.gz
func ObjectKey(rng *rand.Rand, account, region string, t time.Time) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var unique [16]byte
	for i := range unique {
		unique[i] = alnum[rng.IntN(len(alnum))]
	}
	t = t.UTC()
	return path.Join("AWSLogs", account, "CloudTrail", region, t.Format("2006/01/02"),
		fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", account, region, t.Format("20060102T1504Z"), unique[:]))
}

// NewUUID returns a random (version 4) UUID drawn from rng.
func NewUUID(rng *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// WriteDocument writes a {"Records":[...]} document of n records drawn
// from the pool with rng, delivered for account and region at fileTime:
// every record gets a fresh event id, an event time up to 15 minutes before
// fileTime (not before its day) and the account and region. It returns the
// bytes written.
func (p *Pool) WriteDocument(w io.Writer, rng *rand.Rand, n int, account, region string, fileTime time.Time) (int64, error) {
	if len(p.templates) == 0 {
		return 0, errEmptyPool
	}
	fileTime = fileTime.UTC()
	y, m, d := fileTime.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, `{"Records":[`...)
	var written int64
	vals := slotValues{region: region, account: account}
	for i := range n {
		if i > 0 {
			buf = append(buf, ',')
		}
		vals.eventID = NewUUID(rng)
		vals.time = fileTime.Add(-time.Duration(rng.IntN(15*60)) * time.Second)
		if vals.time.Before(day) {
			vals.time = day
		}
		buf = p.templates[rng.IntN(len(p.templates))].append(buf, &vals)
		if len(buf) >= 32<<10 {
			k, err := w.Write(buf)
			written += int64(k)
			if err != nil {
				return written, err
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, "]}"...)
	k, err := w.Write(buf)
	written += int64(k)
	return written, err
}

// GzipDocument is WriteDocument into a gzip stream: it returns the
// compressed document and its decompressed size.
func (p *Pool) GzipDocument(rng *rand.Rand, n int, account, region string, fileTime time.Time) ([]byte, int64, error) {
	var out bytesBuffer
	zw := gzip.NewWriter(&out)
	size, err := p.WriteDocument(zw, rng, n, account, region, fileTime)
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, 0, fmt.Errorf("gzip document: %w", err)
	}
	return out.b, size, nil
}

// bytesBuffer is the smallest io.Writer into a slice.
type bytesBuffer struct{ b []byte }

func (b *bytesBuffer) Write(p []byte) (int, error) {
	b.b = append(b.b, p...)
	return len(p), nil
}

// ReadManifest reads the manifest of the corpus in dir.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("read corpus manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read corpus manifest %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return &m, nil
}

// Ensure returns the corpus of cfg in dir, generating it unless dir holds
// one made from the same configuration, pool and generator version. cached
// says it was already there.
func Ensure(ctx context.Context, cfg Config, p *Pool, dir string, workers int) (m *Manifest, cached bool, err error) {
	cfg = cfg.withDefaults()
	if old, err := ReadManifest(dir); err == nil && old.Version == Version && old.PoolDigest == p.Digest() &&
		sameConfig(old.Config, cfg) {
		return old, true, nil
	}
	m, err = Generate(ctx, cfg, p, dir, workers)
	return m, false, err
}

func sameConfig(a, b Config) bool {
	return a.Events == b.Events && a.Seed == b.Seed && a.Accounts == b.Accounts && reflect.DeepEqual(a.Regions, b.Regions) &&
		a.Days == b.Days && a.Start.Equal(b.Start) && a.MinPerFile == b.MinPerFile && a.MaxPerFile == b.MaxPerFile
}

// Generate writes the corpus of cfg into dir (its AWSLogs/ folder and
// manifest are replaced), gzipping workers files at a time (default: one
// per CPU).
func Generate(ctx context.Context, cfg Config, p *Pool, dir string, workers int) (*Manifest, error) {
	start := time.Now()
	cfg = cfg.withDefaults()
	accounts, files, err := Plan(cfg)
	if err != nil {
		return nil, err
	}
	if p.Len() == 0 {
		return nil, errEmptyPool
	}
	for _, stale := range []string{ManifestName, "AWSLogs"} {
		if err := os.RemoveAll(filepath.Join(dir, stale)); err != nil {
			return nil, fmt.Errorf("corpus: remove old corpus: %w", err)
		}
	}
	m := &Manifest{
		Version:    Version,
		PoolDigest: p.Digest(),
		Config:     cfg,
		Accounts:   accounts,
		Files:      len(files),
		From:       cfg.Start,
		To:         cfg.Start.AddDate(0, 0, cfg.Days),
	}
	var jsonBytes, gzipBytes, maxFile atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(workers, runtime.NumCPU()))
	for _, f := range files {
		m.Events += int64(f.Records)
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			js, gz, err := p.writeFile(dir, cfg.Seed, f)
			if err != nil {
				return err
			}
			jsonBytes.Add(js)
			gzipBytes.Add(gz)
			for cur := maxFile.Load(); js > cur && !maxFile.CompareAndSwap(cur, js); cur = maxFile.Load() {
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	m.JSONBytes, m.GzipBytes, m.MaxFileJSONBytes = jsonBytes.Load(), gzipBytes.Load(), maxFile.Load()
	m.Generated = time.Since(start)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("corpus: encode manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestName), append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("corpus: write manifest: %w", err)
	}
	return m, nil
}

// writeFile writes one planned file and returns its decompressed and
// compressed sizes.
func (p *Pool) writeFile(dir string, seed uint64, f File) (jsonBytes, gzipBytes int64, err error) {
	name := filepath.Join(dir, filepath.FromSlash(f.Key))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return 0, 0, fmt.Errorf("corpus: %w", err)
	}
	tmp := name + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return 0, 0, fmt.Errorf("corpus: %w", err)
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(out, 256<<10)
	zw := gzip.NewWriter(bw)
	rng := rand.New(rand.NewPCG(seed, f.seed))
	jsonBytes, err = p.WriteDocument(zw, rng, f.Records, f.Account, f.Region, f.Time)
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("corpus: write %s: %w", f.Key, err)
	}
	fi, err := out.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("corpus: %w", err)
	}
	if err := out.Close(); err != nil {
		return 0, 0, fmt.Errorf("corpus: close %s: %w", f.Key, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return 0, 0, fmt.Errorf("corpus: %w", err)
	}
	return jsonBytes, fi.Size(), nil
}
