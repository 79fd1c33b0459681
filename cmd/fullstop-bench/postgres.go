package main

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
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
