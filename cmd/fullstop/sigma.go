package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/sigma"
	sqlfiles "github.com/fullstop-audit/fullstop/sql"
)

// sigmaFlag is --sigma on the commands that run rules.
func sigmaFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "sigma", EnvVars: []string{"FULLSTOP_SIGMA_DIRS"}, Usage: "folders (or files) of Sigma rules for AWS CloudTrail, compiled at start-up and run with the other rules; repeatable or comma-separated"}
}

// rulesFlag is --rules on the commands that run rules.
func rulesFlag() cli.Flag {
	return &cli.StringFlag{Name: "rules", Value: rules.DefaultSelection, EnvVars: []string{"FULLSTOP_RULES"},
		Usage: "the rules that run: comma list of sets (reference, sigma, sigma:high for level high and above), types and type globs (SIGMA_*); -ITEM leaves out, a list starting with -ITEM starts from the default"}
}

func parseRulesFlag(c *cli.Context) (rules.Selection, error) {
	sel, err := rules.ParseSelection(c.String("rules"))
	if err != nil {
		return rules.Selection{}, usagef("--rules (FULLSTOP_RULES): %v", err)
	}
	return sel, nil
}

// ownSigma compiles our Sigma detections, sql/sigma/*.yml.
func ownSigma() ([]rules.Rule, error) {
	own, refused, err := sigma.CompileDir(sqlfiles.Sigma, "sigma")
	if err == nil && len(refused) > 0 {
		err = errors.Join(refused...)
	}
	if err != nil {
		return nil, fmt.Errorf("compile sql/sigma: %w", err)
	}
	for i := range own {
		own[i].File = "sql/" + own[i].File
	}
	return own, nil
}

// sigmaRules are our Sigma detections and those of paths (--sigma).
func sigmaRules(paths []string, log *slog.Logger) ([]rules.Rule, error) {
	own, err := ownSigma()
	if err != nil {
		return nil, err
	}
	more, err := loadSigma(paths, log)
	if err != nil {
		return nil, err
	}
	return append(own, more...), nil
}

// loadSigma compiles the Sigma rules of paths (folders, searched for
// *.yml and *.yaml, or files). A folder's rules the compiler does not
// support are left out, each with a warning to log; a file named on its
// own must compile.
func loadSigma(paths []string, log *slog.Logger) ([]rules.Rule, error) {
	var out []rules.Rule
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, usagef("--sigma (FULLSTOP_SIGMA_DIRS): %v", err)
		}
		if fi.IsDir() {
			rs, refused, err := sigma.CompileDir(os.DirFS(p), ".")
			if err != nil {
				return nil, usagef("--sigma (FULLSTOP_SIGMA_DIRS) %s: %v", p, err)
			}
			for _, r := range refused {
				log.Warn("Sigma rule left out", logDir, p, logReason, r.Error())
			}
			for i := range rs {
				rs[i].File = filepath.Join(p, rs[i].File)
			}
			out = append(out, rs...)
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, usagef("--sigma (FULLSTOP_SIGMA_DIRS): %v", err)
		}
		rs, err := sigma.CompileFile(p, src)
		if err != nil {
			return nil, usagef("--sigma (FULLSTOP_SIGMA_DIRS): %v", err)
		}
		out = append(out, rs...)
	}
	return out, nil
}

func sigmaCommand() *cli.Command {
	return &cli.Command{
		Name:  "sigma",
		Usage: "Sigma rules for AWS CloudTrail",
		Subcommands: []*cli.Command{{
			Name:      "compile",
			Usage:     "compile Sigma rules into fullstop rule files, one <TYPE>.sql each in --out; a rule fullstop cannot compile stops it, naming the construct",
			ArgsUsage: "FILE|DIR...",
			Flags:     []cli.Flag{&cli.StringFlag{Name: "out", Required: true, EnvVars: []string{"FULLSTOP_SIGMA_OUT"}, Usage: "the folder the rule files are written to"}},
			Action: func(c *cli.Context) error {
				if c.NArg() == 0 {
					return usagef("sigma compile: name the Sigma rules (files or folders)")
				}
				rs, err := loadSigma(c.Args().Slice(), slog.New(slog.NewTextHandler(c.App.ErrWriter, nil)))
				if err != nil {
					return err
				}
				if err := os.MkdirAll(c.String("out"), 0o755); err != nil {
					return err
				}
				for _, r := range rs {
					name := filepath.Join(c.String("out"), r.Type+".sql")
					if err := os.WriteFile(name, []byte(sigma.RuleFile(r)), 0o644); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "%s → %s\n", r.File, name)
				}
				return nil
			},
		}},
	}
}
