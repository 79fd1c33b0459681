package etl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// DefaultListConcurrency is the default number of LIST calls a Lister has in
// flight.
const DefaultListConcurrency = 8

// Candidate is a log object found by a Lister, with its parsed key.
type Candidate struct {
	Object
	Key Key
}

// ListStats counts the work of one ListRange call.
type ListStats struct {
	ListCalls   int // Source.List calls
	DayFolders  int // of those, listings of day folders
	Objects     int // objects the day-folder listings returned
	SkippedKeys int // of those, objects that are not log files (ErrNotLogKey)
	// SkippedEntries counts the entries sources left out of their listings
	// (Listing.Skipped), such as symbolic links in a folder source.
	SkippedEntries int
}

// Lister finds the log objects of a time range. It walks CloudTrail's key
// layout instead of listing the whole bucket: one delimiter LIST of
// "<prefix>/AWSLogs/" finds the accounts and organization ids (one more per
// organization finds its accounts), one per account finds the regions, and
// then, per region, the day folders of the range are found and listed.
//
// A short range lists its day folders directly, one LIST each, without
// looking at the folders above them. A long range first lists the year
// folders that exist (and within them the month and day folders that
// exist) with delimiter listings, whenever that costs at most a tenth more
// LIST calls than listing every day, even if every day of the range has a
// folder (see dateWalk). So the number of LIST calls grows with the
// accounts, regions and existing folders in the range, never with how much
// history the bucket holds outside it, and a ten-year range over a few days
// of logs costs a few calls per region, not 3,653.
//
// A Lister is safe for concurrent use; its fields must not change while a
// ListRange call runs.
type Lister struct {
	Source Source
	// Prefix is the CloudTrail key prefix, the part before "AWSLogs/", with
	// or without its trailing "/"; "" for none.
	Prefix string
	// Accounts, if not empty, are the only accounts read; they are not
	// discovered, but organization ids still are (one LIST), and each
	// account is looked for directly under AWSLogs/ and in every
	// organization.
	Accounts []string
	// Regions, if not empty, are the only regions read; they are not
	// discovered.
	Regions []string
	// Concurrency is the number of LIST calls in flight; default
	// DefaultListConcurrency.
	Concurrency int
	// Log receives debug logs and a warning for each entry a listing
	// skipped (Listing.Skipped); nil discards them.
	Log *slog.Logger
}

// trail is one account's log folder: AWSLogs/[<org>/]<account>/.
type trail struct{ org, account string }

// listRun is the state of one ListRange call.
type listRun struct {
	l     *Lister
	log   *slog.Logger
	calls atomic.Int64

	mu      sync.Mutex
	skipped map[string]bool // entries left out by the source, logged once
}

// list calls Source.List and counts the call. Entries the source left out
// are logged, each once per run.
func (r *listRun) list(ctx context.Context, prefix string) (Listing, error) {
	r.calls.Add(1)
	ls, err := r.l.Source.List(ctx, prefix, "/")
	if err != nil {
		return Listing{}, fmt.Errorf("list %q: %w", prefix, err)
	}
	if len(ls.Skipped) > 0 {
		r.mu.Lock()
		for _, e := range ls.Skipped {
			if r.skipped[e.Key] {
				continue
			}
			if r.skipped == nil {
				r.skipped = make(map[string]bool)
			}
			r.skipped[e.Key] = true
			r.log.Warn("entry skipped", logSource, r.l.Source.String(), logKey, e.Key, logReason, e.Reason)
		}
		r.mu.Unlock()
	}
	return ls, nil
}

// group returns an errgroup limited to the lister's concurrency.
func (r *listRun) group(ctx context.Context) (*errgroup.Group, context.Context) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(r.l.Concurrency, DefaultListConcurrency))
	return g, gctx
}

// ListRange returns every log object whose key time (Key.Time) is in
// [from, to), sorted by object key, and what the listing cost. Objects that
// are not log files are skipped and counted in the statistics.
func (l *Lister) ListRange(ctx context.Context, from, to time.Time) ([]Candidate, ListStats, error) {
	r := &listRun{l: l, log: l.Log}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	out, stats, err := r.listRange(ctx, from, to)
	stats.ListCalls = int(r.calls.Load())
	stats.SkippedEntries = len(r.skipped)
	if err != nil {
		return nil, stats, err
	}
	return out, stats, nil
}

func (r *listRun) listRange(ctx context.Context, from, to time.Time) ([]Candidate, ListStats, error) {
	l := r.l
	var stats ListStats
	if l.Source == nil {
		return nil, stats, errors.New("list range: no source")
	}
	for _, a := range l.Accounts {
		if !IsAccountID(a) {
			return nil, stats, fmt.Errorf("list range: account %q is not a 12-digit account id", a)
		}
	}
	for _, reg := range l.Regions {
		if reg == "" || strings.Contains(reg, "/") {
			return nil, stats, fmt.Errorf("list range: bad region %q", reg)
		}
	}
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, stats, nil
	}
	trails, err := r.trails(ctx)
	if err != nil {
		return nil, stats, err
	}
	regions, err := r.regions(ctx, trails)
	if err != nil {
		return nil, stats, err
	}
	walk := newDateWalk(from, to)
	days, err := r.dayFolders(ctx, walk, regions)
	if err != nil {
		return nil, stats, fmt.Errorf("list date folders: %w", err)
	}
	stats.DayFolders = len(days)

	var (
		mu  sync.Mutex
		out []Candidate
	)
	g, gctx := r.group(ctx)
	for _, prefix := range days {
		g.Go(func() error {
			ls, err := r.list(gctx, prefix)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			stats.Objects += len(ls.Objects)
			for _, o := range ls.Objects {
				k, err := ParseKey(o.Key)
				if err != nil {
					stats.SkippedKeys++
					r.log.Debug("skipped key", logKey, o.Key, logReason, err)
					continue
				}
				if !k.Time.Before(from) && k.Time.Before(to) {
					out = append(out, Candidate{Object: o, Key: k})
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, stats, fmt.Errorf("list days: %w", err)
	}
	slices.SortFunc(out, func(a, b Candidate) int { return strings.Compare(a.Object.Key, b.Object.Key) })
	r.log.Debug("listed range", logSource, l.Source.String(), logFrom, from, logTo, to,
		logTrails, len(trails), logRegions, len(regions), logDayFolders, len(days), logListCalls, r.calls.Load(),
		logObjects, stats.Objects, logSkippedKeys, stats.SkippedKeys, logCandidates, len(out))
	return out, stats, nil
}

// regions returns the region folders of the trails: the configured regions,
// or those a LIST of each trail finds.
func (r *listRun) regions(ctx context.Context, trails []trail) ([]string, error) {
	l := r.l
	var (
		mu  sync.Mutex
		out []string
	)
	if len(l.Regions) > 0 { // no discovery
		for _, tr := range trails {
			for _, reg := range dedupe(l.Regions) {
				out = append(out, RegionPrefix(l.Prefix, tr.org, tr.account, reg))
			}
		}
		return out, nil
	}
	g, gctx := r.group(ctx)
	for _, tr := range trails {
		g.Go(func() error {
			prefix := AccountPrefix(l.Prefix, tr.org, tr.account)
			ls, err := r.list(gctx, prefix)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range ls.Prefixes {
				if reg := lastElem(p); reg != "" {
					out = append(out, prefix+reg+"/")
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// dayFolders returns the day folders of the walk's range below the region
// folders: a region, year or month folder the walk lists is listed with a
// delimiter and only its sub-folders that exist are followed; one it does
// not list stands for all its days in the range.
func (r *listRun) dayFolders(ctx context.Context, walk *dateWalk, regions []string) ([]string, error) {
	var days []string
	frontier := make([]dateFolder, 0, len(regions))
	for _, p := range regions {
		frontier = append(frontier, dateFolder{prefix: p, region: p, level: levelRegion})
	}
	for len(frontier) > 0 {
		var (
			mu   sync.Mutex
			next []dateFolder
		)
		g, gctx := r.group(ctx)
		for _, f := range frontier {
			if f.level == levelDay {
				days = append(days, f.prefix)
				continue
			}
			if !walk.lists(f) {
				days = append(days, walk.days(f)...)
				continue
			}
			g.Go(func() error {
				ls, err := r.list(gctx, f.prefix)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				for _, p := range ls.Prefixes {
					if c, ok := walk.child(f, p); ok {
						next = append(next, c)
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		frontier = next
	}
	return days, nil
}

// trails finds the account folders to read.
func (r *listRun) trails(ctx context.Context) ([]trail, error) {
	l := r.l
	root := LogsPrefix(l.Prefix)
	ls, err := r.list(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	var direct, orgs []string
	for _, p := range ls.Prefixes {
		switch e := lastElem(p); {
		case IsAccountID(e):
			direct = append(direct, e)
		case IsOrgID(e):
			orgs = append(orgs, e)
		}
	}
	var out []trail
	if len(l.Accounts) > 0 {
		want := dedupe(l.Accounts)
		for _, a := range want {
			if slices.Contains(direct, a) {
				out = append(out, trail{account: a})
			}
		}
		for _, o := range orgs {
			for _, a := range want {
				out = append(out, trail{org: o, account: a})
			}
		}
		return out, nil
	}
	for _, a := range direct {
		out = append(out, trail{account: a})
	}
	var mu sync.Mutex
	g, gctx := r.group(ctx)
	for _, o := range orgs {
		g.Go(func() error {
			ls, err := r.list(gctx, root+o+"/")
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range ls.Prefixes {
				if a := lastElem(p); IsAccountID(a) {
					out = append(out, trail{org: o, account: a})
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("list organization accounts: %w", err)
	}
	return out, nil
}

// lastElem returns the last element of a common prefix ("a/b/c/" → "c").
func lastElem(prefix string) string {
	p := strings.TrimSuffix(prefix, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}

// dedupe returns s without repeated or empty strings, in order.
func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
