package main

import (
	"io"
	"strings"
	"testing"
)

func TestFlagsFirst(t *testing.T) {
	t.Parallel()
	app := newAppTo(io.Discard)
	for _, tc := range []struct{ in, want string }{
		// The form: the files, then --out.
		{"fullstop sigma compile rules/ --out compiled/", "fullstop sigma compile --out compiled/ rules/"},
		{"fullstop sigma compile a.yml --out=c b.yml", "fullstop sigma compile --out=c a.yml b.yml"},
		{"fullstop sigma compile --out c a.yml", "fullstop sigma compile --out c a.yml"},
		// Global flags before the command stay there.
		{"fullstop --log-level warn sigma compile a --out c", "fullstop --log-level warn sigma compile --out c a"},
		// A flag without a value (bool) takes no argument with it.
		{"fullstop ledger retry --failed", "fullstop ledger retry --failed"},
		{"fullstop ledger retry k1 --database-url u k2", "fullstop ledger retry --database-url u k1 k2"},
		{"fullstop ledger retry k1 --quarantined k2", "fullstop ledger retry --quarantined k1 k2"},
		// After "--" everything is an argument.
		{"fullstop sigma compile a -- --out c", "fullstop sigma compile a -- --out c"},
		{"fullstop sigma compile a --out c -- --x", "fullstop sigma compile --out c a -- --x"},
		// What is not one of the command's flags stays where it is.
		{"fullstop rules test T -v", "fullstop rules test T -v"},
		{"fullstop query --lake l '--x' -o csv", "fullstop query --lake l -o csv '--x'"},
		// Help after the arguments is the command's help.
		{"fullstop sigma compile a.yml --help", "fullstop sigma compile --help"},
		{"fullstop rules test T -h", "fullstop rules test -h"},
		// Nothing to move, or no command.
		{"fullstop", "fullstop"},
		{"fullstop --log-level warn", "fullstop --log-level warn"},
		{"fullstop nosuch a --out c", "fullstop nosuch a --out c"},
		{"fullstop rules list", "fullstop rules list"},
		{"fullstop rules list --rules sigma", "fullstop rules list --rules sigma"},
		{"fullstop rules test T1 --dir d T2", "fullstop rules test --dir d T1 T2"},
		// A flag without its value at the very end keeps its place: it
		// must not take an argument for its value.
		{"fullstop sigma compile a --out", "fullstop sigma compile a --out"},
	} {
		got := strings.Join(flagsFirst(app, strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("flagsFirst(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
