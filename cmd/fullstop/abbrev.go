package main

import (
	"slices"
	"strings"
)

// globalValueFlags are the global flags that take a value as the next
// argument.
var globalValueFlags = []string{"--log-format", "--log-level", "--cpuprofile", "--memory-limit",
	"-log-format", "-log-level", "-cpuprofile", "-memory-limit"}

// expandCommand replaces, in a command line (args[0] is the program), a
// command given as a unique prefix of one of abbreviable by its full name,
// as the reference's CLI does (fullstop list = fullstop list-violations).
// A name in exact is never expanded; a prefix of more than one of
// abbreviable is a usage error listing them.
func expandCommand(args, exact, abbreviable []string) ([]string, error) {
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return args, nil
		}
		if strings.HasPrefix(a, "-") {
			if slices.Contains(globalValueFlags, a) {
				i++ // its value
			}
			continue
		}
		if slices.Contains(exact, a) || slices.Contains(abbreviable, a) {
			return args, nil
		}
		var matches []string
		for _, c := range abbreviable {
			if strings.HasPrefix(c, a) {
				matches = append(matches, c)
			}
		}
		switch len(matches) {
		case 0:
			return args, nil // the application says it is unknown
		case 1:
			out := slices.Clone(args)
			out[i] = matches[0]
			return out, nil
		}
		return nil, usagef("%q is the start of several commands: %s", a, strings.Join(matches, ", "))
	}
	return args, nil
}
