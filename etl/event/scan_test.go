package event

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// padded returns s followed by the scanner's padding.
func padded(s string) []byte {
	return append([]byte(s), make([]byte, padLen)...)
}

// scanValid says whether the scanner reads s as one JSON value with
// nothing but white space around it.
func scanValid(s string) bool {
	p := padded(s)
	end := skipValue(p, skipSpace(p, 0), 0)
	return end >= 0 && skipSpace(p, end) == len(s)
}

func TestScanner_validity(t *testing.T) {
	t.Parallel()
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, s := range []string{
		``, ` `, `{}`, `[]`, `[1,2]`, `[1 2]`, `[1,]`, `[,1]`, `{"a":1}`, `{"a" : 1 , "b":[]}`, `{"a":1,}`, `{,}`, `{"a"}`,
		`{"a":}`, `{1:2}`, `{"a":1 "b":2}`, `"a`, `"\"`, `"\\"`, `"\/\b\f\n\r\t"`, `"\x"`, `"\'"`, `"\u12"`, `"\u12g4"`,
		`"\uABCD\uabcd"`, "\"a\x00\"", "\"a\x1f\"", "\"\x7f\xff\xc3\"", `0`, `-0`, `01`, `-`, `1.`, `.1`, `1.5`, `1e5`, `1E+5`,
		`1e-5`, `1e`, `1e+`, `-1.5e-0`, `2.`, `+1`, `true`, `tru`, `truex`, `false`, `fals`, `null`, `nul`, `NULL`,
		`[true,false,null]`, `[truefalse]`, "\t\n\r [ ] \r\n", "\v[]", "\u00a0[]", `[1]]`, `[[1]`, `{"a":[}]}`,
		deep(9999), deep(10000), deep(10001), strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat("}", 10000),
		strings.Repeat(`{"a":`, 10001) + `1` + strings.Repeat("}", 10001),
	} {
		if got, want := scanValid(s), json.Valid([]byte(s)); got != want {
			t.Errorf("scanner says valid %v, encoding/json %v: %.80q", got, want, s)
		}
	}
}

// FuzzScanner checks the scanner against json.Valid.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",{"b":null}]}`, `"\u00e9\ud83d\ude00"`, `-1.5e+3`, `[true,false]`, "\"\xff\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := scanValid(s), json.Valid([]byte(s)); got != want {
			t.Fatalf("scanner says valid %v, encoding/json %v: %q", got, want, s)
		}
	})
}

// unquoteCases are JSON strings, quotes included, with escapes, surrogates
// and invalid UTF-8.
var unquoteCases = []string{
	`""`, `"abc"`, `"a\"b\\c\/d\be\ff\ng\rh\ti"`, `"\u0041\u00e9\u20AC"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`,
	`"\ud83dx"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, `"\ude00\ud83d"`, `"\u0000"`, "\"\xff\xfe\"", "\"a\xc3(\"",
	"\"\xed\xa0\x80\"", "\"\xf0\x9f\x98\x80\"", "\"\xf0\x9f\x98\"", `"\uD83D\uDE00"`, "\"\xc3\xa9\\n\xff\"",
}

func TestAppendUnquoted(t *testing.T) {
	t.Parallel()
	for _, s := range unquoteCases {
		checkUnquoted(t, s)
	}
}

// FuzzAppendUnquoted checks appendUnquoted against encoding/json on any
// string the scanner accepts.
func FuzzAppendUnquoted(f *testing.F) {
	for _, s := range unquoteCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := `"` + s + `"`
		if end, _ := scanString(padded(q), 0); end != len(q) {
			return
		}
		checkUnquoted(t, q)
	})
}

// checkUnquoted compares the text of the JSON string q, its quotes
// included, from the scanner and appendUnquoted with encoding/json's.
func checkUnquoted(t *testing.T, q string) {
	t.Helper()
	var want string
	if err := json.Unmarshal([]byte(q), &want); err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	end, plain := scanString(padded(q), 0)
	if end != len(q) {
		t.Fatalf("%q: scanString ends at %d", q, end)
	}
	inner := []byte(q[1 : len(q)-1])
	if plain && string(inner) != want {
		t.Fatalf("%q is plain, but its text is %q", q, want)
	}
	if got := appendUnquoted([]byte("x"), inner); string(got) != "x"+want {
		t.Fatalf("appendUnquoted(%q) = %q, want %q", q, got[1:], want)
	}
	if got := appendText(nil, inner); string(got) != want {
		t.Fatalf("appendText(%q) = %q, want %q", q, got, want)
	}
	if plain != (!strings.Contains(q, `\`) && isASCII(q)) {
		t.Fatalf("%q: plain %v", q, plain)
	}
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// TestNodes checks that every member the schema reads is found under its
// own name only.
func TestNodes(t *testing.T) {
	t.Parallel()
	found := 0
	var walk func(n *node, path string)
	walk = func(n *node, path string) {
		for _, m := range n.table {
			if m.name == "" {
				continue
			}
			found++
			if got := n.find([]byte(m.name)); got == nil || got.slot != m.slot {
				t.Errorf("%s%s: found %v", path, m.name, got)
			}
			for _, other := range []string{m.name + "x", "x" + m.name, strings.ToUpper(m.name), m.name[:len(m.name)-1], m.name[1:]} {
				if got := n.find([]byte(other)); got != nil {
					t.Errorf("%s%s finds member %s", path, other, got.name)
				}
			}
			if m.child != nil {
				walk(m.child, path+m.name+".")
			}
		}
	}
	walk(recordNode, "")
	if n := recordNode.find(nil); n != nil {
		t.Errorf("the empty name finds %s", n.name)
	}
	if want := numColumns - idxEventVersion + len(flattened); found != want {
		t.Fatalf("%d members, want %d", found, want)
	}
}
