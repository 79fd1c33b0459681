package sigma

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/fullstop-audit/fullstop/rules"
)

// node is a compiled part of a detection.
type node interface {
	sql() (string, error)
	// eval is the Go side of sql(): the same truth value for an event.
	eval(ev rules.Event) (tri, error)
}

type andNode []node
type orNode []node
type notNode struct{ n node }

// match is one field's test against one value.
type match struct {
	field string
	cond  string // the SQL condition
	// eq is the value the field must equal when the test is a plain
	// equality (no modifier), for the sources and events headers.
	eq    string
	plain bool
	// test is the Go side of cond; nil when there is none (errNoGo).
	test func(rules.Event) (tri, error)
}

func (n andNode) sql() (string, error) { return join(n, " AND ", "true") }
func (n orNode) sql() (string, error)  { return join(n, " OR ", "false") }
func (n notNode) sql() (string, error) {
	s, err := n.n.sql()
	return "NOT coalesce(" + s + ", false)", err
}
func (m match) sql() (string, error) { return m.cond, nil }

func join(ns []node, op, empty string) (string, error) {
	if len(ns) == 0 {
		return empty, nil
	}
	parts := make([]string, len(ns))
	for i, n := range ns {
		s, err := n.sql()
		if err != nil {
			return "", err
		}
		parts[i] = s
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return "(" + strings.Join(parts, op) + ")", nil
}

// detection compiles the detection section: its named searches and its
// condition.
func detection(d *yaml.Node) (node, error) {
	if d.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("detection: want a mapping")
	}
	searches := map[string]node{}
	var names []string
	var condition string
	for i := 0; i+1 < len(d.Content); i += 2 {
		k, v := d.Content[i].Value, d.Content[i+1]
		switch k {
		case "condition":
			if v.Kind == yaml.SequenceNode {
				return nil, fmt.Errorf("a list of conditions: %w", ErrUnsupported)
			}
			condition = v.Value
		case "timeframe":
			return nil, fmt.Errorf("timeframe: %w", ErrUnsupported)
		default:
			n, err := search(k, v)
			if err != nil {
				return nil, err
			}
			searches[k] = n
			names = append(names, k)
		}
	}
	if strings.TrimSpace(condition) == "" {
		return nil, fmt.Errorf("detection: no condition")
	}
	return parseCondition(condition, searches, names)
}

// search compiles one named search: a map of field tests (all must hold)
// or a list of such maps (one must).
func search(name string, v *yaml.Node) (node, error) {
	switch v.Kind {
	case yaml.MappingNode:
		return fieldMap(name, v)
	case yaml.SequenceNode:
		var or orNode
		for _, item := range v.Content {
			if item.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("search %q: keywords (values without a field): %w", name, ErrUnsupported)
			}
			m, err := fieldMap(name, item)
			if err != nil {
				return nil, err
			}
			or = append(or, m)
		}
		return or, nil
	}
	return nil, fmt.Errorf("search %q: keywords (values without a field): %w", name, ErrUnsupported)
}

func fieldMap(name string, v *yaml.Node) (node, error) {
	var and andNode
	for i := 0; i+1 < len(v.Content); i += 2 {
		n, err := fieldTest(v.Content[i].Value, v.Content[i+1])
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", name, err)
		}
		and = append(and, n)
	}
	return and, nil
}

// fieldTest compiles "field|modifier...: value or values".
func fieldTest(key string, v *yaml.Node) (node, error) {
	parts := strings.Split(key, "|")
	field, mods := parts[0], parts[1:]
	col, err := column(field)
	if err != nil {
		return nil, err
	}
	read, _ := fieldValue(field) // nil: this test has no Go side
	var values []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		values = []*yaml.Node{v}
	case yaml.SequenceNode:
		values = v.Content
	default:
		return nil, fmt.Errorf("field %q: a mapping as its value: %w", field, ErrUnsupported)
	}
	all, op, caseSensitive, ref := false, "", false, false
	for _, m := range mods {
		switch m {
		case "all":
			all = true
		case "fieldref":
			ref = true
		case "contains", "startswith", "endswith", "re", "cidr", "exists":
			if op != "" {
				return nil, fmt.Errorf("field %q: modifiers %s and %s together: %w", field, op, m, ErrUnsupported)
			}
			op = m
		case "cased":
			caseSensitive = true
		case "i", "m", "s":
			if op != "re" {
				return nil, fmt.Errorf("field %q: modifier %s without re: %w", field, m, ErrUnsupported)
			}
			if m != "i" {
				return nil, fmt.Errorf("field %q: regular expression flag %s: %w", field, m, ErrUnsupported)
			}
			caseSensitive = false
			op = "re|i"
		default:
			return nil, fmt.Errorf("field %q: modifier %q: %w", field, m, ErrUnsupported)
		}
	}
	if ref {
		switch op {
		case "", "contains", "startswith", "endswith":
			op = strings.TrimSuffix("fieldref|"+op, "|")
		default:
			return nil, fmt.Errorf("field %q: modifiers fieldref and %s together: %w", field, op, ErrUnsupported)
		}
	}
	var tests []node
	for _, val := range values {
		if val.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("field %q: a nested value: %w", field, ErrUnsupported)
		}
		t, err := valueTest(field, col, read, op, caseSensitive, val)
		if err != nil {
			return nil, err
		}
		tests = append(tests, t)
	}
	if len(tests) == 1 {
		return tests[0], nil
	}
	if all {
		return andNode(tests), nil
	}
	return orNode(tests), nil
}

func valueTest(field, col string, v value, op string, cased bool, val *yaml.Node) (node, error) {
	m, err := valueSQL(field, col, op, cased, val)
	if err != nil || v == nil {
		return m, err
	}
	m.test, err = valueGo(v, op, cased, val)
	if errors.Is(err, errNoGo) {
		return m, nil
	}
	return m, err
}

// valueGo is the Go side of the test valueSQL writes.
func valueGo(v value, op string, cased bool, val *yaml.Node) (func(rules.Event) (tri, error), error) {
	s := val.Value
	switch op {
	case "exists":
		b, _ := strconv.ParseBool(s) // valueSQL checked it
		return existsTest(v, b), nil
	case "fieldref", "fieldref|contains", "fieldref|startswith", "fieldref|endswith":
		other, err := fieldValue(s)
		if err != nil {
			return nil, err
		}
		return fieldrefTest(v, other, op, cased), nil
	case "re", "re|i":
		return regexTest(v, s, op == "re|i")
	case "cidr":
		p, _ := netip.ParsePrefix(s) // valueSQL checked it
		return cidrTest(v, p.Masked()), nil
	}
	if val.Tag == "!!null" {
		return emptyTest(v), nil
	}
	if !cased && !isASCII(s) {
		// Go's lower case of the value could differ from DuckDB's.
		return nil, fmt.Errorf("value %q compared without case: %w", s, errNoGo)
	}
	if pattern, wild := opPattern(op, s); wild {
		return likeTest(v, pattern, cased), nil
	}
	return eqTest(v, unescape(s), cased), nil
}

// valueSQL is the SQL condition of one field's test against one value.
func valueSQL(field, col, op string, cased bool, val *yaml.Node) (match, error) {
	s := val.Value
	null := val.Tag == "!!null"
	m := match{field: field}
	switch op {
	case "exists":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return match{}, fmt.Errorf("field %q: exists wants true or false, not %q", field, s)
		}
		m.cond = col + " IS NOT NULL"
		if !b {
			m.cond = col + " IS NULL"
		}
		return m, nil
	case "fieldref", "fieldref|contains", "fieldref|startswith", "fieldref|endswith":
		other, err := column(s)
		if err != nil {
			return match{}, err
		}
		a, b := "lower("+col+")", "lower("+other+")"
		if cased {
			a, b = col, other
		}
		fn := map[string]string{"fieldref|contains": "contains", "fieldref|startswith": "starts_with", "fieldref|endswith": "suffix"}[op]
		if fn == "" {
			m.cond = a + " = " + b
		} else {
			m.cond = fmt.Sprintf("%s(%s, %s)", fn, a, b)
		}
		return m, nil
	case "re", "re|i":
		flags := ""
		if op == "re|i" {
			flags = ", 'i'"
		}
		m.cond = fmt.Sprintf("regexp_matches(%s, %s%s)", col, quote(s), flags)
		return m, nil
	case "cidr":
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return match{}, fmt.Errorf("field %q: cidr %q: %v", field, s, err)
		}
		if !p.Addr().Is4() {
			return match{}, fmt.Errorf("field %q: IPv6 cidr %s: %w", field, s, ErrUnsupported)
		}
		p = p.Masked()
		lo := ipv4Number(p.Addr())
		hi := lo + (uint64(1) << (32 - p.Bits())) - 1
		m.cond = fmt.Sprintf("ipv4_number(%s) BETWEEN %d AND %d", col, lo, hi)
		return m, nil
	}
	if null {
		m.cond = "coalesce(" + col + ", '') = ''"
		return m, nil
	}
	pattern, wild := opPattern(op, s)
	if op == "" {
		m.eq, m.plain = s, true
	}
	switch {
	case wild && cased:
		m.cond = fmt.Sprintf("%s LIKE %s ESCAPE '\\'", col, quote(pattern))
	case wild:
		m.cond = fmt.Sprintf("%s ILIKE %s ESCAPE '\\'", col, quote(pattern))
	case cased:
		m.cond = fmt.Sprintf("%s = %s", col, quote(unescape(s)))
	default:
		m.cond = fmt.Sprintf("lower(%s) = lower(%s)", col, quote(unescape(s)))
	}
	return m, nil
}

// opPattern is the LIKE pattern of a value with the modifier op
// (contains, startswith, endswith or none), and whether it has a
// wildcard.
func opPattern(op, s string) (string, bool) {
	pattern, wild := likePattern(s)
	switch op {
	case "contains":
		return "%" + pattern + "%", true
	case "startswith":
		return pattern + "%", true
	case "endswith":
		return "%" + pattern, true
	}
	return pattern, wild
}

func ipv4Number(a netip.Addr) uint64 {
	b := a.As4()
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

// likePattern turns a Sigma value (* and ? wildcards, \ escapes) into a
// LIKE pattern with \ as the escape, and reports whether it has a
// wildcard.
func likePattern(s string) (string, bool) {
	var b strings.Builder
	wild := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			i++
			b.WriteByte(s[i])
		case c == '*':
			b.WriteByte('%')
			wild = true
		case c == '?':
			b.WriteByte('_')
			wild = true
		case c == '%' || c == '_' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), wild
}

// unescape drops the \ of escaped wildcards in a value without wildcards.
func unescape(s string) string {
	r := strings.NewReplacer(`\*`, "*", `\?`, "?", `\\`, `\`)
	return r.Replace(s)
}

// parseCondition parses a condition: and, or, not, parentheses, "1 of X",
// "all of X" with X a search name, a name with * wildcards, or them.
func parseCondition(cond string, searches map[string]node, names []string) (node, error) {
	if strings.Contains(cond, "|") {
		return nil, fmt.Errorf("condition %q: aggregations (|): %w", cond, ErrUnsupported)
	}
	p := &condParser{toks: tokenize(cond), searches: searches, names: names}
	n, err := p.or()
	if err != nil {
		return nil, fmt.Errorf("condition %q: %w", cond, err)
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("condition %q: unexpected %q", cond, p.toks[p.pos])
	}
	return n, nil
}

func tokenize(s string) []string {
	s = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)
	return strings.Fields(s)
}

type condParser struct {
	toks     []string
	pos      int
	searches map[string]node
	names    []string
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *condParser) or() (node, error) {
	ns, err := p.binary("or", p.and)
	if err != nil || len(ns) == 1 {
		return first(ns), err
	}
	return orNode(ns), nil
}

func (p *condParser) and() (node, error) {
	ns, err := p.binary("and", p.not)
	if err != nil || len(ns) == 1 {
		return first(ns), err
	}
	return andNode(ns), nil
}

// binary parses operand (op operand)* and returns the operands.
func (p *condParser) binary(op string, operand func() (node, error)) ([]node, error) {
	n, err := operand()
	if err != nil {
		return nil, err
	}
	ns := []node{n}
	for strings.EqualFold(p.peek(), op) {
		p.pos++
		n, err := operand()
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	return ns, nil
}

func first(ns []node) node {
	if len(ns) == 0 {
		return nil
	}
	return ns[0]
}

func (p *condParser) not() (node, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.pos++
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.atom()
}

func (p *condParser) atom() (node, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("ends too early")
	case t == "(":
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("no ) for a (")
		}
		p.pos++
		return n, nil
	case t == "1" || strings.EqualFold(t, "all") || isCount(t):
		p.pos++
		if !strings.EqualFold(p.peek(), "of") {
			return nil, fmt.Errorf("%q without of", t)
		}
		p.pos++
		if isCount(t) && t != "1" {
			return nil, fmt.Errorf("%s of: %w", t, ErrUnsupported)
		}
		target := p.peek()
		if target == "" {
			return nil, fmt.Errorf("%s of what?", t)
		}
		p.pos++
		var group []node
		for _, name := range p.names {
			if strings.EqualFold(target, "them") && !strings.HasPrefix(name, "_") {
				group = append(group, p.searches[name])
			} else if ok, _ := path.Match(target, name); ok {
				group = append(group, p.searches[name])
			}
		}
		if len(group) == 0 {
			return nil, fmt.Errorf("%s of %s: no search matches", t, target)
		}
		if t == "1" {
			return orNode(group), nil
		}
		return andNode(group), nil
	}
	n, ok := p.searches[t]
	if !ok {
		return nil, fmt.Errorf("no search named %q", t)
	}
	p.pos++
	return n, nil
}

func isCount(t string) bool {
	_, err := strconv.Atoi(t)
	return err == nil
}

// constrained returns the values a field must equal for the condition to
// hold, when the condition forces one of them (plain equalities on every
// path); ok is false when the field may take any value.
func constrained(n node, field string) ([]string, bool) {
	switch x := n.(type) {
	case match:
		if x.field == field && x.plain {
			return []string{x.eq}, true
		}
		return nil, false
	case andNode:
		var best []string
		found := false
		for _, c := range x {
			if vs, ok := constrained(c, field); ok && (!found || len(vs) < len(best)) {
				best, found = vs, true
			}
		}
		return best, found
	case orNode:
		var all []string
		for _, c := range x {
			vs, ok := constrained(c, field)
			if !ok {
				return nil, false
			}
			for _, v := range vs {
				if !slices.Contains(all, v) {
					all = append(all, v)
				}
			}
		}
		return all, len(x) > 0
	}
	return nil, false
}
