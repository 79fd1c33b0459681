package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgres is a throwaway cluster run by .ci/postgres.sh.
type postgres struct {
	script string
	dir    string
	url    string // the cluster's "fullstop" database, used to create others
	n      int
}

// startPostgres starts a cluster in dir with script (.ci/postgres.sh),
// after stopping one an earlier, killed bench may have left running there.
func startPostgres(ctx context.Context, script, dir string) (*postgres, error) {
	stale := &postgres{script: script, dir: dir}
	if err := stale.stop(); err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, script, "start", dir).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		return nil, fmt.Errorf("start postgres (%s start %s): %w %s", script, dir, err, msg)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	u := strings.TrimSpace(lines[len(lines)-1])
	if !strings.HasPrefix(u, "postgres://") {
		return nil, fmt.Errorf("start postgres: %s printed %q, want a postgres:// URL", script, out)
	}
	return &postgres{script: script, dir: dir, url: u}, nil
}

// stop stops the cluster and removes its data.
func (p *postgres) stop() error {
	if out, err := exec.Command(p.script, "stop", p.dir).CombinedOutput(); err != nil {
		return fmt.Errorf("stop postgres: %w: %s", err, out)
	}
	return nil
}

// freshDatabase creates an empty database and returns its URL and a
// function dropping it.
func (p *postgres) freshDatabase(ctx context.Context, label string) (string, func(), error) {
	p.n++
	name := fmt.Sprintf("bench_%d_%s", p.n, label)
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return "", nil, fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(p.url)
	if err != nil {
		return "", nil, fmt.Errorf("parse postgres url: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, p.url)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}

// countRows returns the number of rows of a table in the database at u.
func countRows(ctx context.Context, u, table string) (int64, error) {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return 0, fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// clockTick is Linux's USER_HZ, the unit of the times in /proc/PID/stat.
const clockTick = 10 * time.Millisecond

// cpu returns the CPU time (user and system) the cluster has used so
// far: its postmaster's, the waited-for children's (backends that ended)
// and the running children's, read from /proc. Linux only.
func (p *postgres) cpu() (time.Duration, error) {
	home, err := os.ReadFile(filepath.Join(p.dir, "location"))
	if err != nil {
		return 0, fmt.Errorf("postgres cpu: %w", err)
	}
	pidFile, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(home)), "data", "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("postgres cpu: %w", err)
	}
	pid := strings.SplitN(string(pidFile), "\n", 2)[0]
	procs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return 0, fmt.Errorf("postgres cpu: %w", err)
	}
	var ticks int64
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // ended meanwhile
		}
		// pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17)
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:]) // from state on: state=0, ppid=1, utime=11
		self := strings.Fields(s[:i])[0]
		if len(fields) < 15 || (self != pid && fields[1] != pid) {
			continue
		}
		for _, k := range []int{11, 12, 13, 14} {
			n, _ := strconv.ParseInt(fields[k], 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * clockTick, nil
}
