package sigma

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/fullstop-audit/fullstop/rules"
)

// RuleFile is r as a rule file (rules.LoadRules reads it back): the
// header, then the query.
func RuleFile(r rules.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- type: %s\n-- title: %s\n-- severity: %d\n-- priority: %d\n", r.Type, oneLine(r.Title), r.Severity, r.Priority)
	if r.Set != "" {
		fmt.Fprintf(&b, "-- set: %s\n", r.Set)
	}
	if len(r.Sources) > 0 {
		fmt.Fprintf(&b, "-- sources: %s\n", strings.Join(r.Sources, ", "))
	}
	if len(r.Events) > 0 {
		fmt.Fprintf(&b, "-- events: %s\n", strings.Join(r.Events, ", "))
	}
	if r.OnlyColumn != "" {
		fmt.Fprintf(&b, "-- only: %s = %s\n", r.OnlyColumn, strings.Join(r.OnlyValues, ", "))
	}
	if r.Correlation != nil {
		fmt.Fprintf(&b, "-- correlation: %s\n", r.Correlation)
	}
	words := strings.Fields(r.Help)
	line := "-- help:"
	for _, w := range words {
		if len(line)+1+len(w) > 100 && line != "-- help:" && line != "--  " {
			b.WriteString(line + "\n")
			line = "--  "
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
	fmt.Fprintf(&b, "--\n-- Compiled by fullstop from the Sigma rule %s.\n%s\n", r.File, r.SQL)
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// CompileDir compiles every *.yml and *.yaml file under dir of fsys, in
// name order. A rule that uses a construct the compiler does not support
// (ErrUnsupported) is left out and listed in refused, so a folder of
// someone else's rules (a SigmaHQ checkout) loads what it can; any other
// error (a file that is not a Sigma rule) is the error.
func CompileDir(fsys fs.FS, dir string) (out []rules.Rule, refused []error, err error) {
	var names []string
	err = fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := path.Ext(p); !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list the Sigma rules in %s: %w", dir, err)
	}
	sort.Strings(names)
	for _, n := range names {
		src, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, nil, err
		}
		rs, err := CompileFile(n, src)
		switch {
		case errors.Is(err, ErrUnsupported):
			refused = append(refused, err)
		case err != nil:
			return nil, nil, err
		default:
			out = append(out, rs...)
		}
	}
	return out, refused, nil
}
