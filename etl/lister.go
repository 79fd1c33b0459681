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
	Objects     int // objects the day-folder listings returned
	SkippedKeys int // of those, objects that are not log files (ErrNotLogKey)
}

// Lister finds the log objects of a time range. It walks CloudTrail's key
// layout instead of listing the whole bucket: one delimiter LIST of
// "<prefix>/AWSLogs/" finds the accounts and organization ids (one more per
// organization finds its accounts), one per account finds the regions, and
// one per account, region and day lists the day folders that overlap the
// range. The number of LIST calls depends on accounts × regions × days in
// the range, never on how much history the bucket holds.
//
// The fields are read by ListRange and must not change while it runs.
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
	// Log receives debug logs; nil discards them.
	Log *slog.Logger

	mu    sync.Mutex
	stats ListStats
}

// Stats returns the counts of the most recent ListRange call.
func (l *Lister) Stats() ListStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// trail is one account's log folder: AWSLogs/[<org>/]<account>/.
type trail struct{ org, account string }

// listRun is the state of one ListRange call.
type listRun struct {
	l     *Lister
	log   *slog.Logger
	calls atomic.Int64
}

// list calls Source.List and counts the call.
func (r *listRun) list(ctx context.Context, prefix string) (Listing, error) {
	r.calls.Add(1)
	ls, err := r.l.Source.List(ctx, prefix, "/")
	if err != nil {
		return Listing{}, fmt.Errorf("list %q: %w", prefix, err)
	}
	return ls, nil
}

// ListRange returns every log object whose key time (Key.Time) is in
// [from, to), sorted by object key. Objects that are not log files are
// skipped and counted in Stats.
func (l *Lister) ListRange(ctx context.Context, from, to time.Time) ([]Candidate, error) {
	r := &listRun{l: l, log: l.Log}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	var stats ListStats
	defer func() {
		stats.ListCalls = int(r.calls.Load())
		l.mu.Lock()
		l.stats = stats
		l.mu.Unlock()
	}()
	if l.Source == nil {
		return nil, errors.New("list range: no source")
	}
	for _, a := range l.Accounts {
		if !IsAccountID(a) {
			return nil, fmt.Errorf("list range: account %q is not a 12-digit account id", a)
		}
	}
	for _, reg := range l.Regions {
		if reg == "" || strings.Contains(reg, "/") {
			return nil, fmt.Errorf("list range: bad region %q", reg)
		}
	}
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, nil
	}
	days := daysOverlapping(from, to)

	trails, err := r.trails(ctx)
	if err != nil {
		return nil, err
	}
	type folder struct {
		trail
		region string
	}
	var (
		mu      sync.Mutex
		folders []folder
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(l.Concurrency, DefaultListConcurrency))
	for _, tr := range trails {
		if len(l.Regions) > 0 { // no discovery
			for _, reg := range dedupe(l.Regions) {
				folders = append(folders, folder{tr, reg})
			}
			continue
		}
		g.Go(func() error { // no folders are appended outside the group
			ls, err := r.list(gctx, AccountPrefix(l.Prefix, tr.org, tr.account))
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range ls.Prefixes {
				if reg := lastElem(p); reg != "" {
					folders = append(folders, folder{tr, reg})
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}

	var out []Candidate
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(l.Concurrency, DefaultListConcurrency))
	for _, f := range folders {
		for _, d := range days {
			g.Go(func() error {
				prefix := DayPrefix(l.Prefix, f.org, f.account, f.region, d)
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
						r.log.Debug("skipped key", "key", o.Key, "reason", err)
						continue
					}
					if !k.Time.Before(from) && k.Time.Before(to) {
						out = append(out, Candidate{Object: o, Key: k})
					}
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("list days: %w", err)
	}
	slices.SortFunc(out, func(a, b Candidate) int { return strings.Compare(a.Object.Key, b.Object.Key) })
	r.log.Debug("listed range", "source", l.Source.String(), "from", from, "to", to,
		"trails", len(trails), "folders", len(folders), "days", len(days), "list_calls", r.calls.Load(),
		"objects", stats.Objects, "skipped_keys", stats.SkippedKeys, "candidates", len(out))
	return out, nil
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
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(l.Concurrency, DefaultListConcurrency))
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

// daysOverlapping returns the UTC midnights of the days that overlap
// [from, to); from is before to.
func daysOverlapping(from, to time.Time) []time.Time {
	y, m, d := from.Date()
	var days []time.Time
	for day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); day.Before(to); day = day.AddDate(0, 0, 1) {
		days = append(days, day)
	}
	return days
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
