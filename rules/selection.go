package rules

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// The rule sets: a rule's Set.
const (
	SetReference = "reference" // the SQL rule files, sql/rules/
	SetSigma     = "sigma"     // compiled Sigma rules, ours and the user's
)

// DefaultSelection is the selection when none is configured: the
// reference's rules and the Sigma rules of level medium and above.
const DefaultSelection = SetReference + "," + SetSigma + ":medium"

// Levels are Sigma's levels in rising order; a level's index is the
// severity of the rules compiled from it.
var Levels = []string{"informational", "low", "medium", "high", "critical"}

// ErrSelection is wrapped by every error about a rule selection.
var ErrSelection = errors.New("invalid rule selection")

// Selection chooses the rules that run: a comma list of items, applied in
// order. An item is a set ("reference", "sigma"), a set with the lowest
// level it keeps ("sigma:high": severity 3 and above), a violation type,
// or a glob of types ("SIGMA_*", "*_POLICY"); a leading "-" takes the
// item's rules out again. A list whose first item takes out starts from
// DefaultSelection, so "-SIGMA_X" is the default without SIGMA_X.
type Selection struct {
	spec  string
	items []selItem
}

type selItem struct {
	remove   bool
	set      string // a set, or "" for a type glob
	severity int    // the lowest severity a set item keeps
	glob     string // upper-case type glob
}

// ParseSelection parses spec; an empty spec is DefaultSelection.
func ParseSelection(spec string) (Selection, error) {
	if strings.TrimSpace(spec) == "" {
		spec = DefaultSelection
	}
	s := Selection{spec: spec}
	for _, raw := range strings.Split(spec, ",") {
		item := strings.TrimSpace(raw)
		if item == "" {
			continue
		}
		var it selItem
		if rest, ok := strings.CutPrefix(item, "-"); ok {
			it.remove, item = true, strings.TrimSpace(rest)
		}
		name, level, hasLevel := strings.Cut(item, ":")
		switch lower := strings.ToLower(name); {
		case lower == SetReference || lower == SetSigma:
			it.set = lower
			if hasLevel {
				it.severity = slices.Index(Levels, strings.ToLower(level))
				if it.severity < 0 {
					return Selection{}, fmt.Errorf("%q: level %q is not one of %s: %w", item, level, strings.Join(Levels, ", "), ErrSelection)
				}
			}
		case hasLevel:
			return Selection{}, fmt.Errorf("%q: only the sets %s and %s take a level: %w", item, SetReference, SetSigma, ErrSelection)
		default:
			it.glob = strings.ToUpper(name)
			if _, err := path.Match(it.glob, ""); err != nil || it.glob == "" {
				return Selection{}, fmt.Errorf("%q: not a set, a type or a glob of types: %w", item, ErrSelection)
			}
		}
		if len(s.items) == 0 && it.remove && spec != DefaultSelection {
			def, _ := ParseSelection(DefaultSelection)
			s.items = def.items
		}
		s.items = append(s.items, it)
	}
	if len(s.items) == 0 {
		return Selection{}, fmt.Errorf("%q selects no rules: %w", spec, ErrSelection)
	}
	return s, nil
}

// String is the selection as configured.
func (s Selection) String() string { return s.spec }

// Apply returns the rules of all that s selects, in their order. A type or
// glob that names none of all is an error, so a typo does not quietly turn
// a rule off.
func (s Selection) Apply(all []Rule) ([]Rule, error) {
	on := make([]bool, len(all))
	for _, it := range s.items {
		matched := false
		for i, r := range all {
			if it.matches(r) {
				on[i], matched = !it.remove, true
			}
		}
		if !matched && it.set == "" {
			return nil, fmt.Errorf("%q names no rule (see fullstop rules list): %w", it.glob, ErrSelection)
		}
	}
	var out []Rule
	for i, r := range all {
		if on[i] {
			out = append(out, r)
		}
	}
	return out, nil
}

func (it selItem) matches(r Rule) bool {
	if it.set != "" {
		return r.SetName() == it.set && r.Severity >= it.severity
	}
	ok, _ := path.Match(it.glob, r.Type)
	return ok
}

// SetName is the rule's set: Set, or SetReference when it is empty.
func (r Rule) SetName() string {
	if r.Set == "" {
		return SetReference
	}
	return r.Set
}
