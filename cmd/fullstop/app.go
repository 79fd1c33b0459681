package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errFailedObjects marks a batch that finished but could not read some
// objects; the process exits with code 1.
var errFailedObjects = errors.New("some objects failed")

// usageError is a configuration error found before any work starts.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// app is what every command shares: the one logger of the process, built
// from the global flags before the command runs.
type app struct {
	log *slog.Logger
}

func newApp() *cli.App {
	return newAppTo(os.Stderr)
}

// newAppTo returns the command-line application, logging to logs.
func newAppTo(logs io.Writer) *cli.App {
	a := &app{log: slog.New(slog.DiscardHandler)}
	return &cli.App{
		Name:    "fullstop",
		Usage:   "audit the CloudTrail logs of many AWS accounts for policy violations",
		Version: version,
		Flags:   logFlags(),
		Commands: []*cli.Command{
			runCommand(a),
			backfillCommand(a),
			serveCommand(a),
			migrateCommand(a),
		},
		ExitErrHandler: func(*cli.Context, error) {}, // main prints and exits
		Before: func(c *cli.Context) error {
			log, err := newLogger(c, logs)
			if err != nil {
				return err
			}
			a.log = log
			if err := setMemoryLimit(c); err != nil {
				return err
			}
			return startCPUProfile(c)
		},
		After: func(*cli.Context) error {
			pprof.StopCPUProfile()
			return nil
		},
	}
}

func logFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"FULLSTOP_LOG_FORMAT"}, Usage: "log format: text or json"},
		&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"FULLSTOP_LOG_LEVEL"}, Usage: "log level: debug, info, warn or error"},
		&cli.StringFlag{Name: "cpuprofile", EnvVars: []string{"FULLSTOP_CPUPROFILE"}, Usage: "write a CPU profile of the command to this file (for go tool pprof)"},
		&cli.StringFlag{Name: "memory-limit", Value: "400MiB", EnvVars: []string{"FULLSTOP_MEMORY_LIMIT"}, Usage: "soft limit of the Go heap (B, KiB, MiB, GiB; 0 for none); GOMEMLIMIT, if set, wins"},
	}
}

// newLogger builds the one logger of the process from --log-format and
// --log-level; logs go to w.
func newLogger(c *cli.Context, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usagef("--log-level (FULLSTOP_LOG_LEVEL): %q is not one of debug, info, warn, error", c.String("log-level"))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.String("log-format")) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, usagef("--log-format (FULLSTOP_LOG_FORMAT): %q is not text or json", c.String("log-format"))
	}
}

// startCPUProfile starts the CPU profile --cpuprofile asks for; After stops it.
func startCPUProfile(c *cli.Context) error {
	path := c.String("cpuprofile")
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return usagef("--cpuprofile (FULLSTOP_CPUPROFILE): %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return usagef("--cpuprofile (FULLSTOP_CPUPROFILE): %v", err)
	}
	return nil
}

// setMemoryLimit applies --memory-limit as the Go runtime's soft memory
// limit, unless GOMEMLIMIT is set. Without it the heap of a long backfill
// grows with the garbage collector's headroom; with it, peak memory stays
// flat whatever the corpus size.
func setMemoryLimit(c *cli.Context) error {
	n, err := parseSize(c.String("memory-limit"))
	if err != nil {
		return usagef("--memory-limit (FULLSTOP_MEMORY_LIMIT): %v", err)
	}
	if os.Getenv("GOMEMLIMIT") != "" || n == 0 {
		return nil
	}
	debug.SetMemoryLimit(n)
	return nil
}

// parseSize reads a byte size: a whole number with an optional unit B, KiB,
// MiB or GiB.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	mult := int64(1)
	num := strings.TrimSpace(s)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size like 400MiB", s)
	}
	return n * mult, nil
}
