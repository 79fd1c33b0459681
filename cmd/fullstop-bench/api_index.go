package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fullstop-audit/fullstop/migrations"
)

// apiIndexMigration is the migration holding the indexes of the API's
// filters; --without-indexes drops them.
const apiIndexMigration = "00005_api_indexes.sql"

// indexMigration is the Up and Down SQL of apiIndexMigration.
type indexMigration struct {
	up, down string
	names    []string // the indexes Up creates
}

var createIndexName = regexp.MustCompile(`(?i)CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?([\w."]+)`)

// readAPIIndexMigration reads apiIndexMigration from the embedded
// migrations (the same files bin/fullstop migrates with, when both are
// built from one tree); nil when there is no such migration.
func readAPIIndexMigration() (*indexMigration, error) {
	b, err := fs.ReadFile(migrations.FS, apiIndexMigration)
	if err != nil {
		return nil, nil //nolint:nilerr // no such migration in this build: nothing to drop
	}
	return parseIndexMigration(string(b))
}

// parseIndexMigration splits a goose migration into its Up and Down SQL.
func parseIndexMigration(text string) (*indexMigration, error) {
	var m indexMigration
	var cur *string
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "-- +goose Up"):
			cur = &m.up
			continue
		case strings.HasPrefix(t, "-- +goose Down"):
			cur = &m.down
			continue
		case strings.HasPrefix(t, "-- +goose"):
			continue // StatementBegin/End, NO TRANSACTION
		}
		if cur != nil {
			*cur += line + "\n"
		}
	}
	if strings.TrimSpace(m.up) == "" || strings.TrimSpace(m.down) == "" {
		return nil, fmt.Errorf("%s: no Up or no Down section", apiIndexMigration)
	}
	for _, sm := range createIndexName.FindAllStringSubmatch(stripSQLComments(m.up), -1) {
		m.names = append(m.names, sm[1])
	}
	if len(m.names) == 0 {
		return nil, fmt.Errorf("%s: the Up section creates no index", apiIndexMigration)
	}
	return &m, nil
}

// stripSQLComments removes -- comments.
func stripSQLComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// apply makes the migration's indexes exist (with) or not (without) by
// running its Up or Down SQL, leaving goose's version table alone, so a
// fullstop started later does not re-create them. It returns how long
// creating took (0 when nothing was created).
func (m *indexMigration) apply(ctx context.Context, dbURL string, with bool) (time.Duration, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var present int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = 'fullstop_data' AND indexname = ANY ($1)`,
		unqualified(m.names)).Scan(&present); err != nil {
		return 0, err
	}
	switch {
	case with && present == len(m.names), !with && present == 0:
		return 0, nil
	case !with:
		if _, err := conn.Exec(ctx, m.down); err != nil {
			return 0, fmt.Errorf("drop the indexes of %s: %w", apiIndexMigration, err)
		}
		return 0, nil
	}
	if present > 0 { // half there: start clean
		if _, err := conn.Exec(ctx, m.down); err != nil {
			return 0, fmt.Errorf("drop the indexes of %s: %w", apiIndexMigration, err)
		}
	}
	start := time.Now()
	if _, err := conn.Exec(ctx, m.up); err != nil {
		return 0, fmt.Errorf("create the indexes of %s: %w", apiIndexMigration, err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE fullstop_data.violation"); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func unqualified(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		n = strings.ReplaceAll(n, `"`, "")
		out[i] = n[strings.LastIndex(n, ".")+1:]
	}
	return out
}

// index is one index of fullstop_data.violation.
type violationIndex struct{ name, size, def string }

func violationIndexes(ctx context.Context, dbURL string) ([]violationIndex, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT i.relname, pg_size_pretty(pg_relation_size(i.oid)),
       regexp_replace(pg_get_indexdef(i.oid), '^.* USING ', 'USING ')
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = 'fullstop_data.violation'::regclass
ORDER BY i.relname`)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (violationIndex, error) {
		var ix violationIndex
		err := r.Scan(&ix.name, &ix.size, &ix.def)
		return ix, err
	})
	if err != nil {
		return nil, fmt.Errorf("list the indexes: %w", err)
	}
	return out, nil
}

// explainURL is dbURL with auto_explain logging every statement with its
// actual rows, times and buffers, for the connections of a server started
// with it.
func explainURL(dbURL string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("options", "-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 "+
		"-c auto_explain.log_analyze=on -c auto_explain.log_buffers=on -c auto_explain.log_timing=on "+
		"-c auto_explain.log_verbose=off -c auto_explain.log_format=text")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// postgresLog is the log file of a cluster started by .ci/postgres.sh.
func (p *postgres) logPath() (string, error) {
	b, err := os.ReadFile(filepath.Join(p.dir, "location"))
	if err != nil {
		return "", fmt.Errorf("find the postgres log: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(b)), "postgres.log"), nil
}

// logSize is the size of the file at path, 0 if it cannot be read.
func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// autoExplainPlans returns the plans auto_explain logged to path after
// offset: each "duration: … plan:" entry with its continuation lines.
func autoExplainPlans(path string, offset int64) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	return parseAutoExplain(f)
}

var autoExplainHead = regexp.MustCompile(`LOG:\s+duration: ([0-9.]+ ms)\s+plan:`)

func parseAutoExplain(r io.Reader) ([]string, error) {
	var out []string
	var cur *strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := autoExplainHead.FindStringSubmatch(line); m != nil {
			if cur != nil {
				out = append(out, cur.String())
			}
			cur = &strings.Builder{}
			fmt.Fprintf(cur, "duration: %s\n", m[1])
			continue
		}
		if cur != nil && strings.HasPrefix(line, "\t") {
			cur.WriteString("  " + strings.TrimPrefix(line, "\t") + "\n")
			continue
		}
		if cur != nil {
			out = append(out, cur.String())
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, cur.String())
	}
	return out, sc.Err()
}
