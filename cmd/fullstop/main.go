// Command fullstop audits the CloudTrail logs of many AWS accounts: it
// turns new log objects into violations stored in PostgreSQL.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "fullstop:", oneLine(err.Error()))
		os.Exit(exitCode(err))
	}
}

// oneLine folds a multi-line error (pgx lists every address it tried) into
// one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ; ")), " ")
}
