package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

var outputNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func TestFormatAge(t *testing.T) {
	t.Parallel()
	ago := func(d time.Duration) time.Time { return outputNow.Add(-d) }
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{ago(0), "0s ago"},
		{ago(70 * time.Second), "70s ago"},
		{ago(71 * time.Second), "1m ago"},
		{ago(90 * time.Second), "2m ago"},  // 1.5 rounds half to even, as Python's {:.0f}
		{ago(150 * time.Second), "2m ago"}, // 2.5 → 2
		{ago(3600 * time.Second), "60m ago"},
		{ago(3601 * time.Second), "1h ago"},
		{ago(49 * time.Hour), "49h ago"},
		{ago(49*time.Hour + time.Second), "2d ago"},
		{ago(30 * 24 * time.Hour), "30d ago"},
		{outputNow.Add(5 * time.Minute), "0s ago"},
		{time.Time{}, ""},
		{time.Unix(0, 0), ""},
	} {
		if got := formatAge(tc.t, outputNow); got != tc.want {
			t.Errorf("formatAge(now-%v) = %q, want %q", outputNow.Sub(tc.t), got, tc.want)
		}
	}
}

func TestFormatMeta(t *testing.T) {
	t.Parallel()
	decode := func(s string) any {
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"plain {text}: as is", "plain {text}: as is"},
		{"", ""},
		{decode(`{}`), ""},
		{decode(`[]`), ""},
		{decode(`{"ami_name":"foo","ami_id":"ami-1","application_id":"app","application_version":"1.0"}`), "ami_id: ami-1, ami_name: foo"},
		{decode(`{"application_id":"app"}`), ""},
		{decode(`{"a":{"b":1,"c":[1,"x"]},"d":"e"}`), "a: {b: 1, c: [1, x]}, d: e"},
		{decode(`["a","b"]`), "[a, b]"},
		{decode(`[{"a":1}]`), "[{a: 1}]"},
		{decode(`{"i":42,"f":1.5,"g":1e20,"h":-0.00001,"z":null}`), "f: 1.5, g: 1.0e+20, h: -1.0e-05, i: 42, z: null"},
		{decode(`{"t":true,"f":false}`), "f: false, t: true"},
		{map[string]any{"n": float64(3)}, "n: 3"},
		{decode(`{"q":"a: b","y":"yes","n":"123","s":"","p":"x, y","h":"#c","u":"http://h/x","l":" lead","o":"it's"}`),
			`h: '#c', l: ' lead', n: '123', o: it's, p: 'x, y', q: 'a: b', s: '', u: 'http://h/x', y: 'yes'`},
		{decode(`{"nl":"a\nb","uni":"café","tab":"a\tb"}`), `nl: "a\nb", tab: "a\tb", uni: "caf\xE9"`},
		{decode(`{"On":"null","d":"2024-01-02","t":"~"}`), `'On': 'null', d: '2024-01-02', t: '~'`},
		{map[string]string{"k": "v"}, "k: v"},
	} {
		if got := formatMeta(tc.in); got != tc.want {
			t.Errorf("formatMeta(%#v)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func outputRows() ([]column, []row) {
	cols := []column{
		{key: "account_id"},
		{key: "id"},
		{key: "violation_severity", title: "Sev."},
		{key: "active"},
		{key: "meta_info"},
		{key: "comment"},
		{key: "created_time", title: "Created"},
	}
	rows := []row{
		{"account_id": "123456789012", "id": int64(7), "violation_severity": int64(1), "active": true,
			"meta_info": map[string]any{"ami_id": "ami-1", "ami_name": "foo", "application_id": "kio"},
			"comment":   nil, "created_time": outputNow.Add(-30 * time.Second)},
		{"account_id": "2", "id": int64(1234), "violation_severity": int64(0), "active": false,
			"meta_info": "line1\nline2", "comment": "ok\tdone", "created_time": outputNow.Add(-20 * time.Minute)},
		{"account_id": "345", "id": int64(12), "violation_severity": nil, "active": nil,
			"meta_info": nil, "comment": "old", "created_time": outputNow.Add(-72 * time.Hour)},
	}
	return cols, rows
}

func TestOutputFormats(t *testing.T) {
	t.Parallel()
	cols, rows := outputRows()
	for _, tc := range []struct {
		name, format string
		opts         tableOptions
		rows         []row
		want         string
	}{
		{"text", "text", tableOptions{now: outputNow}, rows, "" +
			"Account Id    Id    Sev.  Active  Meta Info                     Comment  Created\n" +
			"123456789012     7     1  yes     ami_id: ami-1, ami_name: foo           30s ago\n" +
			"2             1234     0  no      line1 line2                   ok done  20m ago\n" +
			"345             12                                              old       3d ago\n"},
		{"text NO_COLOR", "text", tableOptions{now: outputNow, tty: true, noColor: true}, rows, "" +
			"Account Id    Id    Sev.  Active  Meta Info                     Comment  Created\n" +
			"123456789012     7     1  yes     ami_id: ami-1, ami_name: foo           30s ago\n" +
			"2             1234     0  no      line1 line2                   ok done  20m ago\n" +
			"345             12                                              old       3d ago\n"},
		{"text colour", "text", tableOptions{now: outputNow, tty: true}, rows, "" +
			"\x1b[1mAccount Id    Id    Sev.  Active  Meta Info                     Comment  Created\x1b[0m\n" +
			"123456789012     7     1  yes     ami_id: ami-1, ami_name: foo           \x1b[32m\x1b[1m30s ago\x1b[0m\n" +
			"2             1234     0  no      line1 line2                   ok done  \x1b[32m20m ago\x1b[0m\n" +
			"345             12                                              old       3d ago\n"},
		{"text empty", "text", tableOptions{now: outputNow}, nil,
			"Account Id  Id  Sev.  Active  Meta Info  Comment  Created\n"},
		{"tsv", "tsv", tableOptions{now: outputNow, tty: true}, rows, "" +
			"account_id\tid\tviolation_severity\tactive\tmeta_info\tcomment\tcreated_time\n" +
			"123456789012\t7\t1\tyes\tami_id: ami-1, ami_name: foo\t\t30s ago\n" +
			"2\t1234\t0\tno\tline1 line2\tok done\t20m ago\n" +
			"345\t12\t\t\t\told\t3d ago\n"},
		{"json", "json", tableOptions{now: outputNow, tty: true}, rows, `[` +
			`{"account_id":"123456789012","active":true,"comment":null,"created_time":1714564770,"id":7,` +
			`"meta_info":{"ami_id":"ami-1","ami_name":"foo","application_id":"kio"},"violation_severity":1},` +
			`{"account_id":"2","active":false,"comment":"ok\tdone","created_time":1714563600,"id":1234,` +
			`"meta_info":"line1\nline2","violation_severity":0},` +
			`{"account_id":"345","active":null,"comment":"old","created_time":1714305600,"id":12,` +
			`"meta_info":null,"violation_severity":null}]` + "\n"},
		{"json empty", "json", tableOptions{now: outputNow}, nil, "[]\n"},
		{"json only listed columns", "json", tableOptions{now: outputNow},
			[]row{{"account_id": "1", "extra": "dropped"}},
			`[{"account_id":"1","active":null,"comment":null,"created_time":null,"id":null,"meta_info":null,"violation_severity":null}]` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := printTable(&b, tc.format, cols, tc.rows, tc.opts); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s\n(got %q)", got, tc.want, got)
			}
		})
	}
}

func TestOutputUnknownFormat(t *testing.T) {
	t.Parallel()
	cols, rows := outputRows()
	if err := printTable(&bytes.Buffer{}, "yaml", cols, rows, tableOptions{}); err == nil {
		t.Fatal("want an error for an unknown format")
	}
}

func TestOutputTitles(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{"account_id": "Account Id", "id": "Id", "help_text": "Help Text", "ami2x_id": "Ami2X Id"} {
		if got := (column{key: key}).header(); got != want {
			t.Errorf("title of %q = %q, want %q", key, got, want)
		}
	}
	if got := (column{key: "application_id", title: "Application"}).header(); got != "Application" {
		t.Errorf("given title = %q", got)
	}
}
