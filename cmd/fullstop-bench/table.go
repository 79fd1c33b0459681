package main

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/cmd/fullstop-bench/internal/corpus"
)

// printThroughput prints the first table, in Markdown: one row per run and
// worker count, with each run's throughput against run 1's.
func printThroughput(w io.Writer, m *corpus.Manifest, rows []row, duckdbForm, load string) {
	fmt.Fprintf(w, "\nThroughput over the same %s events (%s MB of JSON) on %d CPUs (load average %s before, %s after): "+
		"wall time of the whole process, its CPU time (user+system) and peak RSS from getrusage:\n\n",
		thousands(m.Events), mb(m.JSONBytes), runtime.NumCPU(), load, loadAverage())
	t := &table{left: 2, header: []string{"workers", "run", "wall", "CPU", "events/s", "MB/s of JSON", "peak RSS", "(1) ÷ run"}}
	first := map[int]float64{} // events/s of run 1 by workers
	for _, r := range rows {
		if r.n == 1 {
			first[r.workers] = float64(m.Events) / r.m.Wall.Seconds()
		}
	}
	var notes []string
	for _, r := range rows {
		secs := r.m.Wall.Seconds()
		eps := float64(m.Events) / secs
		ratio := ""
		if f, ok := first[r.workers]; ok && r.n != 1 {
			ratio = fmt.Sprintf("%.2f", f/eps)
		}
		label := fmt.Sprintf("(%d) %s", r.n, r.label)
		if r.problem != "" {
			label += " ⚠"
			notes = append(notes, fmt.Sprintf("⚠ (%d) with %d workers: %s", r.n, r.workers, r.problem))
		}
		t.add(strconv.Itoa(r.workers), label, r.m.Wall.Round(10*time.Millisecond).String(), r.m.CPU.Round(10*time.Millisecond).String(), thousands(int64(eps)),
			fmt.Sprintf("%.1f", float64(m.JSONBytes)/1e6/secs), fmt.Sprintf("%d MB", r.m.MaxRSS>>20), ratio)
	}
	t.write(w)
	fmt.Fprintf(w, "\n(1) ÷ run: run 1's events/s divided by the run's; below 1 means fullstop is slower. Workers are DuckDB's threads for (3) and (5).\n")
	for _, f := range []struct {
		n    int
		form string
	}{{3, duckdbForm}, {5, firstDuckDBForm}} {
		if q, err := duckdbQuery(f.form, "<corpus>", duckdbMaxObject(m)); err == nil {
			fmt.Fprintf(w, "DuckDB query (%d) (form %q): %s\n", f.n, f.form, q)
		}
	}
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
}

// printSteady prints the second table.
func printSteady(w io.Writer, results []*steadyResult) {
	fmt.Fprintf(w, "\nSteady state: `fullstop run --lookback %s` over MinIO (%d accounts × %d regions × %d files a day, %d records each) after a first run filled the ledger and %d new files arrived; requests counted by a proxy:\n\n",
		steadyLookback, len(steadyAccounts), len(steadyRegions), steadyFilesPerDay, steadyRecords, steadyNewFiles)
	t := &table{left: 1, header: []string{"history in the bucket", "objects", "new objects", "LIST", "GET", "other requests", "objects processed", "wall"}}
	var notes []string
	for _, r := range results {
		other := 0
		for k, v := range r.requests {
			if k != reqList && k != reqGet {
				other += v
			}
		}
		label := fmt.Sprintf("%d days", r.days)
		if r.days == 1 {
			label = "1 day"
		}
		if r.problem != "" {
			label += " ⚠"
			notes = append(notes, fmt.Sprintf("⚠ %d days: %s", r.days, r.problem))
		}
		t.add(label, thousands(int64(r.objects)), strconv.Itoa(steadyNewFiles), strconv.Itoa(r.requests[reqList]),
			strconv.Itoa(r.requests[reqGet]), strconv.Itoa(other), strconv.Itoa(r.summary.processed), r.meas.Wall.Round(10*time.Millisecond).String())
	}
	t.write(w)
	for _, r := range results {
		fmt.Fprintf(w, "\nFirst run (%s of history, filling the ledger): %d LIST, %d GET.", plural(r.days, "day"), r.fill[reqList], r.fill[reqGet])
	}
	fmt.Fprintln(w)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
}

// table is a Markdown table with aligned columns: the first left ones
// aligned left, the others right.
type table struct {
	left   int
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	widths := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i < t.left {
				fmt.Fprintf(&b, " %s%s |", c, pad)
			} else {
				fmt.Fprintf(&b, " %s%s |", pad, c)
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(t.header)
	sep := make([]string, len(t.header))
	for i := range sep {
		sep[i] = strings.Repeat("-", widths[i])
		if i >= t.left && widths[i] > 0 {
			sep[i] = sep[i][:len(sep[i])-1] + ":"
		}
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
}

// thousands formats n with "," between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// mb formats a byte count in megabytes (10^6).
func mb(n int64) string { return fmt.Sprintf("%.0f", float64(n)/1e6) }

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// printWindows prints the third table: the listing cost of a backfill
// window over the corpus bucket.
func printWindows(w io.Writer, m *corpus.Manifest, results []*windowResult) {
	fmt.Fprintf(w, "\nBackfill windows over the corpus in MinIO (%d accounts × %d regions, logs on %s), ending on its last day: "+
		"a first run processes the corpus, a second one finds it all done; requests counted by a proxy:\n\n",
		len(m.Accounts), len(m.Config.Regions), plural(m.Config.Days, "day"))
	t := &table{left: 2, header: []string{"window", "run", "LIST", "GET", "objects listed", "objects processed", "wall", "LIST ÷ first row's"}}
	var notes []string
	var firstLists [2]int
	for i, r := range results {
		label := r.label
		if r.problem != "" {
			label += " ⚠"
			notes = append(notes, fmt.Sprintf("⚠ %s: %s", r.label, r.problem))
		}
		for j, run := range []struct {
			name string
			req  map[string]int
			s    batchSummary
			m    *measurement
		}{{"first", r.first, r.firstS, r.firstM}, {"second", r.second, r.secondS, r.secondM}} {
			ratio := ""
			if i == 0 {
				firstLists[j] = run.req[reqList]
			} else if firstLists[j] > 0 {
				ratio = fmt.Sprintf("%.2f", float64(run.req[reqList])/float64(firstLists[j]))
			}
			t.add(label, run.name, thousands(int64(run.req[reqList])), thousands(int64(run.req[reqGet])),
				thousands(int64(run.s.listed)), thousands(int64(run.s.processed)), run.m.Wall.Round(10*time.Millisecond).String(), ratio)
		}
	}
	t.write(w)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
}
