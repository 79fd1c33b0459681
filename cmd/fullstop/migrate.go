package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

func migrateCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply the database migrations (every other command applies them too)",
		Flags: databaseFlags(),
		Action: func(c *cli.Context) error {
			st, _, err := openStoreFromFlags(c, a.log)
			if err != nil {
				return err
			}
			st.Close()
			fmt.Fprintln(os.Stdout, "fullstop migrate: database schema is up to date")
			return nil
		},
	}
}
