package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/api"
	"github.com/fullstop-audit/fullstop/api/client"
)

// clientCommandNames are the client's commands, which may be abbreviated
// to a unique prefix.
var clientCommandNames = []string{"configure", "types", "list-violations", "show-violation", "resolve-violations", "reopen", "whitelist", "counts", "completion"}

// clientFlags are the flags every client command takes.
func clientFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "url", EnvVars: []string{"FULLSTOP_URL"}, Usage: "the fullstop API, e.g. https://fullstop.example.org (default: from fullstop configure)"},
		&cli.StringFlag{Name: "token-file", EnvVars: []string{"FULLSTOP_TOKEN_FILE"}, Usage: "file holding the bearer token (FULLSTOP_TOKEN and FULLSTOP_TOKEN_COMMAND are the other ways)"},
	}
}

func outputFlag() cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", EnvVars: []string{"FULLSTOP_OUTPUT"}, Usage: "output format: text, json or tsv"}
}

// clientEnv is what a client command works with.
type clientEnv struct {
	c        *client.Client
	settings clientSettings
	out      io.Writer
	opts     tableOptions
}

// openClient reads the client's settings and token and returns the API
// client. The accounts flag, if the command has one, is "accounts".
func openClient(c *cli.Context) (*clientEnv, error) {
	path, err := clientConfigPath(os.Getenv)
	if err != nil {
		return nil, err
	}
	file, err := loadClientConfig(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	// IsSet: given as a flag or by its variable (FULLSTOP_URL,
	// FULLSTOP_ACCOUNTS), the flag winning; else the file's value counts.
	s, err := resolveClientSettings(file, os.Getenv, c.String("url"), c.IsSet("url"), c.String("accounts"), c.IsSet("accounts"))
	if err != nil {
		return nil, err
	}
	token, err := clientToken(c.Context, os.Getenv, c.String("token-file"))
	if err != nil {
		return nil, err
	}
	cfg := client.Config{URL: s.URL}
	if token != "" { // none configured: no Authorization header (a server with --auth none)
		cfg.Token = func(context.Context) (string, error) { return token, nil }
	}
	cl, err := client.New(cfg)
	if err != nil {
		return nil, usagef("--url (FULLSTOP_URL): %v", err)
	}
	format := c.String("output")
	switch format {
	case "", "text", "json", "tsv":
	default:
		return nil, usagef("--output (-o, FULLSTOP_OUTPUT) must be text, json or tsv, not %q", format)
	}
	tty := isTerminal(os.Stdout)
	_, noColor := os.LookupEnv("NO_COLOR")
	return &clientEnv{c: cl, settings: s, out: os.Stdout, opts: tableOptions{now: timeNow(), tty: tty, noColor: noColor}}, nil
}

func typesCommand() *cli.Command {
	return &cli.Command{
		Name:  "types",
		Usage: "list the violation types",
		Flags: append(clientFlags(), outputFlag()),
		Action: func(c *cli.Context) error {
			env, err := openClient(c)
			if err != nil {
				return err
			}
			ts, err := env.c.ViolationTypes(c.Context)
			if err != nil {
				return err
			}
			rows := make([]row, len(ts))
			for i, t := range ts {
				rows[i] = row{"id": t.ID, "violation_severity": int64(t.ViolationSeverity), "created_time": timeOf(t.Created), "help_text": t.HelpText}
			}
			sortRows(rows, "id")
			return printTable(env.out, c.String("output"), []column{{key: "id"}, {key: "violation_severity", title: "Sev."},
				{key: "created_time", title: "Created"}, {key: "help_text"}}, rows, env.opts)
		},
	}
}

// violationColumns are the reference's columns of list-violations.
var violationColumns = []column{
	{key: "account_id"}, {key: "region"}, {key: "id"}, {key: "violation_type"}, {key: "instance_id"},
	{key: "application_id", title: "Application"}, {key: "application_version_id", title: "Application Version"},
	{key: "meta_info"}, {key: "comment"}, {key: "created_time", title: "Created"},
}

// violationRow is a violation as a row of list-violations.
func violationRow(v api.Violation) row {
	return row{
		"account_id": deref(v.AccountID), "region": deref(v.Region), "id": v.ID, "violation_type": v.ViolationType.ID,
		"instance_id": deref(v.InstanceID), "application_id": deref(v.ApplicationID),
		"application_version_id": deref(v.ApplicationVersionID), "meta_info": metaValue(v.MetaInfo),
		"comment": deref(v.Comment), "created_time": timeOf(v.Created),
	}
}

// deref is nil for a nil pointer, else its string.
func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// metaValue decodes meta_info with exact numbers.
func metaValue(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	return v
}

func showViolationCommand() *cli.Command {
	return &cli.Command{
		Name:      "show-violation",
		Usage:     "show every field of one violation",
		ArgsUsage: "ID",
		Flags:     append(clientFlags(), outputFlag()),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("show-violation takes one violation id")
			}
			var id int64
			if _, err := fmt.Sscan(c.Args().First(), &id); err != nil || id < 1 {
				return usagef("show-violation: %q is not a violation id", c.Args().First())
			}
			env, err := openClient(c)
			if err != nil {
				return err
			}
			v, err := env.c.Violation(c.Context, id)
			if err != nil {
				return err
			}
			if c.String("output") == "json" {
				enc := json.NewEncoder(env.out)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			return printViolation(env.out, v, env.opts)
		},
	}
}

// printViolation writes one violation as "field: value" lines, its meta
// as indented JSON.
func printViolation(w io.Writer, v api.Violation, opts tableOptions) error {
	bw := bufio.NewWriter(w)
	state := "open"
	switch {
	case v.RuleID != nil:
		state = fmt.Sprintf("whitelisted by rule %d", *v.RuleID)
	case v.Comment != nil:
		state = "resolved"
	}
	t := v.ViolationType
	title := ""
	if t.Title != nil {
		title = *t.Title
	}
	lines := [][2]string{
		{"id", fmt.Sprint(v.ID)},
		{"type", t.ID + " (" + title + ")"},
		{"severity", fmt.Sprint(t.ViolationSeverity)},
		{"state", state},
		{"comment", str(v.Comment)},
		{"account", str(v.AccountID)},
		{"region", str(v.Region)},
		{"instance", str(v.InstanceID)},
		{"event", str(v.EventID)},
		{"user", str(v.Username)},
		{"application", str(v.ApplicationID)},
		{"version", str(v.ApplicationVersionID)},
		{"rule", str(v.PluginFullyQualifiedClassName)},
		{"first seen", timeText(timeOf(v.Created), opts)},
		{"last seen", timeText(timeOf(v.LastSeen), opts)},
		{"seen", fmt.Sprintf("%d times", v.SeenCount)},
	}
	if v.EventTime != nil {
		lines = append(lines, [2]string{"event time", timeText(timeOf(*v.EventTime), opts)})
	}
	for _, l := range lines {
		fmt.Fprintf(bw, "%-12s %s\n", l[0]+":", l[1])
	}
	var meta bytes.Buffer
	if err := json.Indent(&meta, v.MetaInfo, strings.Repeat(" ", 13), "  "); err != nil {
		meta.Reset()
		meta.Write(v.MetaInfo)
	}
	fmt.Fprintf(bw, "%-12s %s\n", "meta_info:", meta.String())
	fmt.Fprintf(bw, "%-12s %s\n", "help:", t.HelpText)
	return bw.Flush()
}

// timeText is a time in UTC with its age.
func timeText(t time.Time, opts tableOptions) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + formatAge(t, opts.now) + ")"
}

// timeOf is an API time as a time.Time.
func timeOf(t api.Time) time.Time { return time.Time(t) }

// timeNow is the clock of the client's ages.
var timeNow = time.Now

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// sortRows sorts rows by the string value of key.
func sortRows(rows []row, key string) {
	slices.SortStableFunc(rows, func(a, b row) int { return strings.Compare(fmt.Sprint(a[key]), fmt.Sprint(b[key])) })
}
