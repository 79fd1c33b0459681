package sigma

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/rules"
)

func TestLike(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s, pattern string
		want       bool
	}{
		{"abc", "abc", true},
		{"abc", "ab", false},
		{"abc", "a%", true},
		{"abc", "%c", true},
		{"abc", "%b%", true},
		{"abc", "a_c", true},
		{"ac", "a_c", false},
		{"", "%", true},
		{"", "_", false},
		{"a%c", `a\%c`, true},
		{"abc", `a\%c`, false},
		{"a_c", `a\_c`, true},
		{"abc", `a\_c`, false},
		{`a\c`, `a\\c`, true},
		{"aXbXc", "a%b%c", true},
		{"aXbX", "a%b%c", false},
		{"mississippi", "%iss%ppi", true},
		{"mississippi", "%iss%pp", false},
		{"{\"cidrIp\":\"0.0.0.0/0\"}", `%/0"%`, true},
	} {
		if got := like(tt.s, likeTokens(tt.pattern), false); got != tt.want {
			t.Errorf("like(%q, %q) = %v, want %v", tt.s, tt.pattern, got, tt.want)
		}
	}
}

// FuzzLike checks like against a regular expression of the same
// pattern, over the text read as Latin-1 so that . is one byte.
func FuzzLike(f *testing.F) {
	for _, s := range [][2]string{{"abc", "a%c"}, {"a_c", `a\_c`}, {"aaa", "%a%a"}, {"", "%"}, {"ü", "_"}} {
		f.Add(s[0], s[1])
	}
	latin1 := func(s string) string {
		r := make([]rune, len(s))
		for i := 0; i < len(s); i++ {
			r[i] = rune(s[i])
		}
		return string(r)
	}
	f.Fuzz(func(t *testing.T, s, pattern string) {
		var re strings.Builder
		re.WriteString(`(?s)\A`)
		for _, tok := range likeTokens(pattern) {
			switch tok.kind {
			case likeAny:
				re.WriteString(`.*`)
			case likeOne:
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(rune(tok.b))))
			}
		}
		re.WriteString(`\z`)
		want := regexp.MustCompile(re.String()).MatchString(latin1(s))
		if got := like(s, likeTokens(pattern), false); got != want {
			t.Fatalf("like(%q, %q) = %v, want %v", s, pattern, got, want)
		}
	})
}

func TestIPv4Num(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    string
		want uint32
		ok   bool
	}{
		{"10.0.0.1", 10<<24 | 1, true},
		{"010.000.000.001", 10<<24 | 1, true},
		{"255.255.255.255", 1<<32 - 1, true},
		{"256.0.0.1", 0, false},
		{"1.2.3", 0, false},
		{"1.2.3.4.5", 0, false},
		{"1.2.3.a", 0, false},
		{"1.2.3.0001", 0, false},
		{"::1", 0, false},
		{"AWS Internal", 0, false},
		{"", 0, false},
	} {
		if got, ok := ipv4Num(tt.s); got != tt.want || ok != tt.ok {
			t.Errorf("ipv4Num(%q) = %d, %v, want %d, %v", tt.s, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCheckFold(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s          string
		keepLength bool
		undecided  bool
	}{
		{"AbC", false, false},
		{"AbC", true, false},
		{"Ärger ABC", false, false},
		{"Ärger", true, true},
		{"\u212aey", false, true},
		{"\u0130x", false, true},
	} {
		if err := checkFold(tt.s, tt.keepLength); (err != nil) != tt.undecided {
			t.Errorf("checkFold(%q, %v) = %v", tt.s, tt.keepLength, err)
		}
	}
}

// Folded matching is the match of the value in lower case.
func TestLike_fold(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s, pattern string
		want       bool
	}{
		{"CreateUser", "create%", true},
		{"CREATEUSER", "%user", true},
		{"CreateUsers", "create_ser", false},
		{"Ärger", "%rger", true},
		{"[", "{", false}, // '[' is 0x5b, '{' 0x7b: not letters, not folded
	} {
		if got := like(tt.s, likeTokens(tt.pattern), true); got != tt.want {
			t.Errorf("like(%q, %q, fold) = %v, want %v", tt.s, tt.pattern, got, tt.want)
		}
		if got, want := like(tt.s, likeTokens(tt.pattern), true), like(strings.ToLower(tt.s), likeTokens(tt.pattern), false); got != want {
			t.Errorf("like(%q, %q, fold) = %v, like of its lower case %v", tt.s, tt.pattern, got, want)
		}
	}
	if !equalLower("CreateUser", "createuser") || equalLower("CreateUser", "createusers") || equalLower("Ärger", "ärger") {
		t.Error("equalLower")
	}
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{
		"plain":       `"plain"`,
		`q"b\s`:       `"q\"b\\s"`,
		"nl\n\r\t":    `"nl\n\r\t"`,
		"\x01":        `"\u0001"`,
		"\x1f":        `"\u001f"`,
		"ü/<>&":       `"ü/<>&"`,
		"bad\xffutf8": `"bad\ufffdutf8"`,
	} {
		if got := string(appendJSONString(nil, s)); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

// event is a rules.Event of fixed columns, for the three-valued logic.
type event map[string]string

func (e event) Text(c string) (string, bool)                    { s, ok := e[c]; return s, ok }
func (e event) Time(string) (time.Time, bool)                   { return time.Time{}, false }
func (e event) JSONText(string, []string) (string, bool, error) { return "", false, rules.ErrUndecided }

// The Go side keeps SQL's NULLs: a test of a NULL column is NULL, NOT
// coalesce(NULL, false) is true, and AND and OR decide without their
// undecided operands when another decides.
func TestEval_nulls(t *testing.T) {
	t.Parallel()
	eq := match{test: eqTest(func(ev rules.Event) (string, bool, error) { s, ok := ev.Text("a"); return s, ok, nil }, "x", false)}
	undecided := match{test: func(rules.Event) (tri, error) { return 0, rules.ErrUndecided }}
	f := match{test: func(rules.Event) (tri, error) { return triFalse, nil }}
	tr := match{test: func(rules.Event) (tri, error) { return triTrue, nil }}
	for _, tt := range []struct {
		name string
		n    node
		ev   event
		want tri
		err  bool
	}{
		{"equal", eq, event{"a": "X"}, triTrue, false},
		{"not equal", eq, event{"a": "y"}, triFalse, false},
		{"null", eq, event{}, triNull, false},
		{"not null", notNode{eq}, event{}, triTrue, false},
		{"null and true", andNode{eq, tr}, event{}, triNull, false},
		{"null and false", andNode{eq, f}, event{}, triFalse, false},
		{"null or true", orNode{eq, tr}, event{}, triTrue, false},
		{"null or false", orNode{eq, f}, event{}, triNull, false},
		{"undecided and false", andNode{undecided, f}, event{}, triFalse, false},
		{"undecided and true", andNode{undecided, tr}, event{}, 0, true},
		{"undecided or true", orNode{undecided, tr}, event{}, triTrue, false},
		{"undecided or false", orNode{undecided, f}, event{}, 0, true},
		{"not undecided", notNode{undecided}, event{}, 0, true},
	} {
		got, err := tt.n.eval(tt.ev)
		if (err != nil) != tt.err || (err == nil && got != tt.want) {
			t.Errorf("%s: %v, %v; want %v (error %v)", tt.name, got, err, tt.want, tt.err)
		}
	}
}
