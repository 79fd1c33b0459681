package sigma

// The Go side of a compiled rule: the detection evaluated event by event
// with the SQL's three-valued logic, and the violation built as the
// query's select list builds it. Every test mirrors the SQL valueTest
// writes; where Go could disagree with DuckDB (case folding beyond
// ASCII, a _ wildcard over non-ASCII text) it returns
// rules.ErrUndecided and the engine runs the query instead.

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fullstop-audit/fullstop/rules"
)

// tri is a SQL truth value.
type tri uint8

const (
	triFalse tri = iota
	triTrue
	triNull
)

func boolTri(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// errNoGo marks a construct the Go side does not evaluate: the rule then
// has no Detector and runs as SQL only.
var errNoGo = errors.New("no Go evaluation")

// value reads a field of an event as text; false is NULL.
type value func(ev rules.Event) (string, bool, error)

// fieldValue is the Go reading of the SQL expression column(field) gives.
func fieldValue(field string) (value, error) {
	f, err := resolve(field)
	switch {
	case err != nil:
		return nil, err
	case f.path != nil:
		return func(ev rules.Event) (string, bool, error) { return ev.JSONText(f.col, f.path) }, nil
	case typed[f.col]:
		return nil, fmt.Errorf("field %q, not text in Go: %w", field, errNoGo)
	}
	return func(ev rules.Event) (string, bool, error) {
		s, ok := ev.Text(f.col)
		return s, ok, nil
	}, nil
}

func (n andNode) eval(ev rules.Event) (tri, error) { return decide(n, ev, triFalse) }
func (n orNode) eval(ev rules.Event) (tri, error)  { return decide(n, ev, triTrue) }

// decide is SQL's AND (decisive false) or OR (decisive true) of ns: the
// decisive value if one operand has it, whatever the others are (also
// those Go cannot decide), else NULL if one is NULL, else the other value.
func decide(ns []node, ev rules.Event, decisive tri) (tri, error) {
	out := triTrue // AND of no false operand
	if decisive == triTrue {
		out = triFalse // OR of no true operand
	}
	var undecided error
	for _, c := range ns {
		t, err := c.eval(ev)
		switch {
		case err != nil:
			undecided = err
		case t == decisive:
			return decisive, nil
		case t == triNull:
			out = triNull
		}
	}
	return out, undecided
}

// eval is NOT coalesce(n, false).
func (n notNode) eval(ev rules.Event) (tri, error) {
	t, err := n.n.eval(ev)
	if err != nil {
		return 0, err
	}
	return boolTri(t != triTrue), nil
}

func (m match) eval(ev rules.Event) (tri, error) { return m.test(ev) }

// canEval reports whether every test of n has a Go side.
func canEval(n node) bool {
	switch x := n.(type) {
	case andNode:
		return !slices.ContainsFunc(x, func(c node) bool { return !canEval(c) })
	case orNode:
		return !slices.ContainsFunc(x, func(c node) bool { return !canEval(c) })
	case notNode:
		return canEval(x.n)
	case match:
		return x.test != nil
	}
	return false
}

// unary is a test of one field's value that is NULL when the value is.
func unary(v value, f func(s string) (bool, error)) func(rules.Event) (tri, error) {
	return func(ev rules.Event) (tri, error) {
		s, ok, err := v(ev)
		if err != nil || !ok {
			return triNull, err
		}
		b, err := f(s)
		return boolTri(b), err
	}
}

// checkFold reports rules.ErrUndecided when comparing s without case
// to an ASCII pattern byte by byte, with ASCII's case folding, could
// differ from comparing DuckDB's lower(s): when s has a letter whose lower
// case is ASCII (KELVIN SIGN → k, İ → i); others lower to non-ASCII text,
// which cannot match ASCII. keepLength: refuse any non-ASCII text, for a
// pattern whose _ counts characters.
func checkFold(s string, keepLength bool) error {
	if isASCII(s) {
		return nil
	}
	if keepLength || strings.ContainsAny(s, "\u212a\u0130") {
		return rules.ErrUndecided
	}
	return nil
}

// lower is an ASCII byte in lower case; other bytes unchanged.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalLower reports whether s in ASCII lower case is l (lower case).
func equalLower(s, l string) bool {
	if len(s) != len(l) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != l[i] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// existsTest is col IS [NOT] NULL. A JSON member whose text only
// DuckDB writes still exists (rules.Event.JSONText).
func existsTest(v value, want bool) func(rules.Event) (tri, error) {
	return func(ev rules.Event) (tri, error) {
		_, ok, err := v(ev)
		if err != nil && !ok {
			return 0, err
		}
		return boolTri(ok == want), nil
	}
}

// emptyTest is coalesce(col, ”) = ”: false for a JSON member whose
// text only DuckDB writes, as that text is never empty.
func emptyTest(v value) func(rules.Event) (tri, error) {
	return func(ev rules.Event) (tri, error) {
		s, ok, err := v(ev)
		if err != nil && !ok {
			return 0, err
		}
		return boolTri(!ok || (err == nil && s == "")), nil
	}
}

// fieldrefTest compares two fields: lower(a) = lower(b), or contains,
// starts_with, suffix of them.
func fieldrefTest(a, b value, op string, cased bool) func(rules.Event) (tri, error) {
	cmp := map[string]func(x, y string) bool{
		"fieldref": func(x, y string) bool { return x == y }, "fieldref|contains": strings.Contains,
		"fieldref|startswith": strings.HasPrefix, "fieldref|endswith": strings.HasSuffix,
	}[op]
	return func(ev rules.Event) (tri, error) {
		x, ok, err := a(ev)
		if err != nil || !ok {
			return triNull, err
		}
		y, ok, err := b(ev)
		if err != nil || !ok {
			return triNull, err
		}
		if !cased {
			if !isASCII(x) || !isASCII(y) {
				return 0, rules.ErrUndecided
			}
			x, y = strings.ToLower(x), strings.ToLower(y)
		}
		return boolTri(cmp(x, y)), nil
	}
}

// regexTest is regexp_matches(col, re[, 'i']): RE2 in both, a search.
func regexTest(v value, re string, fold bool) (func(rules.Event) (tri, error), error) {
	if fold {
		re = "(?i)" + re
	}
	rx, err := regexp.Compile(re)
	if err != nil {
		return nil, fmt.Errorf("regular expression %q in Go: %w", re, errNoGo)
	}
	return unary(v, func(s string) (bool, error) {
		if fold && !isASCII(s) {
			return false, rules.ErrUndecided
		}
		return rx.MatchString(s), nil
	}), nil
}

// cidrTest is ipv4_number(col) BETWEEN lo AND hi: NULL when col is not
// a dotted quad of numbers up to 255 (leading zeros allowed, as the macro
// allows them).
func cidrTest(v value, p netip.Prefix) func(rules.Event) (tri, error) {
	return func(ev rules.Event) (tri, error) {
		s, ok, err := v(ev)
		if err != nil || !ok {
			return triNull, err
		}
		n, ok := ipv4Num(s)
		if !ok {
			return triNull, nil
		}
		a := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		return boolTri(p.Contains(a)), nil
	}
}

func ipv4Num(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return 0, false
	}
	var n uint32
	for _, p := range parts {
		if len(p) < 1 || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return 0, false
		}
		x, _ := strconv.Atoi(p)
		if x > 255 {
			return 0, false
		}
		n = n<<8 | uint32(x)
	}
	return n, true
}

// likeTest is col [I]LIKE pattern ESCAPE '\', pattern from likePattern.
func likeTest(v value, pattern string, cased bool) func(rules.Event) (tri, error) {
	if !cased {
		pattern = strings.ToLower(pattern) // ASCII: valueGo checked it
	}
	toks := likeTokens(pattern)
	if !slices.ContainsFunc(toks, func(t likeToken) bool { return t.kind != likeAny }) {
		// Only %: any text matches, also a JSON member's whose text only
		// DuckDB writes (contains: '*' of a list).
		return func(ev rules.Event) (tri, error) {
			_, ok, err := v(ev)
			switch {
			case err != nil && !ok:
				return 0, err
			case !ok:
				return triNull, nil
			}
			return triTrue, nil
		}
	}
	underscore := slices.ContainsFunc(toks, func(t likeToken) bool { return t.kind == likeOne })
	return unary(v, func(s string) (bool, error) {
		if !cased {
			if err := checkFold(s, underscore); err != nil {
				return false, err
			}
		} else if underscore && !isASCII(s) {
			return false, rules.ErrUndecided
		}
		return like(s, toks, !cased), nil
	})
}

type likeKind uint8

const (
	likeByte likeKind = iota // one given byte
	likeOne                  // _: any one byte
	likeAny                  // %: any run of bytes
)

type likeToken struct {
	kind likeKind
	b    byte
}

// likeTokens reads a LIKE pattern with \ as its escape.
func likeTokens(p string) []likeToken {
	var out []likeToken
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '%':
			out = append(out, likeToken{kind: likeAny})
		case c == '_':
			out = append(out, likeToken{kind: likeOne})
		case c == '\\' && i+1 < len(p):
			i++
			out = append(out, likeToken{b: p[i]})
		default:
			out = append(out, likeToken{b: c})
		}
	}
	return out
}

// like matches s against the tokens of a LIKE pattern, going back only to
// the last %, which is enough since a % matches any run. fold: s in ASCII
// lower case (the pattern is lower case).
func like(s string, p []likeToken, fold bool) bool {
	i, j := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case j < len(p) && p[j].kind == likeAny:
			star, mark = j, i
			j++
		case j < len(p) && (p[j].kind == likeOne || p[j].b == s[i] || fold && p[j].b == lower(s[i])):
			i++
			j++
		case star >= 0:
			mark++
			i, j = mark, star+1
		default:
			return false
		}
	}
	for j < len(p) && p[j].kind == likeAny {
		j++
	}
	return j == len(p)
}

// eqTest is col = v, or lower(col) = lower(v).
func eqTest(v value, want string, cased bool) func(rules.Event) (tri, error) {
	if cased {
		return unary(v, func(s string) (bool, error) { return s == want, nil })
	}
	lw := strings.ToLower(want) // ASCII: valueGo checked it
	return unary(v, func(s string) (bool, error) {
		if err := checkFold(s, false); err != nil {
			return false, err
		}
		return equalLower(s, lw), nil
	})
}
