package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ohler55/ojg/jp"
)

// The JSONPath criterion follows Jayway JsonPath, the library of the
// reference system. github.com/ohler55/ojg/jp parses it: normalizeJaywayPath
// first rewrites the Jayway syntax that ojg reads differently, ojg parses
// the result into fragments and its filters into forms (Filter.Inspect),
// and convertPath compiles those into a jpPath, which this file evaluates
// with Jayway's semantics. ojg's own evaluator (Expr.Get) is not used: it
// differs from Jayway where whitelisting rules depend on it:
//
//   - ojg applies a filter to an object's member values; Jayway applies it
//     to the object itself (it selects the object if the predicate holds),
//     and filters the elements of an array only. That is what makes
//     `$.[?(@.grantees == [...])]` select an object meta_info.
//   - ojg's == panics on two arrays (it compares them with Go's ==);
//     Jayway compares arrays and objects by value, and a number with a
//     numeric string by number.
//   - ojg's =~ looks for the regex anywhere in the string; Jayway's must
//     match all of it.
//   - ojg evaluates $ in a filter nested in a filter against the node the
//     outer filter tests; Jayway against the document.
//
// ojg's extensions that Jayway lacks (arithmetic, functions such as
// length() or match(), Nothing, slice steps) are refused when the rule is
// compiled, and so is the Jayway that ojg cannot parse (the operators nin,
// subsetof, anyof, noneof, size and contains, functions such as .length(),
// object literals, and regex flags other than i, m, s and u): a rule is
// never evaluated with a meaning other than Jayway's.

// WhitelistRule holds a whitelisting rule's criteria; a blank criterion is
// not checked.
type WhitelistRule struct {
	ID                 int64
	AccountID          string
	Region             string
	Type               string // violation type id
	ImageName          string // regex, full match against meta_info.ami_name
	ImageOwner         string // equals meta_info.ami_owner_id
	ApplicationID      string // application name
	ApplicationVersion string // version name
	MetaInfoJSONPath   string // non-empty result on meta_info
	Reason             string
}

// Names of the rule criteria that must compile, as WhitelistRuleError.Field
// gives them.
const (
	FieldImageName        = "image_name"
	FieldMetaInfoJSONPath = "meta_info_json_path"
)

// WhitelistRuleError says which criterion of a rule does not compile.
type WhitelistRuleError struct {
	Field string // FieldImageName or FieldMetaInfoJSONPath
	Err   error
}

// Error returns the field and the reason it does not compile.
func (e *WhitelistRuleError) Error() string {
	return fmt.Sprintf("invalid %s: %v", e.Field, e.Err)
}

// Unwrap returns the reason the field does not compile.
func (e *WhitelistRuleError) Unwrap() error { return e.Err }

// ErrNoCriterion is the error of a whitelisting rule with no non-blank
// criterion: such a rule would never match, and the API refuses to create
// it.
var ErrNoCriterion = errors.New("whitelist rule has no criterion")

// Limits of a JSONPath criterion, so that a rule cannot make the parser
// recurse without bound.
const (
	maxJSONPathLen   = 4096
	maxJSONPathDepth = 64 // nesting of brackets and parentheses
)

// CompiledWhitelistRule is a whitelisting rule ready to be matched: its
// criteria trimmed, its regex and JSONPath compiled.
type CompiledWhitelistRule struct {
	rule WhitelistRule

	// Trimmed criteria; "" is not checked.
	accountID, region, typ, imageOwner, application, version string
	imageName                                                *regexp.Regexp // nil: not checked
	metaPath                                                 *jpPath        // nil: not checked

	hasCriterion bool
	needsMeta    bool
}

// CompileWhitelistRule trims the criteria of r and compiles its image_name
// regex and its meta_info_json_path. A criterion that does not compile
// gives a *WhitelistRuleError. A rule with no criterion compiles, but never
// matches; Validate reports it.
func CompileWhitelistRule(r WhitelistRule) (*CompiledWhitelistRule, error) {
	c := &CompiledWhitelistRule{
		rule:        r,
		accountID:   strings.TrimSpace(r.AccountID),
		region:      strings.TrimSpace(r.Region),
		typ:         strings.TrimSpace(r.Type),
		imageOwner:  strings.TrimSpace(r.ImageOwner),
		application: strings.TrimSpace(r.ApplicationID),
		version:     strings.TrimSpace(r.ApplicationVersion),
	}
	if s := strings.TrimSpace(r.ImageName); s != "" {
		re, err := compileFullMatch(s)
		if err != nil {
			return nil, &WhitelistRuleError{Field: FieldImageName, Err: err}
		}
		c.imageName = re
	}
	if s := strings.TrimSpace(r.MetaInfoJSONPath); s != "" {
		p, err := compileJSONPath(s)
		if err != nil {
			return nil, &WhitelistRuleError{Field: FieldMetaInfoJSONPath, Err: err}
		}
		c.metaPath = p
	}
	c.needsMeta = c.imageName != nil || c.imageOwner != "" || c.metaPath != nil
	c.hasCriterion = c.needsMeta || c.accountID != "" || c.region != "" ||
		c.typ != "" || c.application != "" || c.version != ""
	return c, nil
}

// Validate reports whether r can be created: the *WhitelistRuleError of a
// criterion that does not compile, or ErrNoCriterion.
func (r WhitelistRule) Validate() error {
	c, err := CompileWhitelistRule(r)
	if err != nil {
		return err
	}
	if !c.hasCriterion {
		return ErrNoCriterion
	}
	return nil
}

// Rule returns the rule as it was compiled, criteria untrimmed.
func (r *CompiledWhitelistRule) Rule() WhitelistRule { return r.rule }

// WhitelistCandidate is what rules are matched against.
type WhitelistCandidate struct {
	AccountID, Region, Type string
	MetaInfo                string // JSON text ("" = null)
	Application             string // application name, "" = none
	Version                 string // version name, "" = none
}

// Whitelist is the candidate rules of a violation, in id order.
type Whitelist []*CompiledWhitelistRule

// Match returns the first rule that matches c, or nil. It parses c.MetaInfo
// at most once, however many rules it tries.
func (w Whitelist) Match(c WhitelistCandidate) *CompiledWhitelistRule {
	meta := metaInfo{text: c.MetaInfo}
	for _, r := range w {
		if r != nil && r.matches(&c, &meta) {
			return r
		}
	}
	return nil
}

// Matches reports whether every criterion of r holds for c; a rule with no
// criterion never matches.
func (r *CompiledWhitelistRule) Matches(c WhitelistCandidate) bool {
	meta := metaInfo{text: c.MetaInfo}
	return r.matches(&c, &meta)
}

// matches checks the criteria that need no meta_info first, so that the
// meta_info of a candidate is parsed only for a rule that could match.
func (r *CompiledWhitelistRule) matches(c *WhitelistCandidate, meta *metaInfo) bool {
	if !r.hasCriterion ||
		r.accountID != "" && r.accountID != c.AccountID ||
		r.region != "" && r.region != c.Region ||
		r.typ != "" && r.typ != c.Type ||
		r.application != "" && r.application != c.Application ||
		r.version != "" && r.version != c.Version {
		return false
	}
	if !r.needsMeta {
		return true
	}
	doc, ok := meta.get()
	if !ok {
		return false
	}
	if r.imageName != nil || r.imageOwner != "" {
		m, isObject := doc.(map[string]any)
		if !isObject {
			return false
		}
		if r.imageOwner != "" && !equalsText(m["ami_owner_id"], r.imageOwner) {
			return false
		}
		if r.imageName != nil {
			name, isString := m["ami_name"].(string)
			if !isString || !r.imageName.MatchString(name) {
				return false
			}
		}
	}
	return r.metaPath == nil || r.metaPath.selects(doc)
}

// equalsText reports whether v is the string s, or a JSON number written s.
func equalsText(v any, s string) bool {
	switch t := v.(type) {
	case string:
		return t == s
	case json.Number:
		return string(t) == s
	}
	return false
}

// WhitelistComment is the comment a whitelisted violation gets.
func WhitelistComment(reason string) string {
	return "Whitelisted automatically because of:" + reason
}

// metaInfo is a candidate's meta_info, parsed on first use.
type metaInfo struct {
	text   string
	parsed bool
	doc    any
	ok     bool // doc is a JSON value other than null
	parses int  // times parsed, for the tests
}

// get returns the parsed meta_info, and false if it is null or not JSON.
// Numbers are json.Number, so that they keep their text.
func (m *metaInfo) get() (any, bool) {
	if !m.parsed {
		m.parsed = true
		m.parses++
		m.doc, m.ok = parseJSON(m.text)
	}
	return m.doc, m.ok
}

func parseJSON(text string) (any, bool) {
	if strings.TrimSpace(text) == "" {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // more than one value
	}
	return v, v != nil
}

// compileFullMatch compiles a regex that must match all of a string, as
// Java's String.matches. Go's regexp is RE2: the constructs of Java's
// regexes that RE2 lacks (backreferences, lookaround, possessive
// quantifiers) do not compile.
func compileFullMatch(expr string) (*regexp.Regexp, error) {
	// Compiled alone first: a valid regex is balanced, so wrapping it
	// cannot change what it means.
	if _, err := regexp.Compile(expr); err != nil {
		return nil, err
	}
	return regexp.Compile(`^(?:` + expr + `)$`)
}

// jpPath is a compiled JSONPath.
type jpPath struct {
	steps    []jpStep
	relative bool // starts at @, the node a filter tests; else at $, the document
	definite bool // selects at most one node (no .., *, filter, union or slice)
}

type jpKind uint8

const (
	stepChild    jpKind = iota // .key, ['key']
	stepIndex                  // [i]
	stepWildcard               // .*, [*]
	stepDescent                // .. (the step after it applies to every node below)
	stepUnion                  // ['a','b'], [0,1]
	stepSlice                  // [from:to]
	stepFilter                 // [?(...)]
)

type jpStep struct {
	kind     jpKind
	key      string
	index    int
	keys     []any // stepUnion: string or int
	from, to int   // stepSlice
	hasFrom  bool
	hasTo    bool
	pred     *jpPred // stepFilter
}

// compileJSONPath compiles a Jayway JsonPath.
func compileJSONPath(s string) (p *jpPath, err error) {
	norm, err := normalizeJaywayPath(s)
	if err != nil {
		return nil, err
	}
	defer func() {
		// ojg's parser recovers its own panics; this guards the inspection
		// of what it returns.
		if v := recover(); v != nil {
			p, err = nil, fmt.Errorf("unsupported JSONPath: %v", v)
		}
	}()
	x, err := jp.ParseString(norm)
	if err != nil {
		return nil, err
	}
	p, err = convertPath(x)
	if err != nil {
		return nil, err
	}
	// As in Jayway, a path that starts with @, or with neither $ nor @,
	// reads the document.
	p.relative = false
	return p, nil
}

// normalizeJaywayPath rewrites a Jayway path into one that ojg's parser
// reads with the same meaning. It leaves string and regex literals alone,
// and rewrites:
//
//   - `.[` into `[` (Jayway's `$.[0]` is `$[0]`);
//   - the flags of a regex literal into RE2 flags (`/x/i` into `/(?i)x/`);
//   - `!operand` into `(!operand)`: ojg's ! takes all that follows it
//     (`!@.a && @.b` is !(@.a && @.b) there), Jayway's only its operand;
//   - `a && b || c` into `(a && b) || c`: ojg gives && and || the same
//     precedence, Jayway gives && the higher one;
//   - `[?(p)]` into `[?(!(!(p)))]`: ojg's Filter.Inspect fails on a filter
//     that is a lone path, and convertPred drops the double negation.
func normalizeJaywayPath(s string) (string, error) {
	if len(s) > maxJSONPathLen {
		return "", fmt.Errorf("JSONPath longer than %d bytes", maxJSONPathLen)
	}
	toks, err := tokenizePath(s)
	if err != nil {
		return "", err
	}
	depth := 0
	for _, t := range toks {
		switch t.c {
		case '(', '[':
			if depth++; depth > maxJSONPathDepth {
				return "", fmt.Errorf("JSONPath nested deeper than %d", maxJSONPathDepth)
			}
		case ')', ']':
			depth--
		}
	}
	var b strings.Builder
	for _, t := range wrapFilters(groupAnds(wrapNots(toks))) {
		b.WriteString(t.text)
	}
	return b.String(), nil
}

// pathToken is a token of a JSONPath: a string or regex literal, or one
// byte of anything else.
type pathToken struct {
	text string // as ojg gets it
	c    byte   // the byte; 0 for a literal
}

// byteToken returns the token of an ASCII byte.
func byteToken(c byte) pathToken { return pathToken{text: string(rune(c)), c: c} }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// tokenizePath splits s into literals and bytes, drops the dot of `.[` and
// turns the flags of regex literals into RE2 flags. A `/` starts a regex
// where a value starts: after one of ( , ! & | = ~ < >.
func tokenizePath(s string) ([]pathToken, error) {
	toks := make([]pathToken, 0, len(s))
	var last byte // the last byte outside literals that is not a space
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			end, err := literalEnd(s, i, c)
			if err != nil {
				return nil, err
			}
			toks = append(toks, pathToken{text: s[i : end+1]})
			i, last = end, c
		case c == '/' && strings.IndexByte("(,!&|=~<>", last) >= 0:
			end, err := literalEnd(s, i, '/')
			if err != nil {
				return nil, err
			}
			j := end + 1
			for j < len(s) && ('a' <= s[j] && s[j] <= 'z' || 'A' <= s[j] && s[j] <= 'Z') {
				j++
			}
			flags, err := regexFlags(s[end+1 : j])
			if err != nil {
				return nil, err
			}
			if flags != "" {
				flags = "(?" + flags + ")"
			}
			toks = append(toks, pathToken{text: "/" + flags + s[i+1:end+1]})
			i, last = j-1, '/'
		case c == '.' && i+1 < len(s) && s[i+1] == '.':
			toks = append(toks, byteToken('.'), byteToken('.'))
			i, last = i+1, '.'
		case c == '.' && i+1 < len(s) && s[i+1] == '[':
			// Jayway's `.[` is `[`.
		default:
			toks = append(toks, pathToken{text: s[i : i+1], c: c})
			if !isSpace(c) {
				last = c
			}
		}
	}
	return toks, nil
}

// wrapNots puts each logical not and its operand in parentheses.
func wrapNots(toks []pathToken) []pathToken {
	out := make([]pathToken, 0, len(toks)+8)
	closeBefore := map[int]int{} // token index: parentheses to close before it
	for i, t := range toks {
		for range closeBefore[i] {
			out = append(out, byteToken(')'))
		}
		if t.c == '!' && (i+1 >= len(toks) || toks[i+1].c != '=') {
			if end := operandEnd(toks, i+1); end > 0 {
				out = append(out, byteToken('('))
				closeBefore[end]++
			}
		}
		out = append(out, t)
	}
	for range closeBefore[len(toks)] {
		out = append(out, byteToken(')'))
	}
	return out
}

// operandEnd returns the index after the operand of a logical not that
// starts at toks[j] (after spaces): a parenthesized expression, a path, or
// another not; -1 if there is none.
func operandEnd(toks []pathToken, j int) int {
	for j < len(toks) && isSpace(toks[j].c) {
		j++
	}
	if j >= len(toks) {
		return -1
	}
	switch toks[j].c {
	case '(':
		if m := closing(toks, j); m >= 0 {
			return m + 1
		}
	case '!':
		if j+1 < len(toks) && toks[j+1].c != '=' {
			return operandEnd(toks, j+1)
		}
	case '@', '$':
		for j++; j < len(toks); j++ {
			c := toks[j].c
			if c == '[' {
				if j = closing(toks, j); j < 0 {
					return -1
				}
			} else if c != 0 && (isSpace(c) || strings.IndexByte(")]&|=!<>~,", c) >= 0) {
				break
			}
		}
		return j
	}
	return -1
}

// closing returns the index of the bracket or parenthesis that closes the
// one at toks[j], or -1.
func closing(toks []pathToken, j int) int {
	depth := 0
	for k := j; k < len(toks); k++ {
		switch toks[k].c {
		case '(', '[':
			depth++
		case ')', ']':
			if depth--; depth == 0 {
				return k
			}
		}
	}
	return -1
}

// groupAnds puts each operand of || that holds a && in parentheses, at
// every level of nesting.
func groupAnds(toks []pathToken) []pathToken {
	var parts [][]pathToken
	hasAnd := []bool{false}
	depth, from := 0, 0
	for i := 0; i < len(toks); i++ {
		switch c := toks[i].c; c {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '&', '|':
			if depth != 0 || i+1 >= len(toks) || toks[i+1].c != c {
				continue
			}
			if c == '&' {
				hasAnd[len(hasAnd)-1] = true
			} else {
				parts = append(parts, toks[from:i])
				hasAnd = append(hasAnd, false)
				from = i + 2
			}
			i++
		}
	}
	parts = append(parts, toks[from:])
	out := make([]pathToken, 0, len(toks)+2*len(parts))
	for k, part := range parts {
		if k > 0 {
			out = append(out, byteToken('|'), byteToken('|'))
		}
		wrap := len(parts) > 1 && hasAnd[k]
		if wrap {
			out = append(out, byteToken('('))
		}
		out = append(out, groupNested(part)...)
		if wrap {
			out = append(out, byteToken(')'))
		}
	}
	return out
}

// groupNested applies groupAnds inside each parenthesis and bracket of
// toks.
func groupNested(toks []pathToken) []pathToken {
	out := make([]pathToken, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		c := toks[i].c
		if c != '(' && c != '[' {
			out = append(out, toks[i])
			continue
		}
		m := closing(toks, i)
		if m < 0 {
			return append(out, toks[i:]...) // unbalanced: ojg refuses it
		}
		out = append(out, toks[i])
		out = append(out, groupAnds(toks[i+1:m])...)
		out = append(out, toks[m])
		i = m
	}
	return out
}

// wrapFilters puts the predicate of each filter, at every level of
// nesting, in a double negation.
func wrapFilters(toks []pathToken) []pathToken {
	out := make([]pathToken, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		if toks[i].c != '[' {
			out = append(out, toks[i])
			continue
		}
		m := closing(toks, i)
		if m < 0 {
			return append(out, toks[i:]...) // unbalanced: ojg refuses it
		}
		if i+1 < m && toks[i+1].c == '?' {
			out = append(out, toks[i], toks[i+1])
			out = append(out, byteToken('('), byteToken('!'), byteToken('('), byteToken('!'), byteToken('('))
			out = append(out, wrapFilters(toks[i+2:m])...)
			out = append(out, byteToken(')'), byteToken(')'), byteToken(')'), toks[m])
		} else {
			out = append(out, toks[i])
			out = append(out, wrapFilters(toks[i+1:m])...)
			out = append(out, toks[m])
		}
		i = m
	}
	return out
}

// literalEnd returns the index of the quote that closes the literal that
// starts at s[start], skipping backslash escapes.
func literalEnd(s string, start int, quote byte) (int, error) {
	for j := start + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case quote:
			return j, nil
		}
	}
	if quote == '/' {
		return 0, errors.New("regex not terminated")
	}
	return 0, errors.New("string not terminated")
}

// regexFlags returns the RE2 flags of Jayway's regex flags.
func regexFlags(jayway string) (string, error) {
	var flags []byte
	for i := 0; i < len(jayway); i++ {
		switch f := jayway[i]; f {
		case 'i', 'm', 's':
			if !slices.Contains(flags, f) {
				flags = append(flags, f)
			}
		case 'u': // Unicode case folding: RE2's (?i) always folds Unicode
		default:
			return "", fmt.Errorf("regex flag %q is not supported", f)
		}
	}
	return string(flags), nil
}

// convertPath compiles ojg's fragments.
func convertPath(x jp.Expr) (*jpPath, error) {
	p := &jpPath{definite: true}
	frags := []jp.Frag(x)
	if len(frags) > 0 {
		switch frags[0].(type) {
		case jp.Root:
			frags = frags[1:]
		case jp.At:
			p.relative = true
			frags = frags[1:]
		}
	}
	for _, f := range frags {
		var s jpStep
		switch t := f.(type) {
		case jp.Bracket:
			continue // notation only
		case jp.Child:
			s = jpStep{kind: stepChild, key: string(t)}
		case jp.Nth:
			s = jpStep{kind: stepIndex, index: int(t)}
		case jp.Wildcard:
			s = jpStep{kind: stepWildcard}
		case jp.Descent:
			s = jpStep{kind: stepDescent}
		case jp.Union:
			s = jpStep{kind: stepUnion}
			for _, k := range t {
				switch k := k.(type) {
				case string:
					s.keys = append(s.keys, k)
				case int64:
					s.keys = append(s.keys, int(k))
				case int:
					s.keys = append(s.keys, k)
				default:
					return nil, fmt.Errorf("unsupported union member %v", k)
				}
			}
		case jp.Slice:
			if t[2] != jp.SliceNotSet && t[2] != 1 {
				return nil, errors.New("slice steps are not supported")
			}
			s = jpStep{kind: stepSlice, from: t[0], to: t[1],
				hasFrom: t[0] != jp.SliceNotSet, hasTo: t[1] != jp.SliceNotSet}
		case *jp.Filter:
			pred, err := convertFilter(t)
			if err != nil {
				return nil, err
			}
			s = jpStep{kind: stepFilter, pred: pred}
		default:
			return nil, fmt.Errorf("unsupported JSONPath step %v", f)
		}
		if s.kind != stepChild && s.kind != stepIndex {
			p.definite = false
		}
		p.steps = append(p.steps, s)
	}
	if n := len(p.steps); n > 0 && p.steps[n-1].kind == stepDescent {
		return nil, errors.New("JSONPath must not end with '..'")
	}
	return p, nil
}

// convertFilter compiles a filter's predicate.
func convertFilter(f *jp.Filter) (*jpPred, error) {
	form, err := inspectFilter(f)
	if err != nil {
		return nil, err
	}
	return convertPred(form)
}

// inspectFilter returns the form of a filter.
//
// ojg's Inspect reads every operator as binary: a group or a not takes the
// operand that follows its own as its right side. Flattening the forms back
// into the script's prefix order and reading them again with the right
// arities undoes that.
func inspectFilter(f *jp.Filter) (form any, err error) {
	defer func() {
		if recover() != nil {
			form, err = nil, fmt.Errorf("filter %s cannot be read", f)
		}
	}()
	var prefix []any
	flattenForms(f.Inspect(), &prefix)
	if v, rest := readForms(prefix); v != nil && allNil(rest) {
		return v, nil
	}
	return nil, fmt.Errorf("filter %s cannot be read", f)
}

// formOp is an operator in a flattened form.
type formOp string

func flattenForms(v any, out *[]any) {
	f, ok := v.(*jp.Form)
	if !ok {
		*out = append(*out, v)
		return
	}
	*out = append(*out, formOp(f.Op))
	flattenForms(f.Left, out)
	flattenForms(f.Right, out)
}

// readForms reads one form from a flattened script, the operators having
// ojg's arities.
func readForms(prefix []any) (any, []any) {
	if len(prefix) == 0 {
		return nil, nil
	}
	op, ok := prefix[0].(formOp)
	if !ok {
		return prefix[0], prefix[1:]
	}
	f := &jp.Form{Op: string(op)}
	f.Left, prefix = readForms(prefix[1:])
	switch op {
	case "(", "!", "length", "count":
	default:
		f.Right, prefix = readForms(prefix)
	}
	return f, prefix
}

func allNil(vs []any) bool {
	for _, v := range vs {
		if v != nil {
			return false
		}
	}
	return true
}

// jpPred is a compiled filter predicate.
type jpPred struct {
	op   string // &&, ||, !, exists (a lone path) or a comparison
	l, r *jpPred
	a, b jpOperand
	re   *regexp.Regexp // =~
	want bool           // empty, exists with a constant
}

// jpOperand is a side of a comparison: a path or a constant.
type jpOperand struct {
	path *jpPath
	val  any // nil, bool, int64, float64, string or []any of those
}

func convertPred(v any) (*jpPred, error) {
	switch t := v.(type) {
	case jp.Expr:
		path, err := convertPath(t)
		if err != nil {
			return nil, err
		}
		return &jpPred{op: "exists", a: jpOperand{path: path}, want: true}, nil
	case *jp.Form:
		switch t.Op {
		case "(":
			return convertPred(t.Left)
		case "&&", "||":
			l, err := convertPred(t.Left)
			if err != nil {
				return nil, err
			}
			r, err := convertPred(t.Right)
			if err != nil {
				return nil, err
			}
			return &jpPred{op: t.Op, l: l, r: r}, nil
		case "!":
			if inner, ok := unwrapGroup(t.Left).(*jp.Form); ok && inner.Op == "!" {
				return convertPred(inner.Left) // !!p is p
			}
			l, err := convertPred(t.Left)
			if err != nil {
				return nil, err
			}
			return &jpPred{op: "!", l: l}, nil
		case "==", "!=", "<", ">", "<=", ">=", "in", "~=", "empty", "exists", "has":
			return convertComparison(t)
		}
		return nil, fmt.Errorf("unsupported filter operator %q", t.Op)
	}
	return nil, fmt.Errorf("unsupported filter condition %v", v)
}

func convertComparison(f *jp.Form) (*jpPred, error) {
	p := &jpPred{op: f.Op}
	left, right := unwrapGroup(f.Left), unwrapGroup(f.Right)
	if f.Op == "~=" {
		// The regex may stand on either side.
		if _, ok := left.(*regexp.Regexp); ok {
			left, right = right, left
		}
		var src string
		switch r := right.(type) {
		case *regexp.Regexp:
			src = r.String()
		case string:
			src = r
		default:
			return nil, errors.New("=~ needs a regex literal")
		}
		re, err := compileFullMatch(src)
		if err != nil {
			return nil, err
		}
		p.re = re
		a, err := convertOperand(left)
		if err != nil {
			return nil, err
		}
		p.a = a
		return p, nil
	}
	a, err := convertOperand(left)
	if err != nil {
		return nil, err
	}
	p.a = a
	switch f.Op {
	case "empty", "exists", "has":
		want, ok := right.(bool)
		if !ok || a.path == nil {
			return nil, fmt.Errorf("%s needs a path and true or false", f.Op)
		}
		if p.op == "has" {
			p.op = "exists"
		}
		p.want = want
		return p, nil
	}
	b, err := convertOperand(right)
	if err != nil {
		return nil, err
	}
	p.b = b
	if f.Op == "in" && b.path == nil {
		if _, ok := b.val.([]any); !ok {
			return nil, errors.New("in needs a list")
		}
	}
	return p, nil
}

func unwrapGroup(v any) any {
	for {
		f, ok := v.(*jp.Form)
		if !ok || f.Op != "(" {
			return v
		}
		v = f.Left
	}
}

func convertOperand(v any) (jpOperand, error) {
	if x, ok := v.(jp.Expr); ok {
		path, err := convertPath(x)
		if err != nil {
			return jpOperand{}, err
		}
		return jpOperand{path: path}, nil
	}
	if !isJSONConstant(v) {
		return jpOperand{}, fmt.Errorf("unsupported filter operand %v", v)
	}
	return jpOperand{val: v}, nil
}

func isJSONConstant(v any) bool {
	switch t := v.(type) {
	case nil, bool, int64, float64, string:
		return true
	case []any:
		for _, e := range t {
			if !isJSONConstant(e) {
				return false
			}
		}
		return true
	}
	return false
}

// maxJSONPathWork bounds the work of evaluating a JSONPath on one
// meta_info (nodes visited, predicates evaluated, values compared), so that
// a path such as `$..*..*..*` cannot stall the batch: past it the path
// does not match.
const maxJSONPathWork = 1 << 20

// evalCtx is the state of one evaluation of a path on a document.
type evalCtx struct {
	root any
	work int // left of maxJSONPathWork; below 0: given up
}

// spend counts n units of work and reports whether the evaluation may go on.
func (x *evalCtx) spend(n int) bool {
	x.work -= n
	return x.work >= 0
}

// selects reports whether p selects at least one node of doc.
func (p *jpPath) selects(doc any) bool {
	x := &evalCtx{root: doc, work: maxJSONPathWork}
	w := walker{x: x, emit: func(any) bool { return true }}
	return w.walk(p.steps, doc) && x.work >= 0
}

// walker evaluates the steps of a path. emit receives each node selected
// and returns true to stop; walk returns true once emit did, or once the
// work is spent. It visits the members of an object in key order (Go's
// maps have none), so that an evaluation does the same work every time.
type walker struct {
	x    *evalCtx
	emit func(any) bool
}

func (w *walker) walk(steps []jpStep, cur any) bool {
	if !w.x.spend(1) {
		return true
	}
	if len(steps) == 0 {
		return w.emit(cur)
	}
	s, rest := &steps[0], steps[1:]
	switch s.kind {
	case stepChild:
		if m, ok := cur.(map[string]any); ok {
			if v, ok := m[s.key]; ok {
				return w.walk(rest, v)
			}
		}
	case stepIndex:
		if a, ok := cur.([]any); ok {
			if i, ok := arrayIndex(s.index, len(a)); ok {
				return w.walk(rest, a[i])
			}
		}
	case stepWildcard:
		return w.children(cur, func(v any) bool { return w.walk(rest, v) })
	case stepDescent:
		return w.descend(rest, cur)
	case stepUnion:
		for _, k := range s.keys {
			switch k := k.(type) {
			case string:
				if m, ok := cur.(map[string]any); ok {
					if v, ok := m[k]; ok && w.walk(rest, v) {
						return true
					}
				}
			case int:
				if a, ok := cur.([]any); ok {
					if i, ok := arrayIndex(k, len(a)); ok && w.walk(rest, a[i]) {
						return true
					}
				}
			}
		}
	case stepSlice:
		if a, ok := cur.([]any); ok {
			from, to := s.bounds(len(a))
			for i := from; i < to; i++ {
				if w.walk(rest, a[i]) {
					return true
				}
			}
		}
	case stepFilter:
		switch t := cur.(type) {
		case map[string]any:
			// Jayway: a filter on an object tests the object itself.
			if s.pred.holds(t, w.x) {
				return w.walk(rest, t)
			}
		case []any:
			for _, v := range t {
				if s.pred.holds(v, w.x) && w.walk(rest, v) {
					return true
				}
			}
		}
	}
	return w.x.work < 0
}

// descend applies rest, the steps after `..`, to cur and to every object
// and array below it, as Jayway's deep scan: there a filter is applied to
// an array only if the array itself passes it.
func (w *walker) descend(rest []jpStep, cur any) bool {
	switch t := cur.(type) {
	case map[string]any:
		if w.walk(rest, t) {
			return true
		}
	case []any:
		if (rest[0].kind != stepFilter || rest[0].pred.holds(t, w.x)) && w.walk(rest, t) {
			return true
		}
	default:
		return false
	}
	return w.children(cur, func(v any) bool { return w.descend(rest, v) })
}

// children calls f on the members of an object, in key order, or on the
// elements of an array, until it returns true.
func (w *walker) children(cur any, f func(any) bool) bool {
	switch t := cur.(type) {
	case map[string]any:
		if !w.x.spend(len(t)) {
			return true
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if f(t[k]) {
				return true
			}
		}
	case []any:
		for _, v := range t {
			if f(v) {
				return true
			}
		}
	}
	return false
}

func arrayIndex(i, n int) (int, bool) {
	if i < 0 {
		i += n
	}
	return i, 0 <= i && i < n
}

// bounds returns the range of a slice step on an array of n elements, as
// Jayway: negative bounds count from the end, bounds are clipped.
func (s *jpStep) bounds(n int) (from, to int) {
	from, to = 0, n
	if s.hasFrom {
		from = s.from
		if from < 0 {
			from = max(n+from, 0)
		}
	}
	if s.hasTo {
		to = s.to
		if to < 0 {
			to = n + to
		}
	}
	return min(from, n), max(min(to, n), 0)
}

// value returns what an operand stands for in a comparison, as Jayway: a
// constant, the node a definite path selects, or the list of the nodes an
// indefinite path selects; false if a definite path selects nothing.
func (o *jpOperand) value(cur any, x *evalCtx) (any, bool) {
	if o.path == nil {
		return o.val, true
	}
	start := x.root
	if o.path.relative {
		start = cur
	}
	if o.path.definite {
		return lookup(o.path.steps, start)
	}
	list := []any{}
	w := walker{x: x, emit: func(v any) bool {
		list = append(list, v)
		return false
	}}
	w.walk(o.path.steps, start)
	return list, true
}

// exists reports whether a path operand selects a node.
func (o *jpOperand) exists(cur any, x *evalCtx) bool {
	start := x.root
	if o.path.relative {
		start = cur
	}
	if o.path.definite {
		_, ok := lookup(o.path.steps, start)
		return ok
	}
	w := walker{x: x, emit: func(any) bool { return true }}
	return w.walk(o.path.steps, start) && x.work >= 0
}

// lookup follows the steps of a definite path.
func lookup(steps []jpStep, v any) (any, bool) {
	for i := range steps {
		s := &steps[i]
		switch t := v.(type) {
		case map[string]any:
			if s.kind != stepChild {
				return nil, false
			}
			var ok bool
			if v, ok = t[s.key]; !ok {
				return nil, false
			}
		case []any:
			j, ok := arrayIndex(s.index, len(t))
			if s.kind != stepIndex || !ok {
				return nil, false
			}
			v = t[j]
		default:
			return nil, false
		}
	}
	return v, true
}

// holds evaluates the predicate on cur, the node the filter tests.
func (p *jpPred) holds(cur any, x *evalCtx) bool {
	if !x.spend(1) {
		return false
	}
	switch p.op {
	case "&&":
		return p.l.holds(cur, x) && p.r.holds(cur, x)
	case "||":
		return p.l.holds(cur, x) || p.r.holds(cur, x)
	case "!":
		return !p.l.holds(cur, x) && x.work >= 0
	case "exists":
		return p.a.exists(cur, x) == p.want && x.work >= 0
	}
	a, aok := p.a.value(cur, x)
	switch p.op {
	case "~=":
		s, ok := regexInput(a)
		return aok && ok && x.spend(len(s)/64) && p.re.MatchString(s)
	case "empty":
		if !aok {
			return false
		}
		switch t := a.(type) {
		case string:
			return (t == "") == p.want
		case []any:
			return (len(t) == 0) == p.want
		case map[string]any:
			return (len(t) == 0) == p.want
		}
		return false
	}
	b, bok := p.b.value(cur, x)
	switch p.op {
	case "==":
		return valuesEqual(a, aok, b, bok, x)
	case "!=":
		return !valuesEqual(a, aok, b, bok, x) && x.work >= 0
	case "in":
		list, ok := b.([]any)
		if !aok || !bok || !ok {
			return false
		}
		for _, e := range list {
			if nodesEqual(a, e, x) {
				return true
			}
		}
		return false
	}
	if !aok || !bok {
		return false
	}
	c, ok := compareOrdered(a, b)
	if !ok {
		return false
	}
	switch p.op {
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	case ">=":
		return c >= 0
	}
	return false
}

// valuesEqual is Jayway's ==: two paths that select nothing are equal.
func valuesEqual(a any, aok bool, b any, bok bool, x *evalCtx) bool {
	if !aok || !bok {
		return aok == bok
	}
	return nodesEqual(a, b, x)
}

// nodesEqual compares as Jayway's value nodes: a number equals a string
// that is the same number; arrays and objects compare by value.
func nodesEqual(a, b any, x *evalCtx) bool {
	if s, ok := a.(string); ok {
		if n, ok := toNumber(b); ok {
			m, ok := decimalString(s)
			return ok && compareNumbers(m, n) == 0
		}
	}
	if s, ok := b.(string); ok {
		if n, ok := toNumber(a); ok {
			m, ok := decimalString(s)
			return ok && compareNumbers(n, m) == 0
		}
	}
	return jsonEqual(a, b, x)
}

// jsonEqual compares two JSON values by value, numbers by number.
func jsonEqual(a, b any, x *evalCtx) bool {
	if !x.spend(1) {
		return false
	}
	switch t := a.(type) {
	case nil:
		return b == nil
	case bool:
		u, ok := b.(bool)
		return ok && t == u
	case string:
		u, ok := b.(string)
		return ok && t == u
	case []any:
		u, ok := b.([]any)
		if !ok || len(t) != len(u) {
			return false
		}
		for i := range t {
			if !jsonEqual(t[i], u[i], x) {
				return false
			}
		}
		return true
	case map[string]any:
		u, ok := b.(map[string]any)
		if !ok || len(t) != len(u) {
			return false
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			if _, ok := u[k]; !ok {
				return false
			}
			keys = append(keys, k)
		}
		slices.Sort(keys) // the same work every time
		for _, k := range keys {
			if !jsonEqual(t[k], u[k], x) {
				return false
			}
		}
		return true
	}
	n, ok := toNumber(a)
	m, ok2 := toNumber(b)
	return ok && ok2 && compareNumbers(n, m) == 0
}

// compareOrdered compares two numbers or two strings.
func compareOrdered(a, b any) (int, bool) {
	if n, ok := toNumber(a); ok {
		m, ok := toNumber(b)
		return compareNumbers(n, m), ok
	}
	s, ok := a.(string)
	t, ok2 := b.(string)
	return strings.Compare(s, t), ok && ok2
}

// regexInput returns the text a regex is matched against: a string, or the
// text of a number or a boolean.
func regexInput(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return string(t), true
	case bool:
		return strconv.FormatBool(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64), true
	}
	return "", false
}

// number is a JSON number: an integer when it fits an int64.
type number struct {
	i     int64
	f     float64
	isInt bool
}

func toNumber(v any) (number, bool) {
	switch t := v.(type) {
	case json.Number:
		return parseNumber(string(t))
	case int64:
		return number{i: t, isInt: true}, true
	case float64:
		return number{f: t}, true
	}
	return number{}, false
}

func parseNumber(s string) (number, bool) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return number{i: i, isInt: true}, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return number{}, false
	}
	return number{f: f}, true
}

// decimalString parses a string the way Java's BigDecimal does: an
// optional sign, digits with an optional point, an optional exponent.
func decimalString(s string) (number, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return number{}, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := i
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		}
		if i == exp {
			return number{}, false
		}
	}
	if i != len(s) {
		return number{}, false
	}
	return parseNumber(s)
}

func compareNumbers(a, b number) int {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	x, y := a.f, b.f
	if a.isInt {
		x = float64(a.i)
	}
	if b.isInt {
		y = float64(b.i)
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
