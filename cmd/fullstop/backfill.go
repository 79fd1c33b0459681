package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl"
)

func backfillCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "backfill",
		Usage: "process every log object whose key date is in [--from, --to)",
		Description: "Dates are YYYY-MM-DD (UTC midnight) or RFC 3339. Objects already in the ledger are\n" +
			"skipped unless --reprocess. " + exitCodesHelp,
		Flags: append(append(append(databaseFlags(), sourceFlags()...), serviceTokenFlags()...),
			&cli.StringFlag{Name: "from", EnvVars: []string{"FULLSTOP_FROM"}, Usage: "first key date, inclusive"},
			&cli.StringFlag{Name: "to", EnvVars: []string{"FULLSTOP_TO"}, Usage: "last key date, exclusive"},
			&cli.BoolFlag{Name: "reprocess", EnvVars: []string{"FULLSTOP_REPROCESS"}, Usage: "process objects again although the ledger holds them"},
			&cli.BoolFlag{Name: "progress", Value: true, EnvVars: []string{"FULLSTOP_PROGRESS"}, Usage: "show progress on stderr (a bar on a terminal, lines otherwise)"},
		),
		Action: func(c *cli.Context) error {
			if c.String("from") == "" || c.String("to") == "" {
				return usagef("backfill needs --from and --to (FULLSTOP_FROM, FULLSTOP_TO)")
			}
			from, err := parseTime(c.String("from"))
			if err != nil {
				return usagef("--from: %v", err)
			}
			to, err := parseTime(c.String("to"))
			if err != nil {
				return usagef("--to: %v", err)
			}
			if !from.Before(to) {
				return usagef("--from (%s) must be before --to (%s)", c.String("from"), c.String("to"))
			}
			pc := etl.Config{Reprocess: c.Bool("reprocess")}
			var bar *progressBar
			if c.Bool("progress") {
				bar = newProgressBar(os.Stderr)
				pc.Progress = bar.update
			}
			bs, err := readBatchSetup(c, pc)
			if err != nil {
				return err
			}
			env, err := openBatch(c.Context, a.log, bs)
			if err != nil {
				return err
			}
			defer env.Close()
			res, err := env.pipe.Run(c.Context, from, to)
			bar.finish()
			printSummary(os.Stdout, "backfill", bs.source, from, to, res, err)
			return batchError(bs.databaseURL, res, err)
		},
	}
}

// progressBar shows a batch's progress: a redrawn bar on a terminal, a
// plain line every few seconds (and at the end) otherwise.
type progressBar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	start    time.Time
	last     time.Time
	drawn    bool
	lastSeen etl.Progress
}

func newProgressBar(f *os.File) *progressBar {
	fi, err := f.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0
	return &progressBar{w: f, tty: tty, start: time.Now()}
}

func (b *progressBar) update(p etl.Progress) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastSeen = p
	now := time.Now()
	if b.tty {
		if now.Sub(b.last) < 100*time.Millisecond && p.Done < p.Total {
			return
		}
		const width = 30
		n := 0
		if p.Total > 0 {
			n = width * p.Done / p.Total
		}
		fmt.Fprintf(b.w, "\r[%s%s] %d/%d objects, %d events, %s", strings.Repeat("#", n), strings.Repeat(".", width-n),
			p.Done, p.Total, p.Events, now.Sub(b.start).Round(time.Second))
		b.drawn = true
	} else {
		if now.Sub(b.last) < 5*time.Second && p.Done < p.Total {
			return
		}
		fmt.Fprintf(b.w, "progress: %d/%d objects, %d events, %s\n", p.Done, p.Total, p.Events, now.Sub(b.start).Round(time.Second))
	}
	b.last = now
}

func (b *progressBar) finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
