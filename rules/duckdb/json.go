//go:build duckdb_arrow

package duckdb

// A small copy of what DuckDB's JSON functions do with the JSON text of
// an event column, for the detectors' fast path: valid means what
// DuckDB (yyjson) accepts, a member is the first with its key.

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// jsonValid reports whether s is one JSON value, in valid UTF-8.
func jsonValid(s string) bool {
	return utf8.ValidString(s) && json.Valid([]byte(s))
}

// member returns the value (its JSON text) of the first member of the
// object obj named key. obj is valid JSON.
func member(obj, key string) (string, bool, error) {
	var found string
	ok := false
	err := eachMember(obj, func(k, v string) bool {
		if k == key {
			found, ok = v, true
			return false
		}
		return true
	})
	return found, ok, err
}

// members appends to out the members of the object obj (valid JSON), the
// first of each key.
func members(obj string, out []jsonMember) ([]jsonMember, error) {
	err := eachMember(obj, func(k, v string) bool {
		for _, m := range out {
			if m.key == k {
				return true
			}
		}
		out = append(out, jsonMember{k, v})
		return true
	})
	return out, err
}

// eachMember calls f with each member of the object obj (valid JSON), in
// order, until f returns false.
func eachMember(obj string, f func(key, value string) bool) error {
	i := skipSpace(obj, 1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return errBadJSON
		}
		end := skipString(obj, i)
		k := obj[i:end]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return errBadJSON
		}
		start := skipSpace(obj, i+1)
		stop := skipValue(obj, start)
		if stop <= start {
			return errBadJSON
		}
		name, err := unquote(k)
		if err != nil {
			return err
		}
		if !f(name, obj[start:stop]) {
			return nil
		}
		i = skipSpace(obj, stop)
		if i >= len(obj) || obj[i] == '}' {
			return nil
		}
		if obj[i] != ',' {
			return errBadJSON
		}
		i = skipSpace(obj, i+1)
	}
	return nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at s[i].
func skipString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}

// skipValue returns the index after the value that starts at s[i].
func skipValue(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				j = skipString(s, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(s)
	}
	j := i
	for j < len(s) && !strings.ContainsRune(",}] \t\n\r", rune(s[j])) {
		j++
	}
	return j
}

// unquote is the value of a JSON string's text.
func unquote(q string) (string, error) {
	if len(q) >= 2 && !strings.ContainsRune(q, '\\') {
		return q[1 : len(q)-1], nil
	}
	var s string
	if err := json.Unmarshal([]byte(q), &s); err != nil {
		return "", errBadJSON
	}
	return s, nil
}
