package audit

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParams(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"SELECT 1", nil},
		{"SELECT $a, $b, $a", []string{"a", "b"}},
		{"SELECT '$notme', \"$nor\", $yes -- $comment\n/* $block */ , $z9_", []string{"yes", "z9_"}},
		{"SELECT 'it''s $x', $1, $$", nil},
		{"WHERE x = $Name", []string{"Name"}},
	} {
		if got := Params(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("Params(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

const good = `-- name: by-key
-- description: Every call of one key,
--   oldest first.
-- param: key: the access key id
-- param: limit: the most rows (default: 100)
SELECT * FROM events WHERE user_identity_access_key_id = $key LIMIT $limit
`

func TestParseSavedAndBind(t *testing.T) {
	s, err := ParseSaved("by-key.sql", good)
	if err != nil {
		t.Fatal(err)
	}
	if s.Description != "Every call of one key, oldest first." || len(s.Params) != 2 || s.Params[1].Default != "100" || !s.Params[1].HasDefault || s.Params[1].Description != "the most rows" {
		t.Fatalf("%+v", s)
	}
	got, err := Bind(s.SQL, s.Params, map[string]string{"key": "AKIA1"})
	if err != nil || got["key"] != "AKIA1" || got["limit"] != "100" {
		t.Fatalf("Bind: %v %v", got, err)
	}
	if _, err := Bind(s.SQL, s.Params, nil); err == nil || !strings.Contains(err.Error(), "missing parameter key (--param key=VALUE): the access key id") {
		t.Fatalf("missing: %v", err)
	}
	if _, err := Bind(s.SQL, s.Params, map[string]string{"key": "k", "other": "x"}); err == nil || !strings.Contains(err.Error(), "unknown parameter other: the query takes only key, limit") {
		t.Fatalf("unknown: %v", err)
	}
	for name, text := range map[string]string{
		"no name":          strings.Replace(good, "-- name: by-key\n", "", 1),
		"bad name":         strings.Replace(good, "by-key", "By Key", 1),
		"no description":   strings.Replace(good, "-- description: Every call of one key,\n--   oldest first.\n", "", 1),
		"other file":       good,
		"declared, unused": strings.Replace(good, "LIMIT $limit", "", 1),
		"used, undeclared": strings.Replace(good, "-- param: limit: the most rows (default: 100)\n", "", 1),
	} {
		file := "by-key.sql"
		if name == "other file" {
			file = "other.sql"
		}
		if _, err := ParseSaved(file, text); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	all, err := LoadSaved(fstest.MapFS{"by-key.sql": {Data: []byte(good)}, "readme.txt": {Data: []byte("x")}})
	if err != nil || len(all) != 1 || all[0].Name != "by-key" {
		t.Fatalf("LoadSaved: %v %v", all, err)
	}
}
