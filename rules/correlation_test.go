package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseCorrelation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Correlation
		wantErr string
	}{
		{in: "10 events in 5m by user_identity_arn", want: Correlation{Threshold: 10, Window: 5 * time.Minute, GroupBy: []string{"user_identity_arn"}}},
		{in: "1 event in 1d", want: Correlation{Threshold: 1, Window: 24 * time.Hour}},
		{in: "3 events in 90s by aws_region, source_ip_address; id abc-1; level high",
			want: Correlation{Threshold: 3, Window: 90 * time.Second, GroupBy: []string{"aws_region", "source_ip_address"}, ID: "abc-1", Level: "high"}},
		{in: "2 events in 2h; level low", want: Correlation{Threshold: 2, Window: 2 * time.Hour, Level: "low"}},
		{in: "0 events in 5m", wantErr: "at least 1 event"},
		{in: "10 events in 0m", wantErr: "window of at least"},
		{in: "10 events in 8d", wantErr: "at most 7d"},
		{in: "10 events in 5w", wantErr: "want \"N events in"},
		{in: "10 events per 5m", wantErr: "want \"N events in"},
		{in: "10 events in 5m by User", wantErr: "want \"N events in"},
		{in: "10 events in 5m by a, a", wantErr: "distinct columns"},
		{in: "10 events in 5m by a,, b", wantErr: "distinct columns"},
	}
	for _, tt := range tests {
		c, err := ParseCorrelation(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrRule) {
				t.Errorf("ParseCorrelation(%q) error = %v, want one with %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCorrelation(%q) error = %v", tt.in, err)
			continue
		}
		if c.String() != strings.Replace(tt.in, "1 event in", "1 events in", 1) {
			t.Errorf("ParseCorrelation(%q).String() = %q, want the input back", tt.in, c.String())
		}
		if c.Threshold != tt.want.Threshold || c.Window != tt.want.Window || strings.Join(c.GroupBy, ",") != strings.Join(tt.want.GroupBy, ",") ||
			c.ID != tt.want.ID || c.Level != tt.want.Level {
			t.Errorf("ParseCorrelation(%q) = %+v, want %+v", tt.in, *c, tt.want)
		}
		back, err := ParseCorrelation(c.String())
		if err != nil || back.String() != c.String() {
			t.Errorf("ParseCorrelation(%q) again = %v, %v", c.String(), back, err)
		}
	}
}

func TestFormatWindow(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{5 * time.Minute: "5m", time.Hour: "1h", 48 * time.Hour: "2d", 90 * time.Second: "90s", 36 * time.Hour: "36h"} {
		if got := FormatWindow(d); got != want {
			t.Errorf("FormatWindow(%v) = %q, want %q", d, got, want)
		}
	}
}

// match is one event of a correlation rule's query.
func match(c *Correlation, id, account, region, group string, at string) Violation {
	tm, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	return Violation{Type: "SIGMA_BULK", EventID: id, AccountID: account, Region: region, InstanceID: group,
		Username: group, MetaInfo: `{"event_id":"` + id + `"}`, Rule: "sql/sigma/bulk.yml", EventTime: tm, ObjectKey: "o", Correlation: c}
}

func TestCorrelate(t *testing.T) {
	t.Parallel()
	byUser := &Correlation{Threshold: 3, Window: 5 * time.Minute, GroupBy: []string{"user_identity_arn"}, ID: "c1", Level: "medium"}
	byRegion := &Correlation{Threshold: 2, Window: time.Hour, GroupBy: []string{"aws_region"}}
	plain := Violation{Type: "WRONG_REGION", EventID: "p", AccountID: "1", Region: "eu-west-1"}
	tests := []struct {
		name string
		in   []Violation
		want []string // type/event_id/account/region/instance/events/first
	}{
		{name: "below the threshold", in: []Violation{
			match(byUser, "a", "1", "eu-west-1", "alice", "2024-01-01T10:00:00Z"),
			match(byUser, "b", "1", "eu-west-1", "alice", "2024-01-01T10:01:00Z"),
		}},
		{name: "reached, regions do not split a group that ignores them", in: []Violation{
			match(byUser, "c", "1", "eu-west-1", "alice", "2024-01-01T10:04:59Z"),
			match(byUser, "a", "1", "us-east-1", "alice", "2024-01-01T10:00:00Z"),
			match(byUser, "b", "1", "eu-west-1", "alice", "2024-01-01T10:01:00Z"),
		}, want: []string{"SIGMA_BULK/2024-01-01T10:00:00Z/1//alice/3/a"}},
		{name: "a window's end splits a burst", in: []Violation{
			match(byUser, "a", "1", "r", "alice", "2024-01-01T10:04:58Z"),
			match(byUser, "b", "1", "r", "alice", "2024-01-01T10:04:59Z"),
			match(byUser, "c", "1", "r", "alice", "2024-01-01T10:05:00Z"),
			match(byUser, "d", "1", "r", "alice", "2024-01-01T10:05:01Z"),
		}},
		{name: "groups and accounts count apart", in: []Violation{
			match(byUser, "a", "1", "r", "alice", "2024-01-01T10:00:00Z"),
			match(byUser, "b", "1", "r", "bob", "2024-01-01T10:00:00Z"),
			match(byUser, "c", "2", "r", "alice", "2024-01-01T10:00:00Z"),
			match(byUser, "d", "1", "r", "alice", "2024-01-01T10:00:01Z"),
			match(byUser, "e", "1", "r", "alice", "2024-01-01T10:00:02Z"),
		}, want: []string{"SIGMA_BULK/2024-01-01T10:00:00Z/1//alice/3/a"}},
		{name: "a group by region keeps the region; plain violations pass", in: []Violation{
			plain,
			match(byRegion, "b", "1", "eu-west-1", "eu-west-1", "2024-01-01T10:59:00Z"),
			match(byRegion, "a", "1", "eu-west-1", "eu-west-1", "2024-01-01T10:59:00Z"),
			match(byRegion, "c", "1", "us-east-1", "us-east-1", "2024-01-01T10:00:00Z"),
		}, want: []string{"WRONG_REGION/p/1/eu-west-1//0/", "SIGMA_BULK/2024-01-01T10:00:00Z/1/eu-west-1/eu-west-1/2/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, v := range Correlate(tt.in) {
				var meta struct {
					Events int    `json:"events"`
					First  string `json:"sample_event_id"`
				}
				if v.Correlation != nil {
					t.Errorf("Correlate() kept a match: %+v", v)
				}
				if v.MetaInfo != "" {
					if err := json.Unmarshal([]byte(v.MetaInfo), &meta); err != nil {
						t.Fatalf("meta_info %q: %v", v.MetaInfo, err)
					}
				}
				got = append(got, strings.Join([]string{v.Type, v.EventID, v.AccountID, v.Region, v.InstanceID, itoa(meta.Events), meta.First}, "/"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Correlate() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			// Tallied first, as the engine gives them, the matches
			// correlate the same.
			tallied := Correlate(Tally(tt.in))
			if fmt.Sprint(tallied) != fmt.Sprint(Correlate(tt.in)) {
				t.Errorf("Correlate(Tally()) =\n%+v\nwant\n%+v", tallied, Correlate(tt.in))
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestCorrelationViolation_Meta(t *testing.T) {
	t.Parallel()
	c := &Correlation{Threshold: 10, Window: 5 * time.Minute, GroupBy: []string{"user_identity_arn", "source_ip_address"}, ID: "cid", Level: "medium"}
	first := match(c, "e1", "123", "eu-west-1", "arn:aws:iam::123:user/x | 1.2.3.4", "2024-01-01T10:02:03Z")
	first.Username = "arn:aws:iam::123:user/x"
	v := CorrelationViolation(c, WindowOf(first), 12, first)
	if v.EventID != "2024-01-01T10:00:00Z" || v.InstanceID != first.InstanceID || v.Username != first.Username || v.Region != "" ||
		!v.EventTime.Equal(time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)) || v.Correlation != nil {
		t.Errorf("CorrelationViolation() = %+v", v)
	}
	var meta map[string]any
	if err := json.Unmarshal([]byte(v.MetaInfo), &meta); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"sigma_id": "cid", "level": "medium", "correlation": "event_count", "events": 12.0, "threshold": 10.0,
		"timespan": "5m", "window_start": "2024-01-01T10:00:00Z", "window_end": "2024-01-01T10:05:00Z", "sample_event_id": "e1"}
	for k, w := range want {
		if meta[k] != w {
			t.Errorf("meta_info[%q] = %v, want %v", k, meta[k], w)
		}
	}
	group, _ := meta["group_by"].(map[string]any)
	if group["user_identity_arn"] != "arn:aws:iam::123:user/x" || group["source_ip_address"] != "1.2.3.4" {
		t.Errorf("meta_info group_by = %v", meta["group_by"])
	}
	if f, _ := meta["sample_event"].(map[string]any); f["event_id"] != "e1" {
		t.Errorf("meta_info sample_event = %v, want the first match's meta", meta["sample_event"])
	}
	// Without user_identity_arn in the group there is no one user.
	c2 := &Correlation{Threshold: 1, Window: time.Minute, GroupBy: []string{"source_ip_address"}}
	if v := CorrelationViolation(c2, WindowOf(match(c2, "e", "1", "r", "1.2.3.4", "2024-01-01T10:00:00Z")), 1, first); v.Username != "" {
		t.Errorf("username = %q, want none", v.Username)
	}
}

func TestTally(t *testing.T) {
	t.Parallel()
	c := &Correlation{Threshold: 3, Window: 5 * time.Minute, GroupBy: []string{"user_identity_arn"}}
	plain := Violation{Type: "WRONG_REGION", EventID: "p", AccountID: "1", Region: "eu-west-1", ObjectKey: "o"}
	in := func(m Violation, object string, matches int) Violation {
		m.ObjectKey, m.Matches = object, matches
		return m
	}
	tests := []struct {
		name string
		in   []Violation
		want []string // event id/object/matches, in order
	}{
		{name: "nothing", in: nil},
		{name: "plain violations pass in their order", in: []Violation{plain, in(plain, "o2", 0)},
			want: []string{"p/o/0", "p/o2/0"}},
		{name: "one window and object: the earliest, counting all", in: []Violation{
			match(c, "c", "1", "r", "alice", "2024-01-01T10:02:00Z"),
			plain,
			match(c, "a", "1", "r", "alice", "2024-01-01T10:01:00Z"),
			match(c, "b", "1", "r", "alice", "2024-01-01T10:01:00Z"),
		}, want: []string{"a/o/3", "p/o/0"}},
		{name: "a match alone counts 1", in: []Violation{match(c, "a", "1", "r", "alice", "2024-01-01T10:01:00Z")},
			want: []string{"a/o/1"}},
		{name: "windows, groups, accounts and objects apart", in: []Violation{
			match(c, "a", "1", "r", "alice", "2024-01-01T10:04:59Z"),
			match(c, "b", "1", "r", "alice", "2024-01-01T10:05:00Z"),
			match(c, "c", "1", "r", "bob", "2024-01-01T10:04:00Z"),
			match(c, "d", "2", "r", "alice", "2024-01-01T10:04:00Z"),
			in(match(c, "e", "1", "r", "alice", "2024-01-01T10:04:00Z"), "o2", 0),
			match(c, "f", "1", "r", "alice", "2024-01-01T10:00:00Z"),
		}, want: []string{"f/o/2", "b/o/1", "c/o/1", "d/o/1", "e/o2/1"}},
		{name: "tallied matches add their counts", in: []Violation{
			in(match(c, "b", "1", "r", "alice", "2024-01-01T10:01:00Z"), "o", 5),
			match(c, "a", "1", "r", "alice", "2024-01-01T10:03:00Z"),
		}, want: []string{"b/o/6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, v := range Tally(tt.in) {
				got = append(got, v.EventID+"/"+v.ObjectKey+"/"+itoa(v.Matches))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("Tally() = %q, want %q", got, tt.want)
			}
		})
	}
}
