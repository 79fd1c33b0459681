package store

import (
	"context"
	_ "embed"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
)

var (
	//go:embed query/correlation_held.sql
	correlationHeldSQL string
	//go:embed query/correlation_drop.sql
	correlationDropSQL string
	//go:embed query/correlation_totals.sql
	correlationTotalsSQL string
	//go:embed query/correlation_refresh.sql
	correlationRefreshSQL string
	//go:embed query/correlation_samples.sql
	correlationSamplesSQL string
)

// correlationLockClass is the first key of the transaction-level advisory
// locks on correlation windows (pg_advisory_xact_lock(int4, int4), a key
// space apart from the one-bigint locks of migrations and jobs); the
// second is a hash of the window.
const correlationLockClass = 0x46530001

// windowPart is what one object adds to one window: its matches, and the
// earliest of them.
type windowPart struct {
	w      rules.Window
	object string
	events int
	sample rules.Violation
}

// windowTotal is a window's stored count and its earliest match.
type windowTotal struct {
	events int
	sample rules.Violation // EventID, MetaInfo, ObjectKey
}

// writeCorrelations counts the matches of correlation rules (violations
// with Correlation set) of the objects objects in tx, and returns the
// violations of the windows whose count reached the threshold with this
// commit, to be inserted. What an earlier processing of these objects
// counted is replaced. The stored violations of windows that had reached
// it before get the new count and earliest match, so that what is stored
// does not depend on the order the objects come in. The windows are locked
// in hash order, so two writers adding to one window count one after the
// other, and each sees what the other added.
func writeCorrelations(ctx context.Context, tx pgx.Tx, objects []string, matches []rules.Violation) ([]rules.Violation, error) {
	// The window's fields are cleaned here; a sample's event id and meta
	// only when it is stored (insertCounts).
	cleaned := make([]rules.Violation, len(matches))
	for i, m := range matches {
		m.Type, m.AccountID, m.Region, m.InstanceID, m.ObjectKey =
			cleanText(m.Type), cleanText(m.AccountID), cleanText(m.Region), cleanText(m.InstanceID), cleanText(m.ObjectKey)
		cleaned[i] = m
	}
	// One part a window and object: the engine's matches come tallied,
	// others are tallied here.
	var parts []windowPart
	corr := map[rules.Window]rules.Violation{} // a match of the window, for its rule
	for _, m := range rules.Tally(cleaned) {
		w := rules.WindowOf(m)
		parts = append(parts, windowPart{w: w, object: m.ObjectKey, events: m.MatchCount(), sample: m})
		corr[w] = m
	}
	// The objects whose counts this commit writes: the group's, and any
	// a match names besides (the engine names the group's own).
	objects = slices.Clone(objects)
	own := make(map[string]bool, len(objects))
	for _, o := range objects {
		own[o] = true
	}
	for _, p := range parts {
		if !own[p.object] {
			own[p.object] = true
			objects = append(objects, p.object)
		}
	}
	prev, err := heldWindows(ctx, tx, objects)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 && len(prev) == 0 {
		return nil, nil
	}
	locks := make([]int32, 0, len(corr)+len(prev))
	for w := range corr {
		locks = append(locks, windowLock(w))
	}
	for _, w := range prev {
		locks = append(locks, windowLock(w))
	}
	slices.Sort(locks)
	if _, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock($1, k)) FROM unnest($2::int4[]) AS k`,
		int32(correlationLockClass), slices.Compact(locks)); err != nil {
		return nil, fmt.Errorf("lock correlation windows: %w", err)
	}
	ours, err := dropCounts(ctx, tx, objects)
	if err != nil {
		return nil, err
	}
	added := map[rules.Window]int{}
	for _, p := range parts {
		added[p.w] += p.events
	}
	if err := insertCounts(ctx, tx, parts); err != nil {
		return nil, err
	}
	windows := make([]rules.Window, 0, len(corr))
	for w := range corr {
		windows = append(windows, w)
	}
	slices.SortFunc(windows, rules.Window.Compare)
	totals, err := windowTotals(ctx, tx, windows)
	if err != nil {
		return nil, err
	}
	var full []rules.Window // the windows at their threshold
	for _, w := range windows {
		if totals[w].events >= corr[w].Correlation.Threshold {
			full = append(full, w)
		}
	}
	if err := sampleMetas(ctx, tx, full, totals); err != nil {
		return nil, err
	}
	var reached, refresh []rules.Violation
	for _, w := range full {
		m, t := corr[w], totals[w]
		before, after := t.events-added[w]+ours[w], t.events
		t.sample.Rule = m.Rule
		v := rules.CorrelationViolation(m.Correlation, w, after, t.sample)
		if before < m.Correlation.Threshold {
			reached = append(reached, v)
		} else {
			refresh = append(refresh, v)
		}
	}
	missing, err := refreshViolations(ctx, tx, refresh)
	if err != nil {
		return nil, err
	}
	return append(reached, missing...), nil
}

// refreshViolations writes the meta_info of vs over that of the stored
// violations with their identities, and returns those of vs not stored.
func refreshViolations(ctx context.Context, tx pgx.Tx, vs []rules.Violation) ([]rules.Violation, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	cols := make([][]string, 6)
	for _, v := range vs {
		for i, s := range []string{v.Type, v.AccountID, v.Region, v.EventID, v.InstanceID, v.MetaInfo} {
			cols[i] = append(cols[i], cleanText(s))
		}
	}
	rows, err := tx.Query(ctx, correlationRefreshSQL, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5])
	if err != nil {
		return nil, fmt.Errorf("update correlation violations: %w", err)
	}
	found := map[[5]string]bool{}
	var k [5]string
	if _, err := pgx.ForEachRow(rows, []any{&k[3], &k[0], &k[1], &k[2], &k[4]}, func() error {
		found[k] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("update correlation violations: %w", err)
	}
	var out []rules.Violation
	for _, v := range vs {
		if !found[v.Key()] {
			out = append(out, v)
		}
	}
	return out, nil
}

// windowLock is the second key of w's advisory lock.
func windowLock(w rules.Window) int32 {
	h := fnv.New32a()
	for _, s := range []string{w.Type, w.AccountID, w.Region, w.Group, w.Start.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return int32(h.Sum32())
}

// heldWindows are the windows objects have counts in.
func heldWindows(ctx context.Context, tx pgx.Tx, objects []string) ([]rules.Window, error) {
	rows, err := tx.Query(ctx, correlationHeldSQL, objects)
	if err != nil {
		return nil, fmt.Errorf("read correlation counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rules.Window, error) {
		var w rules.Window
		err := r.Scan(&w.Type, &w.AccountID, &w.Region, &w.Group, &w.Start)
		w.Start = w.Start.UTC()
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("read correlation counts: %w", err)
	}
	return out, nil
}

// dropCounts deletes the counts of objects, and returns them by window.
func dropCounts(ctx context.Context, tx pgx.Tx, objects []string) (map[rules.Window]int, error) {
	rows, err := tx.Query(ctx, correlationDropSQL, objects)
	if err != nil {
		return nil, fmt.Errorf("replace correlation counts: %w", err)
	}
	return scanTotals(rows, "replace correlation counts")
}

// windowTotals are the stored counts of windows, summed over their
// objects, with their earliest match.
func windowTotals(ctx context.Context, tx pgx.Tx, windows []rules.Window) (map[rules.Window]windowTotal, error) {
	out := map[rules.Window]windowTotal{}
	if len(windows) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, correlationTotalsSQL, windowArrays(windows)...)
	if err != nil {
		return nil, fmt.Errorf("sum correlation counts: %w", err)
	}
	var w rules.Window
	var n int32
	var t windowTotal
	_, err = pgx.ForEachRow(rows, []any{&w.Type, &w.AccountID, &w.Region, &w.Group, &w.Start, &n,
		&t.sample.EventID, &t.sample.ObjectKey}, func() error {
		k := w
		k.Start = k.Start.UTC()
		t.events = int(n)
		out[k] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sum correlation counts: %w", err)
	}
	return out, nil
}

// sampleMetas reads the meta_info of the earliest match of each of
// windows into totals: only these windows' violations describe it.
func sampleMetas(ctx context.Context, tx pgx.Tx, windows []rules.Window, totals map[rules.Window]windowTotal) error {
	if len(windows) == 0 {
		return nil
	}
	objects := make([]string, len(windows))
	for i, w := range windows {
		objects[i] = totals[w].sample.ObjectKey
	}
	rows, err := tx.Query(ctx, correlationSamplesSQL, append(windowArrays(windows), objects)...)
	if err != nil {
		return fmt.Errorf("read correlation samples: %w", err)
	}
	var w rules.Window
	var meta string
	_, err = pgx.ForEachRow(rows, []any{&w.Type, &w.AccountID, &w.Region, &w.Group, &w.Start, &meta}, func() error {
		k := w
		k.Start = k.Start.UTC()
		t := totals[k]
		t.sample.MetaInfo = meta
		totals[k] = t
		return nil
	})
	if err != nil {
		return fmt.Errorf("read correlation samples: %w", err)
	}
	return nil
}

// windowArrays are the fields of windows as the array parameters of the
// queries: types, accounts, regions, groups, starts.
func windowArrays(windows []rules.Window) []any {
	var types, accounts, regions, groups []string
	var starts []time.Time
	for _, w := range windows {
		types, accounts, regions, groups = append(types, w.Type), append(accounts, w.AccountID), append(regions, w.Region), append(groups, w.Group)
		starts = append(starts, w.Start)
	}
	return []any{types, accounts, regions, groups, starts}
}

// scanTotals sums rows of (window, events) by window.
func scanTotals(rows pgx.Rows, what string) (map[rules.Window]int, error) {
	out := map[rules.Window]int{}
	var w rules.Window
	var n int32
	_, err := pgx.ForEachRow(rows, []any{&w.Type, &w.AccountID, &w.Region, &w.Group, &w.Start, &n}, func() error {
		k := w
		k.Start = k.Start.UTC()
		out[k] += int(n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// insertCounts stores rows.
func insertCounts(ctx context.Context, tx pgx.Tx, rows []windowPart) error {
	if len(rows) == 0 {
		return nil
	}
	src := make([][]any, len(rows))
	for i, r := range rows {
		src[i] = []any{r.w.Type, r.w.AccountID, r.w.Region, r.w.Group, r.w.Start, r.object, int32(r.events),
			r.sample.EventTime, cleanText(r.sample.EventID), cleanText(r.sample.MetaInfo)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"fullstop_data", "correlation_count"},
		[]string{"violation_type", "account_id", "region", "group_key", "window_start", "object_key", "events",
			"sample_time", "sample_event_id", "sample_meta"},
		pgx.CopyFromRows(src)); err != nil {
		return fmt.Errorf("store correlation counts: %w", err)
	}
	return nil
}

// splitMatches parts vs into the violations and the correlation matches
// (Correlation set).
func splitMatches(vs []rules.Violation) (plain, matches []rules.Violation) {
	for _, v := range vs {
		if v.Correlation != nil {
			matches = append(matches, v)
		}
	}
	if len(matches) == 0 {
		return vs, nil
	}
	plain = make([]rules.Violation, 0, len(vs)-len(matches))
	for _, v := range vs {
		if v.Correlation == nil {
			plain = append(plain, v)
		}
	}
	return plain, matches
}

// correlate counts the correlation matches for the objects of objs this
// commit owns, and returns the violations of the windows they make reach
// their threshold (writeCorrelations).
func (s *Store) correlate(ctx context.Context, tx pgx.Tx, objs []etl.ObjectDone, owned map[string]bool, matches []rules.Violation) ([]rules.Violation, error) {
	keys := make([]string, 0, len(objs))
	for _, o := range objs {
		if owned[o.Key] {
			keys = append(keys, cleanText(o.Key))
		}
	}
	return writeCorrelations(ctx, tx, keys, matches)
}
