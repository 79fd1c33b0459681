package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// measurement is what one measured subprocess took.
type measurement struct {
	Wall   time.Duration
	CPU    time.Duration // user and system time
	MaxRSS int64         // peak resident set size in bytes
	Stdout string
	Stderr string
}

// measure runs a command to its end and reads its wall time and peak RSS.
// The child dies with the bench (SIGKILL on parent death) and is killed
// when ctx is cancelled.
func measure(ctx context.Context, log *slog.Logger, env []string, name string, args ...string) (*measurement, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	log.Debug("running", logCmd, name, logArgs, args)
	start := time.Now()
	err := cmd.Run()
	m := &measurement{Wall: time.Since(start), Stdout: stdout.String(), Stderr: stderr.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
			m.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if err != nil {
		return m, fmt.Errorf("run %s %s: %w\n%s", name, strings.Join(args, " "), err, tail(m.Stdout+m.Stderr, 3000))
	}
	return m, nil
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// childEnv is the environment of the measured commands: the bench's own
// without any AWS, fullstop or database settings, plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "FULLSTOP_") || strings.HasPrefix(k, "DATABASE_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// selfPath is the bench binary, re-executed for the DuckDB and gunzip
// measurements.
func selfPath() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the bench binary: %w", err)
	}
	return p, nil
}

// loadAverage returns the one-minute load average, or "?" where
// /proc/loadavg cannot be read.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// errMismatch marks a measurement whose result disagrees with the corpus.
var errMismatch = errors.New("result does not match the corpus")
