package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes of the process.
const (
	exitOK          = 0 // done: every object listed is processed or was before
	exitFailed      = 1 // a batch failed, or finished with objects it could not read
	exitUsage       = 2 // a configuration error, found before any work
	exitInterrupted = 3 // stopped by SIGTERM or Ctrl-C; what committed is kept
)

// exitCodesHelp documents the exit codes in the help of run and backfill.
const exitCodesHelp = "Exit codes: 0 done; 1 the batch failed (source, database)\n" +
	"or some objects could not be read; 2 a configuration error, before any work; 3 interrupted by\n" +
	"SIGTERM or Ctrl-C (the objects in work are finished and committed; a second signal stops at once)."

var (
	// errFailedObjects marks a batch that finished but could not read some
	// objects.
	errFailedObjects = errors.New("some objects could not be read (see the summary); the next batch tries them again")
	// errInterrupted marks a batch stopped by a signal.
	errInterrupted = errors.New("interrupted: what committed is kept; the next batch reads the rest")
)

// usageError is a configuration error found before any work starts.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	}
	return exitFailed
}

// app is what every command shares: the one logger of the process, built
// from the global flags before the command runs.
type app struct {
	log *slog.Logger
	// sigLog is log for the signal watcher, which runs beside Before.
	sigLog atomic.Pointer[slog.Logger]
}

func newApp() *cli.App {
	return newAppTo(os.Stderr)
}

// runMain runs the command line args and returns the exit code. The first
// SIGTERM or Ctrl-C cancels the command's context: a batch finishes the
// objects in work (for at most --stop-timeout) and commits them; a second
// one exits at once.
func runMain(args []string, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &app{log: slog.New(slog.NewTextHandler(stderr, nil))}
	a.sigLog.Store(a.log)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		a.sigLog.Load().Info("signal received: finishing the objects in work, then stopping (a second signal stops at once)", logSignal, s.String())
		cancel()
		s = <-sigs
		a.sigLog.Load().Warn("second signal: stopping now; what is not committed is read again by the next batch", logSignal, s.String())
		os.Exit(exitInterrupted)
	}()
	args, err := expandCommand(args, batchCommandNames, clientCommandNames)
	if err == nil {
		cliApp := newAppWith(a, stderr)
		err = cliApp.RunContext(ctx, flagsFirst(cliApp, args))
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// A signal stopped the command while it was starting (connecting,
		// migrating): an interruption too.
		err = fmt.Errorf("%w (%v)", errInterrupted, err)
	}
	if err != nil {
		fmt.Fprintln(stderr, "fullstop:", oneLine(err.Error()))
	}
	return exitCode(err)
}

// oneLine folds a multi-line error (pgx lists every address it tried) into
// one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ; ")), " ")
}

// newAppTo returns the command-line application, logging to logs.
func newAppTo(logs io.Writer) *cli.App {
	return newAppWith(&app{log: slog.New(slog.DiscardHandler)}, logs)
}

// onUsageError turns a flag that does not parse, or an unknown flag, into
// one line naming the command's help, instead of the whole help text.
func onUsageError(c *cli.Context, err error, _ bool) error {
	name := "fullstop"
	if c.Command != nil && c.Command.Name != "" {
		name = c.Command.HelpName
	}
	return usagef("%s: %v (see %s --help)", name, err, name)
}

// setUsageErrors sets onUsageError on cmds and their subcommands.
func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = onUsageError
		setUsageErrors(c.Subcommands)
	}
}

// batchCommandNames are the commands never abbreviated (and help).
var batchCommandNames = []string{"run", "backfill", "serve", "migrate", "ledger", "help", "h"}

func newAppWith(a *app, logs io.Writer) *cli.App {
	cmds := []*cli.Command{
		runCommand(a),
		backfillCommand(a),
		serveCommand(a),
		migrateCommand(a),
		ledgerCommand(a),
		lakeCommand(a),
		queryCommand(a),
		sqlCommand(a),
		rulesCommand(a),
		jobsCommand(a),
		sigmaCommand(),
		configureCommand(os.Stdin, os.Stdout),
		typesCommand(),
		listViolationsCommand(),
		showViolationCommand(),
		resolveViolationsCommand(),
		reopenCommand(),
		whitelistCommand(),
		countsCommand(),
		completionCommand(),
	}
	setUsageErrors(cmds)
	return &cli.App{
		Name:                 "fullstop",
		Usage:                "audit the CloudTrail logs of many AWS accounts for policy violations",
		Version:              version,
		Flags:                logFlags(),
		Commands:             cmds,
		OnUsageError:         onUsageError,
		EnableBashCompletion: true,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("unknown command %q: want one of %s (see fullstop --help)", c.Args().First(),
					strings.Join(append(slices.Clone(batchCommandNames[:5]), clientCommandNames...), ", "))
			}
			return cli.ShowAppHelp(c)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // runMain prints and exits
		Before: func(c *cli.Context) error {
			log, err := newLogger(c, logs)
			if err != nil {
				return err
			}
			a.log = log
			a.sigLog.Store(log)
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
