// Command fullstop audits the CloudTrail logs of many AWS accounts: it
// turns new log objects into violations stored in PostgreSQL.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "fullstop:", err)
		os.Exit(exitCode(err))
	}
}
