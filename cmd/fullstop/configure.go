package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

func configureCommand(in io.Reader, out io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "configure",
		Usage: "ask for the API's URL and the default account ids, and store them",
		Description: "Stores them in $XDG_CONFIG_HOME/fullstop/fullstop.yaml (default ~/.config/fullstop/fullstop.yaml).\n" +
			"The current values are the defaults: an empty answer keeps them.",
		Action: func(c *cli.Context) error {
			path, err := clientConfigPath(os.Getenv)
			if err != nil {
				return err
			}
			cfg, err := loadClientConfig(path)
			if err != nil {
				return usagef("%v", err)
			}
			r := bufio.NewReader(in)
			ask := func(prompt, current string) (string, error) {
				if current != "" {
					fmt.Fprintf(out, "%s [%s]: ", prompt, current)
				} else {
					fmt.Fprintf(out, "%s: ", prompt)
				}
				line, err := r.ReadString('\n')
				if err != nil && (err != io.EOF || line == "") {
					if err == io.EOF {
						return current, nil
					}
					return "", err
				}
				if line = strings.TrimSpace(line); line != "" {
					return line, nil
				}
				return current, nil
			}
			for {
				u, err := ask("Fullstop URL", cfg.URL)
				if err != nil {
					return err
				}
				if u == "" {
					return usagef("configure: a URL is required")
				}
				if cfg.URL, err = normalizeClientURL(u); err == nil {
					break
				}
				fmt.Fprintf(out, "%v\n", err)
				if _, ok := in.(*os.File); !ok {
					return usagef("configure: %v", err)
				}
			}
			accounts, err := ask("AWS account IDs (comma separated)", cfg.Accounts)
			if err != nil {
				return err
			}
			cfg.Accounts = strings.Join(splitList(accounts), ",")
			fmt.Fprint(out, "Storing configuration.. ")
			if err := saveClientConfig(path, cfg); err != nil {
				fmt.Fprintln(out, "FAILED")
				return err
			}
			fmt.Fprintln(out, "OK")
			return nil
		},
	}
}
