package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/store"
)

func migrateCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply the database migrations (every other command applies them too)",
		Flags: databaseFlags(),
		Action: func(c *cli.Context) error {
			dbURL, err := readDatabaseURL(c)
			if err != nil {
				return err
			}
			st, err := store.Open(c.Context, dbURL, a.log)
			if err != nil {
				return fmt.Errorf("open database (DATABASE_URL): %w", err)
			}
			defer st.Close()
			if err := st.Migrate(c.Context); err != nil {
				return fmt.Errorf("migrate database: %w", err)
			}
			fmt.Fprintln(os.Stdout, "fullstop migrate: database schema is up to date")
			return nil
		},
	}
}
