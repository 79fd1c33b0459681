package main

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestHelpListsEveryFlagWithItsEnvironmentVariable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	app := newApp()
	flags := app.Flags
	var walk func(cmds []*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			flags = append(flags, c.Flags...)
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
	for _, f := range flags {
		name := f.Names()[0]
		if !strings.Contains(string(readme), "`--"+name+"`") {
			missing = append(missing, "--"+name)
		}
		ev, ok := f.(interface{ GetEnvVars() []string })
		if !ok || len(ev.GetEnvVars()) == 0 {
			missing = append(missing, "an environment variable for --"+name)
			continue
		}
		for _, e := range ev.GetEnvVars() {
			if !strings.Contains(string(readme), "`"+e+"`") {
				missing = append(missing, e)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("README's configuration table lacks: %v", missing)
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"400MiB", 400 << 20, true}, {"1GiB", 1 << 30, true}, {"512 KiB", 512 << 10, true}, {"1000B", 1000, true},
		{"123", 123, true}, {"0", 0, true}, {"-1MiB", 0, false}, {"lots", 0, false}, {"1.5GiB", 0, false}, {"", 0, false},
		{"99999999999GiB", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
