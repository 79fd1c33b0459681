package main

import (
	"slices"
	"strings"
	"testing"
)

func TestExpandCommand(t *testing.T) {
	t.Parallel()
	exact := []string{"run", "backfill", "serve", "migrate", "ledger", "help", "h"}
	abbrev := []string{"configure", "types", "list-violations", "resolve-violations", "reopen", "show-violation"}
	for _, tc := range []struct {
		in, want string // "" want: an error
		mention  string
	}{
		{"fullstop list --since 7d", "fullstop list-violations --since 7d", ""},
		{"fullstop l", "fullstop list-violations", ""},
		{"fullstop --log-level warn list -l 5", "fullstop --log-level warn list-violations -l 5", ""},
		{"fullstop --log-level=warn ty", "fullstop --log-level=warn types", ""},
		{"fullstop res -t X c", "fullstop resolve-violations -t X c", ""},
		{"fullstop run --source x", "fullstop run --source x", ""},
		{"fullstop serve", "fullstop serve", ""},
		{"fullstop list-violations", "fullstop list-violations", ""},
		{"fullstop rnu", "fullstop rnu", ""},
		{"fullstop", "fullstop", ""},
		{"fullstop --help", "fullstop --help", ""},
		{"fullstop re", "", "reopen, resolve-violations"},
		{"fullstop --log-level warn r", "", "resolve-violations, reopen"},
	} {
		got, err := expandCommand(strings.Fields(tc.in), exact, abbrev)
		if tc.want == "" {
			if err == nil || exitCode(err) != 2 {
				t.Errorf("%q: %v, %v; want a usage error", tc.in, got, err)
				continue
			}
			for _, m := range strings.Split(tc.mention, ", ") {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("%q: %v does not name %s", tc.in, err, m)
				}
			}
			continue
		}
		if err != nil || !slices.Equal(got, strings.Fields(tc.want)) {
			t.Errorf("%q: %v, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
