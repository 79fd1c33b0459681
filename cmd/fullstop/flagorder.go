package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// flagsFirst moves the flags of the command a command line (args[0] is the
// program) runs that follow its arguments in front of them, so that
// `fullstop sigma compile rules/ --out compiled/` means what `fullstop
// sigma compile --out compiled/ rules/` does: the command-line library
// stops reading flags at the first argument. Only the command's own flags
// move, each with its value when it takes one as the next argument; an
// argument that merely starts with "-" stays where it is, and so does
// everything after "--". Global flags (before the command) and the
// relative order of the arguments are left as they are. A help flag
// after the arguments shows the command's help.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	i := skipFlags(args, 1, app.Flags)
	if i >= len(args) {
		return args
	}
	cmd := findCommand(app.Commands, args[i])
	if cmd == nil {
		return args
	}
	i++
	for {
		i = skipFlags(args, i, cmd.Flags)
		if i >= len(args) || len(cmd.Subcommands) == 0 {
			break
		}
		sub := findCommand(cmd.Subcommands, args[i])
		if sub == nil {
			break
		}
		cmd, i = sub, i+1
	}
	if i >= len(args) || cmd.SkipFlagParsing {
		return args
	}
	var flags, rest []string
	for j := i; j < len(args); j++ {
		a := args[j]
		if a == "--" {
			rest = append(rest, args[j:]...)
			break
		}
		f, known := lookupFlag(cmd.Flags, a)
		if !known || takesNext(f, a) && j+1 == len(args) {
			// Not a flag of the command, or one without its value (left
			// for the library to report).
			rest = append(rest, a)
			continue
		}
		if f == cli.HelpFlag {
			// Help ignores the arguments (it would take one for a topic).
			return append(slices.Clone(args[:i]), a)
		}
		flags = append(flags, a)
		if takesNext(f, a) {
			j++
			flags = append(flags, args[j])
		}
	}
	if len(flags) == 0 {
		return args
	}
	out := slices.Clone(args[:i])
	return append(append(out, flags...), rest...)
}

// skipFlags returns the index of the first argument from i on that is not
// one of flags (or the value of one).
func skipFlags(args []string, i int, flags []cli.Flag) int {
	for i < len(args) {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			return i
		}
		if f, ok := lookupFlag(flags, a); ok && takesNext(f, a) {
			i++
		}
		i++
	}
	return i
}

// findCommand returns the command of cmds named or aliased name, or nil.
func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// lookupFlag returns the flag of flags that arg (-name, --name, or either
// with =value) sets; help is every command's.
func lookupFlag(flags []cli.Flag, arg string) (cli.Flag, bool) {
	if !strings.HasPrefix(arg, "-") || arg == "-" {
		return nil, false
	}
	name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	name, _, _ = strings.Cut(name, "=")
	if name == "" {
		return nil, false
	}
	for _, f := range append(slices.Clip(flags), cli.HelpFlag) {
		if slices.Contains(f.Names(), name) {
			return f, true
		}
	}
	return nil, false
}

// takesNext reports whether flag f, given as arg, takes the next argument
// as its value: it takes a value, and arg has no =value.
func takesNext(f cli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	v, ok := f.(cli.DocGenerationFlag)
	return ok && v.TakesValue()
}
