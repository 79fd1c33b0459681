package main

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/api"
	"github.com/fullstop-audit/fullstop/api/client"
)

// filterFlags are the violation filters of list-violations (and, later,
// resolve-violations).
func filterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "accounts", EnvVars: []string{"FULLSTOP_ACCOUNTS"}, Usage: "comma list of account ids (default: the configured ones)"},
		&cli.StringFlag{Name: "since", Aliases: []string{"s"}, EnvVars: []string{"FULLSTOP_SINCE"}, Usage: "created since: N followed by s, m, h or d (7d), or YYYY-MM-DD HH:MM:SS (UTC)"},
		&cli.StringFlag{Name: "type", Aliases: []string{"t"}, EnvVars: []string{"FULLSTOP_TYPE"}, Usage: "violation type id"},
		&cli.StringFlag{Name: "severity", EnvVars: []string{"FULLSTOP_SEVERITY"}, Usage: "the type's severity"},
		&cli.StringFlag{Name: "region", Aliases: []string{"r"}, EnvVars: []string{"FULLSTOP_REGION"}, Usage: "AWS region (filtered here, as the reference)"},
		&cli.StringFlag{Name: "applications", EnvVars: []string{"FULLSTOP_APPLICATIONS"}, Usage: "comma list of application names"},
		&cli.StringFlag{Name: "application-versions", EnvVars: []string{"FULLSTOP_APPLICATION_VERSIONS"}, Usage: "comma list of application version names"},
		&cli.StringFlag{Name: "meta", Aliases: []string{"m"}, EnvVars: []string{"FULLSTOP_META"}, Usage: "KEY=VAL[,KEY=VAL...]: meta_info must hold each (filtered here)"},
		&cli.StringFlag{Name: "remeta", Aliases: []string{"x"}, EnvVars: []string{"FULLSTOP_REMETA"}, Usage: "regular expression matching the start of the shown meta_info (filtered here)"},
		&cli.IntFlag{Name: "limit", Aliases: []string{"l"}, Value: 20, EnvVars: []string{"FULLSTOP_LIMIT"}, Usage: "at most this many violations (more than the server's page size of 1000 takes several pages)"},
	}
}

// sinceRe is N followed by a unit.
var sinceRe = regexp.MustCompile(`^(\d+)([smhd])$`)

// parseSince reads --since: N{s,m,h,d} before now, or an absolute UTC
// time. A leading "-" (the reference's future time) is an error.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") {
		return time.Time{}, usagef("--since %q: a time in the future is not allowed; give 7d for seven days ago", s)
	}
	if m := sinceRe.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > 100*365*24*3600 {
			return time.Time{}, usagef("--since %q is too far back", s)
		}
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
		return now.UTC().Add(-time.Duration(n) * unit), nil
	}
	if t, err := time.Parse("2006-01-02 15:04:05", s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("--since %q: want N followed by s, m, h or d (7d), or YYYY-MM-DD HH:MM:SS", s)
}

// parseMeta reads --meta KEY=VAL[,KEY=VAL...].
func parseMeta(s string) ([][2]string, error) {
	var out [][2]string
	for _, kv := range splitList(s) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--meta %q: want KEY=VAL[,KEY=VAL...]", s)
		}
		out = append(out, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return out, nil
}

// violationFilter is the query and the client-side filters of the
// filter flags.
type violationFilter struct {
	query  client.ViolationQuery
	region string
	meta   [][2]string
	remeta *regexp.Regexp
	limit  int
}

func readFilter(c *cli.Context, env *clientEnv) (*violationFilter, error) {
	f := &violationFilter{region: strings.TrimSpace(c.String("region")), limit: c.Int("limit")}
	if f.limit < 1 {
		return nil, usagef("--limit (-l, FULLSTOP_LIMIT) must be 1 or more")
	}
	q := &f.query
	q.Accounts = env.settings.Accounts
	q.Type = strings.TrimSpace(c.String("type"))
	q.Applications = splitList(c.String("applications"))
	q.Versions = splitList(c.String("application-versions"))
	q.Sort = []string{"id,desc"}
	if s := c.String("since"); s != "" {
		t, err := parseSince(s, env.opts.now)
		if err != nil {
			return nil, err
		}
		q.From = &t
	}
	if s := strings.TrimSpace(c.String("severity")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, usagef("--severity (FULLSTOP_SEVERITY) %q is not a number", s)
		}
		q.Severity = &n
	}
	var err error
	if f.meta, err = parseMeta(c.String("meta")); err != nil {
		return nil, err
	}
	if s := c.String("remeta"); s != "" {
		if f.remeta, err = regexp.Compile(`^(?:` + s + `)`); err != nil {
			return nil, usagef("--remeta (-x, FULLSTOP_REMETA) %q: %v", s, err)
		}
	}
	return f, nil
}

// keep applies the client-side filters, as the reference: the region, each
// meta pair against meta_info's key as text, the regex against the start of
// the shown meta_info.
func (f *violationFilter) keep(v api.Violation) bool {
	if f.region != "" && (v.Region == nil || *v.Region != f.region) {
		return false
	}
	meta := metaValue(v.MetaInfo)
	if len(f.meta) > 0 {
		m, ok := meta.(map[string]any)
		if !ok {
			return false
		}
		for _, kv := range f.meta {
			val, ok := m[kv[0]]
			if !ok || metaText(val) != kv[1] {
				return false
			}
		}
	}
	return f.remeta == nil || f.remeta.MatchString(formatMeta(meta))
}

// metaText is a meta_info value as Python's str() shows a scalar.
func metaText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(v)
}

func listViolationsCommand() *cli.Command {
	return &cli.Command{
		Name:  "list-violations",
		Usage: "list open violations, newest last",
		Description: "Asks the server for the newest --limit open violations (with --all also as many resolved ones),\n" +
			"filters them by --region, --meta and --remeta, and prints them oldest first.",
		Flags: append(append(clientFlags(), outputFlag(),
			&cli.BoolFlag{Name: "all", EnvVars: []string{"FULLSTOP_ALL"}, Usage: "also the resolved violations"}), filterFlags()...),
		Action: func(c *cli.Context) error {
			env, err := openClient(c)
			if err != nil {
				return err
			}
			f, err := readFilter(c, env)
			if err != nil {
				return err
			}
			vs, err := env.c.ViolationsUpTo(c.Context, f.query, f.limit)
			if err != nil {
				return err
			}
			if c.Bool("all") {
				q := f.query
				q.State = "resolved"
				resolved, err := env.c.ViolationsUpTo(c.Context, q, f.limit)
				if err != nil {
					return err
				}
				vs = append(vs, resolved...)
			}
			var rows []row
			for _, v := range vs {
				if f.keep(v) {
					rows = append(rows, violationRow(v))
				}
			}
			slices.Reverse(rows)
			return printTable(env.out, c.String("output"), violationColumns, rows, env.opts)
		},
	}
}
