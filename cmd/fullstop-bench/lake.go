package main

// The events lake part (--skip lake): on the same corpus,
//
//  1. fullstop backfill with --lake against the same without it, run after
//     run alternating, each into a fresh database;
//  2. the size of the lake the last of those wrote, before and after
//     fullstop lake compact, against the gzip JSON corpus;
//  3. three questions asked of the lake with fullstop query and of the
//     gzip JSON files with DuckDB's read_json (the duckdb-query
//     subcommand), each a whole process timed by its wall clock, their
//     answers compared;
//  4. the start of fullstop sql over the lake.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Targets of the lake part. Missing one prints MISS; it is never an error.
const (
	lakeTargetThroughput = 0.75 // backfill events/s with --lake ÷ without, at least
	lakeTargetSize       = 0.6  // lake bytes ÷ gzip JSON corpus bytes, at most
	lakeTargetSpeedup    = 10.0 // read_json wall ÷ lake wall, at least
	lakeTargetShell      = time.Second
	// lakeLookback is compact's --lookback: short, so that every day of
	// the corpus (in the past) is compacted.
	lakeLookback     = time.Hour
	lakeLookbackFlag = "1h"
)

// lakeBackfill is one backfill of the throughput comparison.
type lakeBackfill struct {
	lake bool
	m    *measurement
}

// lakeSize is the lake's files at one time.
type lakeSize struct {
	files int   // .parquet files
	bytes int64 // every regular file
}

// lakeQuestion is one question asked of both the lake and read_json.
type lakeQuestion struct {
	name       string
	label      string
	lakeQ      string // fullstop query's SQL over the view events
	jsonQ      string // DuckDB's SQL over read_json
	peer       string // what jsonQ reads
	info       bool   // no target: the ratio is for information
	rows       int
	sum        int64           // sum of the last column when it counts, else -1
	answer     [][]string      // the lake's rows
	lake       []time.Duration // compacted lake
	raw        []time.Duration // uncompacted lake
	json       []time.Duration
	engine     time.Duration // fullstop query's own time of the statement (median), from its stderr
	jsonEngine time.Duration // duckdb-query's own time of the statement (median), likewise
}

// lakeResult is what the lake part measured.
type lakeResult struct {
	backfills   map[int][]lakeBackfill // by workers
	before      lakeSize
	after       lakeSize
	compact     *measurement
	compactText string
	questions   []*lakeQuestion
	day         string
	account     string
	key         string
	shell       []time.Duration
	shellCmd    string
	shellNote   string
	problems    []string
	load        string
	threads     int
}

// lakeDir is the folder the lake part writes its lake to.
func (e *env) lakeDir() (string, error) {
	return filepath.Abs(filepath.Join(e.o.dir, "lake"))
}

// lake runs the lake part.
func (e *env) lake(ctx context.Context) (*lakeResult, error) {
	r := &lakeResult{backfills: map[int][]lakeBackfill{}, load: loadAverage(), threads: runtime.NumCPU()}
	dir, err := e.lakeDir()
	if err != nil {
		return nil, err
	}
	runs := e.o.lakeRuns

	// 1. Throughput, alternating without and with the lake; the lake of
	// the last run with it is the one measured afterwards.
	for _, w := range e.o.workers {
		for i := range runs {
			for _, withLake := range []bool{false, true} {
				source, label := []string{"--source", e.dir}, "nolake"
				if withLake {
					if err := os.RemoveAll(dir); err != nil {
						return nil, err
					}
					source, label = append(source, "--lake", dir), "lake"
				}
				m, problem, err := e.backfill(ctx, label, w, source, nil)
				if err != nil {
					return nil, fmt.Errorf("backfill (lake %v), %d workers, run %d: %w", withLake, w, i+1, err)
				}
				if problem != "" {
					r.problems = append(r.problems, fmt.Sprintf("backfill (lake %v), %d workers, run %d: %s", withLake, w, i+1, problem))
				}
				e.o.log.Info("measured lake backfill", "lake", withLake, logWorkers, w, logWall, m.Wall.Round(time.Millisecond),
					logEventsPerS, int64(float64(e.corpus.Events)/m.Wall.Seconds()))
				r.backfills[w] = append(r.backfills[w], lakeBackfill{lake: withLake, m: m})
			}
		}
	}

	// The lake holds every event once.
	if n, err := e.lakeCount(ctx, dir); err != nil {
		return nil, err
	} else if n != e.corpus.Events {
		r.problems = append(r.problems, fmt.Sprintf("the lake holds %d events after backfill, the corpus %d", n, e.corpus.Events))
	}
	if r.before, err = sizeOfLake(dir); err != nil {
		return nil, err
	}

	// The questions: a day and an account (the busiest of the corpus's
	// middle day) and an access key id (the rarest) chosen from the lake,
	// outside the measurements.
	day := e.corpus.From.AddDate(0, 0, e.corpus.Config.Days/2)
	r.day = day.Format(time.DateOnly)
	rows, err := e.lakeQuery(ctx, dir, fmt.Sprintf("SELECT account FROM events WHERE date = DATE '%s' GROUP BY account ORDER BY count(*) DESC, account LIMIT 1", r.day))
	if err != nil || len(rows) != 1 {
		return nil, fmt.Errorf("choose an account of %s: %v (%d rows)", r.day, err, len(rows))
	}
	r.account = rows[0][0]
	rows, err = e.lakeQuery(ctx, dir, "SELECT user_identity_access_key_id FROM events WHERE user_identity_access_key_id IS NOT NULL "+
		"GROUP BY 1 ORDER BY count(*), 1 LIMIT 1")
	if err != nil || len(rows) != 1 {
		return nil, fmt.Errorf("choose an access key id: %v (%d rows)", err, len(rows))
	}
	r.key = rows[0][0]
	r.questions = e.lakeQuestions(r.day, day, r.account, r.key)

	// 3, on the uncompacted lake, for information.
	for _, q := range r.questions {
		if q.lakeQ == "" {
			continue
		}
		for range runs {
			m, _, err := e.timeLakeQuery(ctx, dir, q.lakeQ)
			if err != nil {
				return nil, fmt.Errorf("%s, uncompacted lake: %w", q.name, err)
			}
			q.raw = append(q.raw, m.Wall)
		}
	}

	// 2. Compaction.
	if !e.corpus.To.Before(time.Now().Add(-lakeLookback)) {
		r.problems = append(r.problems, fmt.Sprintf("the corpus ends %s, inside compact's --lookback %s: not every day is compacted", e.corpus.To.Format(time.DateOnly), lakeLookbackFlag))
	}
	r.compact, err = measure(ctx, e.o.log, childEnv(), e.o.fullstop, "--log-level", "warn", "lake", "compact", "--lake", dir, "--lookback", lakeLookbackFlag)
	if err != nil {
		return nil, err
	}
	r.compactText = compactSummary(r.compact.Stdout)
	if r.after, err = sizeOfLake(dir); err != nil {
		return nil, err
	}
	if n, err := e.lakeCount(ctx, dir); err != nil {
		return nil, err
	} else if n != e.corpus.Events {
		r.problems = append(r.problems, fmt.Sprintf("the lake holds %d events after compaction, the corpus %d", n, e.corpus.Events))
	}

	// 3. The questions, alternating the lake and read_json.
	for _, q := range r.questions {
		var lakeRows, jsonRows [][]string
		var engine, jsonEngine []time.Duration
		for range runs {
			if q.lakeQ != "" {
				m, got, err := e.timeLakeQuery(ctx, dir, q.lakeQ)
				if err != nil {
					return nil, fmt.Errorf("%s, lake: %w", q.name, err)
				}
				q.lake = append(q.lake, m.Wall)
				lakeRows = got
				if d, ok := engineTime(m.Stderr); ok {
					engine = append(engine, d)
				}
			}
			m, got, err := e.timeJSONQuery(ctx, q.jsonQ)
			if err != nil {
				return nil, fmt.Errorf("%s, read_json: %w", q.name, err)
			}
			q.json = append(q.json, m.Wall)
			jsonRows = got
			if d, ok := engineTime(m.Stderr); ok {
				jsonEngine = append(jsonEngine, d)
			}
			e.o.log.Info("measured lake question", "question", q.name, "lake", median(q.lake).Round(time.Millisecond),
				"read_json", m.Wall.Round(time.Millisecond))
		}
		q.engine, q.jsonEngine = median(engine), median(jsonEngine)
		q.rows, q.sum = len(jsonRows), sumLast(jsonRows)
		if q.lakeQ == "" {
			lakeRows = r.questionByName(strings.TrimSuffix(q.name, "′")).answer
		}
		q.answer = lakeRows
		if problem := sameRows(lakeRows, jsonRows); problem != "" {
			r.problems = append(r.problems, fmt.Sprintf("%s: the lake and read_json disagree: %s", q.name, problem))
		}
		if q.name == "(b)" && q.sum != e.corpus.Events {
			r.problems = append(r.problems, fmt.Sprintf("(b): the counts add up to %d, the corpus has %d events", q.sum, e.corpus.Events))
		}
		if q.rows == 0 {
			r.problems = append(r.problems, fmt.Sprintf("%s: no rows", q.name))
		}
	}

	// 4. The shell's start.
	r.shellCmd, r.shellNote = e.shellCommand(ctx, dir)
	for range runs {
		var m *measurement
		if r.shellNote == "" {
			m, err = measureInput(ctx, e.o.log, childEnv(), "SELECT 1;\n", e.o.fullstop, "--log-level", "warn", "sql", "--lake", dir)
		} else {
			m, err = measure(ctx, e.o.log, childEnv(), e.o.fullstop, "--log-level", "warn", "query", "--lake", dir, "SELECT 1")
		}
		if err != nil {
			return nil, fmt.Errorf("shell start: %w", err)
		}
		r.shell = append(r.shell, m.Wall)
	}
	return r, nil
}

func (r *lakeResult) questionByName(name string) *lakeQuestion {
	for _, q := range r.questions {
		if q.name == name {
			return q
		}
	}
	return &lakeQuestion{}
}

// lakeQuestions are the three questions, and (a) over the whole corpus
// with a filter on the file name, for information.
func (e *env) lakeQuestions(dayText string, day time.Time, account, key string) []*lakeQuestion {
	maxObject := duckdbMaxObject(e.corpus)
	all := filepath.ToSlash(filepath.Join(e.dir, "AWSLogs", "**", "*.json.gz"))
	// CloudTrail's folders: AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/.
	folder := filepath.ToSlash(filepath.Join(e.dir, "AWSLogs", account, "CloudTrail", "*", day.Format("2006/01/02"), "*.json.gz"))
	src := func(glob, fields string, more string) string {
		return fmt.Sprintf("read_json(%s, format='newline_delimited', records='true', columns={Records: 'STRUCT(%s)[]'}, maximum_object_size=%d%s)",
			sqlString(glob), fields, maxObject, more)
	}
	records := func(glob, fields string) string {
		return "(SELECT unnest(Records) AS r FROM " + src(glob, fields, "") + ")"
	}
	needleFields := "eventID VARCHAR, eventSource VARCHAR, eventName VARCHAR, sourceIPAddress VARCHAR, userIdentity STRUCT(accessKeyId VARCHAR)"
	return []*lakeQuestion{
		{
			name:  "(a)",
			label: fmt.Sprintf("one day (%s) and one account (%s): count by event_name", dayText, account),
			lakeQ: fmt.Sprintf("SELECT event_name, count(*) AS n FROM events WHERE date = DATE '%s' AND account = '%s' GROUP BY ALL ORDER BY ALL", dayText, account),
			jsonQ: "SELECT r.eventName AS event_name, count(*) AS n FROM " + records(folder, "eventName VARCHAR") + " GROUP BY ALL ORDER BY ALL",
			peer:  "glob of that account's folders of that day",
		},
		{
			name:  "(a)′",
			label: "the same, read_json over every file, filtered on the file name",
			jsonQ: fmt.Sprintf("SELECT r.eventName AS event_name, count(*) AS n FROM (SELECT unnest(Records) AS r FROM %s WHERE filename LIKE %s) GROUP BY ALL ORDER BY ALL",
				src(all, "eventName VARCHAR", ", filename=true"), sqlString("%/AWSLogs/"+account+"/CloudTrail/%/"+day.Format("2006/01/02")+"/%")),
			peer: "glob of every file, WHERE filename LIKE",
			info: true,
		},
		{
			name:  "(b)",
			label: "everything: count by event_source, event_name",
			lakeQ: "SELECT event_source, event_name, count(*) AS n FROM events GROUP BY ALL ORDER BY ALL",
			jsonQ: "SELECT r.eventSource AS event_source, r.eventName AS event_name, count(*) AS n FROM " + records(all, "eventSource VARCHAR, eventName VARCHAR") + " GROUP BY ALL ORDER BY ALL",
			peer:  "glob of every file",
		},
		{
			name:  "(c)",
			label: fmt.Sprintf("needle: every event of access key id %s", key),
			lakeQ: fmt.Sprintf("SELECT event_id, event_source, event_name, source_ip_address FROM events WHERE user_identity_access_key_id = '%s' ORDER BY ALL", key),
			jsonQ: fmt.Sprintf("SELECT r.eventID AS event_id, r.eventSource AS event_source, r.eventName AS event_name, r.sourceIPAddress AS source_ip_address FROM %s WHERE r.userIdentity.accessKeyId = '%s' ORDER BY ALL",
				records(all, needleFields), key),
			peer: "glob of every file",
		},
	}
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// lakeQuery runs fullstop query over the lake, unmeasured, and returns its
// rows without the header.
func (e *env) lakeQuery(ctx context.Context, dir, q string) ([][]string, error) {
	_, rows, err := e.timeLakeQuery(ctx, dir, q)
	return rows, err
}

// timeLakeQuery runs fullstop query -o csv over the lake.
func (e *env) timeLakeQuery(ctx context.Context, dir, q string) (*measurement, [][]string, error) {
	m, err := measure(ctx, e.o.log, childEnv(), e.o.fullstop, "--log-level", "warn", "query", "--lake", dir, "-o", "csv", q)
	if err != nil {
		return nil, nil, err
	}
	rows, err := csvRows(m.Stdout)
	return m, rows, err
}

// timeJSONQuery runs q in DuckDB in a subprocess (duckdb-query) with a
// thread a CPU, as fullstop query's DuckDB has.
func (e *env) timeJSONQuery(ctx context.Context, q string) (*measurement, [][]string, error) {
	m, err := measure(ctx, e.o.log, childEnv(), e.self, "duckdb-query", "--threads", strconv.Itoa(runtime.NumCPU()), q)
	if err != nil {
		return nil, nil, err
	}
	rows, err := csvRows(m.Stdout)
	return m, rows, err
}

func (e *env) lakeCount(ctx context.Context, dir string) (int64, error) {
	rows, err := e.lakeQuery(ctx, dir, "SELECT count(*) FROM events")
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("count the lake's events: %q", rows)
	}
	return strconv.ParseInt(rows[0][0], 10, 64)
}

// shellCommand says how the shell's start is measured: fullstop sql when
// it answers SELECT 1 read from a pipe, else fullstop query 'SELECT 1' as
// a stand-in, with a note why.
func (e *env) shellCommand(ctx context.Context, dir string) (cmd, note string) {
	m, err := measureInput(ctx, e.o.log, childEnv(), "SELECT 1;\n", e.o.fullstop, "--log-level", "warn", "sql", "--lake", dir)
	if err == nil && strings.Contains(m.Stdout, "1") {
		return "fullstop sql --lake DIR, SELECT 1; on a pipe", ""
	}
	why := "it printed no 1"
	if err != nil {
		why = strings.TrimSpace(tail(strings.SplitN(err.Error(), "\n", 2)[0]+": "+strings.TrimSpace(m.Stderr), 200))
	}
	return "fullstop query --lake DIR 'SELECT 1' (stand-in)", "fullstop sql is not ready (" + why + "); measured fullstop query --lake DIR 'SELECT 1' instead"
}

// measureInput is measure with stdin a pipe holding input.
func measureInput(ctx context.Context, log *slog.Logger, env []string, input, name string, args ...string) (*measurement, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(input) // not an *os.File: exec makes a pipe
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	log.Debug("running", logCmd, name, logArgs, args)
	start := time.Now()
	err := cmd.Run()
	m := &measurement{Wall: time.Since(start), Stdout: stdout.String(), Stderr: stderr.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.MaxRSS = ru.Maxrss * 1024
			m.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if err != nil {
		return m, fmt.Errorf("run %s %s: %w\n%s", name, strings.Join(args, " "), err, tail(m.Stdout+m.Stderr, 3000))
	}
	return m, nil
}

// sizeOfLake sums the sizes of the regular files below dir.
func sizeOfLake(dir string) (lakeSize, error) {
	var s lakeSize
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		s.bytes += fi.Size()
		if strings.HasSuffix(p, ".parquet") {
			s.files++
		}
		return nil
	})
	return s, err
}

var compactLines = regexp.MustCompile(`(?m)^\s+(partitions|files)\s+(.+)$`)

// compactSummary shortens compact's summary to its partitions and files.
func compactSummary(out string) string {
	var parts []string
	for _, m := range compactLines.FindAllStringSubmatch(out, -1) {
		parts = append(parts, m[1]+" "+m[2])
	}
	return strings.Join(parts, "; ")
}

var engineLine = regexp.MustCompile(`(?m)^\d+ rows? \(([^)]+)\)`)

// engineTime is the statement's time fullstop query printed to stderr.
func engineTime(stderr string) (time.Duration, bool) {
	m := engineLine.FindStringSubmatch(stderr)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	return d, err == nil
}

// csvRows reads CSV and drops its header.
func csvRows(s string) ([][]string, error) {
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read CSV %q: %w", tail(s, 500), err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no CSV header in %q", tail(s, 500))
	}
	return rows[1:], nil
}

// sameRows compares two answers as multisets of rows; "" when they agree.
func sameRows(a, b [][]string) string {
	key := func(rows [][]string) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = strings.Join(r, "\x1f")
		}
		slices.Sort(out)
		return out
	}
	ka, kb := key(a), key(b)
	if len(ka) != len(kb) {
		return fmt.Sprintf("%d rows against %d", len(ka), len(kb))
	}
	for i := range ka {
		if ka[i] != kb[i] {
			return fmt.Sprintf("row %d: %q against %q", i+1, strings.ReplaceAll(ka[i], "\x1f", ","), strings.ReplaceAll(kb[i], "\x1f", ","))
		}
	}
	return ""
}

// sumLast sums the last column when every row's is a number, else -1.
func sumLast(rows [][]string) int64 {
	var sum int64
	for _, r := range rows {
		n, err := strconv.ParseInt(r[len(r)-1], 10, 64)
		if err != nil {
			return -1
		}
		sum += n
	}
	return sum
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianRun is the run of runs that keep selects whose wall time is
// nearest their median, that median, and each selected run's events/s.
func medianRun[T any](runs []T, keep func(T) bool, wall func(T) time.Duration, events int64) (*T, time.Duration, []string) {
	var walls []time.Duration
	var each []string
	for _, run := range runs {
		if keep(run) {
			walls = append(walls, wall(run))
			each = append(each, thousands(int64(float64(events)/wall(run).Seconds())))
		}
	}
	var med *T
	mw := median(walls)
	for i, run := range runs {
		if keep(run) && (med == nil || absDur(wall(run)-mw) < absDur(wall(*med)-mw)) {
			med = &runs[i]
		}
	}
	return med, mw, each
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func seconds(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// printLake prints the lake part's tables.
func printLake(w io.Writer, e *env, r *lakeResult) {
	m := e.corpus
	runs := e.o.lakeRuns
	fmt.Fprintf(w, "\nEvents lake over the same %s events (%s MB of JSON, %s MB gzipped in %d files) on %d CPUs (load average %s before, %s after); "+
		"every time is the wall clock of a whole process, the median of %d runs:\n",
		thousands(m.Events), mb(m.JSONBytes), mb(m.GzipBytes), m.Files, runtime.NumCPU(), r.load, loadAverage(), runs)

	fmt.Fprintf(w, "\nBackfill, local folder → fresh PostgreSQL, without and with --lake, alternating (events/s = corpus events ÷ wall of the median run):\n\n")
	t := &table{left: 2, header: []string{"workers", "run", "wall", "CPU", "events/s", "events/s of each run", "peak RSS", "with ÷ without", "target", ""}}
	for _, wk := range e.o.workers {
		var base float64
		for _, withLake := range []bool{false, true} {
			var walls []time.Duration
			var each []string
			var med *measurement
			for _, b := range r.backfills[wk] {
				if b.lake == withLake {
					walls = append(walls, b.m.Wall)
					each = append(each, thousands(int64(float64(m.Events)/b.m.Wall.Seconds())))
				}
			}
			mw := median(walls)
			for _, b := range r.backfills[wk] {
				if b.lake == withLake && (med == nil || absDur(b.m.Wall-mw) < absDur(med.Wall-mw)) {
					med = b.m
				}
			}
			if med == nil {
				continue
			}
			eps := float64(m.Events) / mw.Seconds()
			label, ratio, target, v := "fullstop backfill", "", "", ""
			if withLake {
				label = "fullstop backfill --lake DIR"
				if base > 0 {
					q := eps / base
					ratio, target, v = fmt.Sprintf("%.2f", q), fmt.Sprintf("≥ %.2f", lakeTargetThroughput), verdict(q >= lakeTargetThroughput)
				}
			} else {
				base = eps
			}
			t.add(strconv.Itoa(wk), label, seconds(mw), seconds(med.CPU), thousands(int64(eps)), strings.Join(each, ", "),
				fmt.Sprintf("%d MB", med.MaxRSS>>20), ratio, target, v)
		}
	}
	t.write(w)
	fmt.Fprintf(w, "\nwall, CPU, peak RSS: the median run (CPU and RSS of the run closest to the median); events/s of each run in the order run; with ÷ without: median events/s with --lake ÷ without.\n")

	fmt.Fprintf(w, "\nLake size (every file below the lake folder) against the gzip JSON corpus (%s bytes):\n\n", thousands(m.GzipBytes))
	t = &table{left: 2, header: []string{"lake", "made by", "Parquet files", "bytes", "MB", "lake ÷ corpus", "target", ""}}
	for _, s := range []struct {
		label string
		size  lakeSize
		by    string
	}{
		{"after backfill", r.before, "the last backfill --lake above"},
		{"after compaction", r.after, fmt.Sprintf("lake compact --lookback %s: %s wall, %s CPU, %d MB peak RSS", lakeLookbackFlag, seconds(r.compact.Wall), seconds(r.compact.CPU), r.compact.MaxRSS>>20)},
	} {
		q := float64(s.size.bytes) / float64(m.GzipBytes)
		t.add(s.label, s.by, strconv.Itoa(s.size.files), thousands(s.size.bytes), mb(s.size.bytes), fmt.Sprintf("%.2f", q),
			fmt.Sprintf("≤ %.2f", lakeTargetSize), verdict(q <= lakeTargetSize))
	}
	t.write(w)
	if r.compactText != "" {
		fmt.Fprintf(w, "\nCompaction (one run, wall time of the process): %s.\n", r.compactText)
	}

	fmt.Fprintf(w, "\nQuestions: `fullstop query --lake DIR -o csv SQL` against `fullstop-bench duckdb-query` (DuckDB in process, %d threads, "+
		"read_json over the gzip JSON with only the fields asked for), both a whole process timed from start to exit, the answers compared row by row; "+
		"the target is on the whole processes, and the statements' own times (in query) are compared beside them:\n\n", r.threads)
	t = &table{left: 2, header: []string{"question", "read_json reads", "rows", "lake", "lake (in query)", "uncompacted lake", "read_json", "read_json (in query)", "read_json ÷ lake", "in query", "target", ""}}
	for _, q := range r.questions {
		lk, raw, eng := median(q.lake), median(q.raw), q.engine
		if q.lakeQ == "" {
			ref := r.questionByName(strings.TrimSuffix(q.name, "′"))
			lk, raw, eng = median(ref.lake), median(ref.raw), ref.engine
		}
		js := median(q.json)
		ratio := js.Seconds() / lk.Seconds()
		target, v := fmt.Sprintf("≥ %.0f×", lakeTargetSpeedup), verdict(ratio >= lakeTargetSpeedup)
		if q.info {
			target, v = "(info)", ""
		}
		label := q.name + " " + q.label
		inQuery := ""
		if eng > 0 && q.jsonEngine > 0 {
			inQuery = fmt.Sprintf("%.1f×", q.jsonEngine.Seconds()/eng.Seconds())
		}
		t.add(label, q.peer, thousands(int64(q.rows)), seconds(lk), seconds(eng), seconds(raw), seconds(js), seconds(q.jsonEngine), fmt.Sprintf("%.1f×", ratio), inQuery, target, v)
	}
	t.write(w)
	fmt.Fprintf(w, "\nlake: the compacted lake; lake (in query), read_json (in query): the statement's own time, from sending it to its last row, as fullstop query and duckdb-query report it, without the process start and DuckDB's opening; (a)′ compares read_json over every file with (a)'s lake time.\n")
	for _, q := range r.questions {
		if q.lakeQ != "" {
			fmt.Fprintf(w, "%s lake SQL: %s\n", q.name, q.lakeQ)
		}
		fmt.Fprintf(w, "%s read_json SQL: %s\n", q.name, strings.ReplaceAll(q.jsonQ, e.dir, "<corpus>"))
	}

	fmt.Fprintf(w, "\nShell start:\n\n")
	t = &table{left: 1, header: []string{"command", "wall", "each run", "target", ""}}
	var each []string
	for _, d := range r.shell {
		each = append(each, seconds(d))
	}
	sh := median(r.shell)
	t.add(r.shellCmd, seconds(sh), strings.Join(each, ", "), "< "+lakeTargetShell.String(), verdict(sh < lakeTargetShell))
	t.write(w)
	if r.shellNote != "" {
		fmt.Fprintln(w, "\n"+r.shellNote)
	}
	if len(r.problems) > 0 {
		fmt.Fprintln(w)
		for _, p := range r.problems {
			fmt.Fprintln(w, "⚠", p)
		}
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// duckdbQueryMain is the "duckdb-query" subcommand: it runs one statement
// in DuckDB and prints its rows as CSV with a header.
func duckdbQueryMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("duckdb-query", flag.ContinueOnError)
	threads := fs.Int("threads", runtime.NumCPU(), "DuckDB threads")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: fullstop-bench duckdb-query [--threads N] SQL")
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", *threads)); err != nil {
		return fmt.Errorf("set duckdb threads: %w", err)
	}
	start := time.Now()
	rows, err := db.QueryContext(ctx, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("duckdb: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	cw := csv.NewWriter(stdout)
	if err := cw.Write(cols); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rec := make([]string, len(cols))
	n := 0
	for rows.Next() {
		n++
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				rec[i] = ""
			case []byte:
				rec[i] = string(x)
			default:
				rec[i] = fmt.Sprint(x)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("duckdb: %w", err)
	}
	cw.Flush()
	// The statement's own time, in fullstop query's words, so that the
	// two are compared statement to statement as well.
	fmt.Fprintf(stderr, "%d rows (%s)\n", n, time.Since(start).Round(time.Millisecond))
	return cw.Error()
}
