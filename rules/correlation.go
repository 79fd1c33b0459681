package rules

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Correlation turns a rule's matches into counts (a Sigma event_count
// correlation): the rule reports one violation for a window of Window in
// which at least Threshold matching events share an account and the values
// of GroupBy. Windows are fixed: they start at midnight UTC and every
// Window after it (a Window that does not divide a day starts them at
// time.Time's zero instead), so a burst across a window's end counts in
// two windows.
//
// A match is a Violation with Correlation set whose InstanceID is the
// group: the GroupBy values joined with GroupSeparator.
type Correlation struct {
	Threshold int           // events; at least 1
	Window    time.Duration // at least a second, whole seconds
	GroupBy   []string      // columns of the view raw_events; may be empty
	Level     string        // the Sigma correlation's level, for the violation's meta
	ID        string        // the Sigma correlation's id, for the violation's meta
}

// GroupSeparator joins the values of Correlation.GroupBy in a group.
const GroupSeparator = " | "

// MaxCorrelationWindow is the longest window a correlation may have.
const MaxCorrelationWindow = 7 * 24 * time.Hour

var correlationRE = regexp.MustCompile(`^(\d+) events? in (\d+)([smhd])(?: by ([a-z0-9_, ]+?))?(?:; id ([^;\s]+))?(?:; level ([a-z]+))?$`)

// ParseCorrelation parses the header value "10 events in 5m by
// user_identity_arn, source_ip_address; id 5e3c…; level medium": the by,
// id and level parts are optional; the units are s, m, h and d.
func ParseCorrelation(s string) (*Correlation, error) {
	m := correlationRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil, fmt.Errorf("correlation %q: want \"N events in Dd[ by column, column][; id ID][; level LEVEL]\" with d one of s, m, h, d: %w", s, ErrRule)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("correlation %q: want at least 1 event: %w", s, ErrRule)
	}
	k, err := strconv.Atoi(m[2])
	if err != nil || k < 1 {
		return nil, fmt.Errorf("correlation %q: want a window of at least 1%s: %w", s, m[3], ErrRule)
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[3]]
	c := &Correlation{Threshold: n, Window: time.Duration(k) * unit, ID: m[5], Level: m[6]}
	if c.Window > MaxCorrelationWindow || c.Window/unit != time.Duration(k) {
		return nil, fmt.Errorf("correlation %q: the window may be at most %s: %w", s, FormatWindow(MaxCorrelationWindow), ErrRule)
	}
	if m[4] != "" {
		for _, col := range strings.Split(m[4], ",") {
			col = strings.TrimSpace(col)
			if !columnRE.MatchString(col) || slices.Contains(c.GroupBy, col) {
				return nil, fmt.Errorf("correlation %q: want a comma list of distinct columns after \"by\": %w", s, ErrRule)
			}
			c.GroupBy = append(c.GroupBy, col)
		}
	}
	return c, nil
}

// String is the header value ParseCorrelation reads.
func (c *Correlation) String() string {
	s := fmt.Sprintf("%d events in %s", c.Threshold, FormatWindow(c.Window))
	if len(c.GroupBy) > 0 {
		s += " by " + strings.Join(c.GroupBy, ", ")
	}
	if c.ID != "" {
		s += "; id " + c.ID
	}
	if c.Level != "" {
		s += "; level " + c.Level
	}
	return s
}

// FormatWindow is d in the largest of the units d, h, m and s that
// divides it: 5m, 1h, 2d.
func FormatWindow(d time.Duration) string {
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.s
		}
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// WindowStart is the start of the window that holds t.
func (c *Correlation) WindowStart(t time.Time) time.Time { return t.UTC().Truncate(c.Window) }

// Window is the identity of one window of one correlation rule: where a
// match counts.
type Window struct {
	Type      string
	AccountID string
	Region    string // "" unless the rule groups by aws_region
	Group     string // the match's InstanceID
	Start     time.Time
}

// WindowOf is the window match counts in; match.Correlation must be set.
func WindowOf(match Violation) Window {
	c := match.Correlation
	region := ""
	if slices.Contains(c.GroupBy, "aws_region") {
		region = match.Region
	}
	return Window{Type: match.Type, AccountID: match.AccountID, Region: region, Group: match.InstanceID, Start: c.WindowStart(match.EventTime)}
}

// Compare orders windows by their fields.
func (w Window) Compare(o Window) int {
	return cmp.Or(strings.Compare(w.Type, o.Type), strings.Compare(w.AccountID, o.AccountID),
		strings.Compare(w.Region, o.Region), strings.Compare(w.Group, o.Group), w.Start.Compare(o.Start))
}

// EarlierMatch reports whether a is the match a window's violation
// describes rather than b: the earlier event, then the smaller event id.
func EarlierMatch(a, b Violation) bool {
	if c := a.EventTime.Compare(b.EventTime); c != 0 {
		return c < 0
	}
	return a.EventID < b.EventID
}

// CorrelationViolation is the violation of window w of rule c, which has
// events matching events, described by its earliest match first (by
// EarlierMatch; its EventID, MetaInfo and Rule are read). Its identity is
// the window's: the event id is the window's start (RFC 3339), the
// instance id the group, the user the group's user_identity_arn.
func CorrelationViolation(c *Correlation, w Window, events int, first Violation) Violation {
	group := map[string]string{}
	if len(c.GroupBy) > 0 {
		for i, v := range strings.SplitN(w.Group, GroupSeparator, len(c.GroupBy)) {
			group[c.GroupBy[i]] = v
		}
	}
	var firstMeta any = json.RawMessage("null")
	if json.Valid([]byte(first.MetaInfo)) {
		firstMeta = json.RawMessage(first.MetaInfo)
	}
	meta, _ := json.Marshal(struct {
		SigmaID     string            `json:"sigma_id,omitempty"`
		Level       string            `json:"level,omitempty"`
		Correlation string            `json:"correlation"`
		Events      int               `json:"events"`
		Threshold   int               `json:"threshold"`
		Timespan    string            `json:"timespan"`
		WindowStart string            `json:"window_start"`
		WindowEnd   string            `json:"window_end"`
		GroupBy     map[string]string `json:"group_by"`
		FirstEvent  string            `json:"sample_event_id"`
		First       any               `json:"sample_event"`
	}{c.ID, c.Level, "event_count", events, c.Threshold, FormatWindow(c.Window),
		w.Start.Format(time.RFC3339), w.Start.Add(c.Window).Format(time.RFC3339), group, first.EventID, firstMeta})
	user := group["user_identity_arn"]
	return Violation{
		Type: w.Type, EventID: w.Start.Format(time.RFC3339), AccountID: w.AccountID, Region: w.Region,
		InstanceID: w.Group, Username: user, MetaInfo: string(meta), Rule: first.Rule, EventTime: w.Start,
		ObjectKey: first.ObjectKey,
	}
}

// Tally returns vs with the matches of correlation rules (Correlation
// set) of one window and object merged into one: the earliest of them (by
// EarlierMatch), with Matches the sum of their MatchCount (1 for a match
// alone). Other violations are kept; the order is vs's, each merged match
// where the first of its window and object was. The store counts a tallied match as
// the matches it stands for, so tallying changes nothing it stores; it
// only spares the rest of the way the matches that describe nothing.
// Matches of one identity and object should be one already (the engine's
// distinct), or each counts.
func Tally(vs []Violation) []Violation {
	type key struct {
		w      Window
		object string
	}
	at := map[key]int{} // index in out
	out := make([]Violation, 0, len(vs))
	for _, v := range vs {
		if v.Correlation == nil {
			out = append(out, v)
			continue
		}
		k := key{WindowOf(v), v.ObjectKey}
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			v.Matches = v.MatchCount()
			out = append(out, v)
			continue
		}
		n := out[i].MatchCount() + v.MatchCount()
		if EarlierMatch(v, out[i]) {
			out[i] = v
		}
		out[i].Matches = n
	}
	return out
}

// Correlate returns vs with the matches of correlation rules (Correlation
// set) replaced by the violations of the windows whose matches, counted
// from zero, reach their threshold; the others are kept in their order,
// the correlation violations follow in window order. It is what storing
// vs in an empty database gives, for tests and fixtures.
func Correlate(vs []Violation) []Violation {
	type total struct {
		c      *Correlation
		events int
		first  Violation
	}
	windows := map[Window]*total{}
	var out []Violation
	for _, v := range vs {
		if v.Correlation == nil {
			out = append(out, v)
			continue
		}
		w := WindowOf(v)
		t := windows[w]
		if t == nil {
			t = &total{c: v.Correlation, first: v}
			windows[w] = t
		} else if EarlierMatch(v, t.first) {
			t.first = v
		}
		t.events += v.MatchCount()
	}
	keys := make([]Window, 0, len(windows))
	for w, t := range windows {
		if t.events >= t.c.Threshold {
			keys = append(keys, w)
		}
	}
	slices.SortFunc(keys, Window.Compare)
	for _, w := range keys {
		t := windows[w]
		out = append(out, CorrelationViolation(t.c, w, t.events, t.first))
	}
	return out
}
