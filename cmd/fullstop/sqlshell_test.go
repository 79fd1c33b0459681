package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/rules/duckdb/audit"
)

func TestShell_StatementComplete(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"SELECT 1;", true},
		{"SELECT 1", false},
		{"SELECT 1;  ", true},
		{"SELECT 1; -- done", true},
		{"SELECT 1; /* done */", true},
		{"SELECT 1; SELECT 2", false},
		{"SELECT 1;\nSELECT 2;", true},
		{";", true},
		{"", false},
		{"-- only a comment;", false},
		{"SELECT 1 -- not yet;", false},
		{"SELECT\n  count(*)\nFROM events;", true},
		{"SELECT 'a;", false},
		{"SELECT 'a;'", false},
		{"SELECT 'a;';", true},
		{"SELECT 'it''s;", false},
		{"SELECT 'it''s';", true},
		{"SELECT 'a\nb;", false},
		{"SELECT 'a\nb';", true},
		{`SELECT "odd;name`, false},
		{`SELECT "odd;name";`, true},
		{`SELECT "a""b;";`, true},
		{`SELECT E'\';`, false},
		{`SELECT E'\'';`, true},
		{`SELECT e'a\\';`, true},
		{`SELECT note'\';`, true}, // not an E string: the backslash is a character
		{"SELECT $$a;$$;", true},
		{"SELECT $$a;", false},
		{"SELECT $t$ $$; $t$;", true},
		{"SELECT $t$ a; $t", false},
		{"SELECT $name;", true}, // a parameter
		{"SELECT $1;", true},
		{"SELECT a$b$;", true}, // $ inside a name
		{"SELECT /* ; */ 1", false},
		{"SELECT /* ; */ 1;", true},
		{"SELECT /* /* ; */ ; */ 1;", true},
		{"SELECT /* /* ; */ ;", false},
		{"SELECT 1; /* open", false},
		{"SELECT '--';", true},
		{"SELECT 1 -- ';", false},
	} {
		if got := statementComplete(tc.text); got != tc.want {
			t.Errorf("statementComplete(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestShell_SplitStatements(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"SELECT 1;", []string{"SELECT 1"}},
		{"SELECT 1; SELECT 'a;b';\n-- c\n;", []string{"SELECT 1", "SELECT 'a;b'"}},
		{"-- comment\nSELECT\n  1;", []string{"-- comment\nSELECT\n  1"}},
		{";;", nil},
		{"SELECT 1; SELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"SELECT 1; -- end", []string{"SELECT 1"}},
		{"SELECT 'open", []string{"SELECT 'open"}},
	} {
		if got := splitStatements(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestShell_HistoryEntry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text, want string
		ok         bool
	}{
		{"SELECT 1;", "SELECT 1;", true},
		{"SELECT count(*)\n  FROM events\n WHERE x = '--';", "SELECT count(*) FROM events WHERE x = '--';", true},
		{"-- the count\nSELECT count(*) -- all\nFROM events;", "/* the count */ SELECT count(*) /* all */ FROM events;", true},
		{"SELECT 1 -- a */ b\n;", "SELECT 1 ;", true},
		{"SELECT 'a\nb';", "", false},
	} {
		got, ok := historyEntry(tc.text)
		if got != tc.want || ok != tc.ok {
			t.Errorf("historyEntry(%q) = %q, %v; want %q, %v", tc.text, got, ok, tc.want, tc.ok)
		}
		if ok && !statementComplete(got) {
			t.Errorf("historyEntry(%q) = %q is not a whole statement", tc.text, got)
		}
	}
}

func TestShell_Complete(t *testing.T) {
	t.Parallel()
	cols := func(names ...string) []audit.Column {
		var out []audit.Column
		for _, n := range names {
			out = append(out, audit.Column{Name: n, Type: "VARCHAR"})
		}
		return out
	}
	views := map[string][]audit.Column{
		"events":     cols("event_time", "event_name", "event_id", "account"),
		"violations": cols("id", "event_id", "account_id"),
		"ledger":     nil, // not loaded yet
	}
	for _, tc := range []struct {
		line string
		pos  int // -1: the end of line
		head string
		want []string
		tail string
	}{
		{".", -1, "", []string{".exit", ".help", ".output", ".quit", ".schema", ".tables", ".timer"}, ""},
		{".s", -1, "", []string{".schema"}, ""},
		{"  .T", -1, "  ", []string{".tables", ".timer"}, ""},
		{".schema ", -1, ".schema ", []string{"events", "ledger", "violations"}, ""},
		{".schema Ev", -1, ".schema ", []string{"events"}, ""},
		{".output j", -1, ".output ", []string{"json", "jsonl"}, ""},
		{".timer o", -1, ".timer ", []string{"off", "on"}, ""},
		{".tables x", -1, ".tables ", nil, ""},
		{"sel", -1, "", []string{"select"}, ""},
		{"SEL", -1, "", []string{"SELECT"}, ""},
		{"Sel", -1, "", []string{"Select"}, ""},
		{"SELECT count(*) FROM ", -1, "SELECT count(*) FROM ", []string{"events", "ledger", "violations"}, ""},
		{"select * from v", -1, "select * from ", []string{"violations"}, ""},
		{"SELECT * FROM events e JOIN vi", -1, "SELECT * FROM events e JOIN ", []string{"violations"}, ""},
		{"SELECT event_n", -1, "SELECT ", []string{"event_name"}, ""},
		{"SELECT EVENT_T", -1, "SELECT ", []string{"event_time"}, ""},
		{"SELECT ev", -1, "SELECT ", []string{"event_id", "event_name", "event_time", "events"}, ""},
		{"SELECT acc", -1, "SELECT ", []string{"account", "account_id"}, ""},
		{"SELECT violations.", -1, "SELECT violations.", []string{"account_id", "event_id", "id"}, ""},
		{"SELECT v.acc", -1, "SELECT v.", []string{"account", "account_id"}, ""}, // an alias: any view's
		{"SELECT events.acc", -1, "SELECT events.", []string{"account"}, ""},
		{"SELECT di FROM events", 9, "SELECT ", []string{"distinct"}, " FROM events"},
		{"WHERE a IL", -1, "WHERE a ", []string{"ILIKE"}, ""},
		{"SELECT ", -1, "SELECT ", nil, ""},
		{"SELECT 'sel", -1, "SELECT '", nil, ""}, // in a string
		{"SELECT x -- sel", -1, "SELECT x -- ", nil, ""},
		{"SELECT zzz", -1, "SELECT ", nil, ""},
		{"SELECT ünï", -1, "SELECT ", nil, ""},
	} {
		pos := tc.pos
		if pos < 0 {
			pos = len([]rune(tc.line))
		}
		head, got, tail := completeSQL(tc.line, pos, views)
		if head != tc.head || !slices.Equal(got, tc.want) || tail != tc.tail {
			t.Errorf("completeSQL(%q, %d) = %q, %q, %q; want %q, %q, %q", tc.line, pos, head, got, tail, tc.head, tc.want, tc.tail)
		}
	}
	// Every keyword is offered in the case typed.
	if _, got, _ := completeSQL("gro", 3, nil); !slices.Equal(got, []string{"group"}) {
		t.Errorf("gro: %q", got)
	}
}

func TestShell_HistoryPath(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := func() (string, error) { return "/home/u", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	for _, tc := range []struct {
		flag string
		env  map[string]string
		home func() (string, error)
		want string
		err  bool
	}{
		{"", nil, home, "/home/u/.local/state/fullstop/sql_history", false},
		{"", map[string]string{"XDG_STATE_HOME": "/state"}, home, "/state/fullstop/sql_history", false},
		{"", map[string]string{"XDG_STATE_HOME": "relative"}, home, "/home/u/.local/state/fullstop/sql_history", false},
		{"/tmp/h", map[string]string{"XDG_STATE_HOME": "/state"}, noHome, "/tmp/h", false},
		{"", nil, noHome, "", true},
	} {
		got, err := sqlHistoryPath(tc.flag, env(tc.env), tc.home)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("sqlHistoryPath(%q, %v) = %q, %v; want %q (error %v)", tc.flag, tc.env, got, err, tc.want, tc.err)
		}
	}
}

// fakeHistory is liner's history: entries, one a line.
type fakeHistory struct{ entries []string }

func (h *fakeHistory) AppendHistory(s string) {
	if n := len(h.entries); n == 0 || h.entries[n-1] != s {
		h.entries = append(h.entries, s)
	}
}

func (h *fakeHistory) WriteHistory(w io.Writer) (int, error) {
	for i, e := range h.entries {
		if _, err := fmt.Fprintln(w, e); err != nil {
			return i, err
		}
	}
	return len(h.entries), nil
}

func TestShell_HistorySaveLoad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state", "fullstop", "sql_history")
	var h fakeHistory
	if err := loadHistory(&h, path); err != nil || len(h.entries) != 0 {
		t.Fatalf("load of no file: %v, %q", err, h.entries)
	}
	long := "SELECT '" + strings.Repeat("x", 10000) + "';" // longer than liner's ReadHistory takes
	h.entries = []string{".tables", "SELECT 1;", long}
	if err := saveHistory(&h, path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("history file: %v, %v", fi, err)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("history folder: %v, %v", di, err)
	}
	var back fakeHistory
	if err := loadHistory(&back, path); err != nil || !slices.Equal(back.entries, h.entries) {
		t.Fatalf("loaded %d entries (%v), want %d", len(back.entries), err, len(h.entries))
	}
	if err := saveHistory(&h, filepath.Join(path, "under-a-file")); err == nil {
		t.Fatal("saved under a file")
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}
