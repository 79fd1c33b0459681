package sigma

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fullstop-audit/fullstop/rules"
)

// detector is a compiled rule's Go side: its condition, and the select
// list of violationColumns built in Go.
type detector struct {
	cond      node
	metaStart string // {"sigma_id":…,"level":…,
	// group, for a correlation's matches, are the columns whose values,
	// joined with rules.GroupSeparator, are the instance id (groupSQL).
	group []string
}

func newDetector(cond node, id, level string) *detector {
	var b []byte
	b = append(b, `{"sigma_id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"level":`...)
	b = appendJSONString(b, level)
	return &detector{cond: cond, metaStart: string(b)}
}

// Detect implements rules.Detector. The violation's Type and Rule are
// left to the caller, which knows the rule.
func (d *detector) Detect(ev rules.Event) (rules.Violation, bool, error) {
	v, ok, err := d.DetectMatch(ev)
	if !ok || err != nil {
		return v, ok, err
	}
	v.MetaInfo, err = d.meta(ev)
	return v, err == nil, err
}

// DetectMatch implements rules.MatchDetector: Detect without MetaInfo.
func (d *detector) DetectMatch(ev rules.Event) (rules.Violation, bool, error) {
	t, err := d.cond.eval(ev)
	if err != nil || t != triTrue {
		return rules.Violation{}, false, err
	}
	var instance string
	if d.group != nil {
		instance = d.groupOf(ev)
	} else if instance, err = resource(ev); err != nil {
		return rules.Violation{}, false, err
	}
	text := func(c string) string { s, _ := ev.Text(c); return s }
	at, _ := ev.Time("event_time")
	return rules.Violation{
		EventID:    text("event_id"),
		AccountID:  account(ev),
		Region:     text("aws_region"),
		InstanceID: instance,
		Username:   text("user_identity_arn"),
		EventTime:  at.UTC(),
		ObjectKey:  text("object_key"),
	}, true, nil
}

// meta is the violation's meta_info for ev: the meta_info of selectSQL.
func (d *detector) meta(ev rules.Event) (string, error) {
	request, ok, err := ev.JSONText("request_parameters", nil)
	if err != nil {
		return "", err
	}
	if !ok {
		request = "null"
	}
	b := make([]byte, 0, len(d.metaStart)+len(request)+256)
	b = append(b, d.metaStart...)
	for _, f := range [...]struct{ key, col string }{
		{"event_source", "event_source"}, {"event_name", "event_name"}, {"principal_arn", "user_identity_arn"},
		{"principal_type", "user_identity_type"}, {"source_ip_address", "source_ip_address"}, {"user_agent", "user_agent"},
	} {
		b = append(b, ',', '"')
		b = append(b, f.key...)
		b = append(b, '"', ':')
		if s, ok := ev.Text(f.col); ok {
			b = appendJSONString(b, s)
		} else {
			b = append(b, "null"...)
		}
	}
	b = append(b, `,"request_parameters":`...)
	b = append(b, request...)
	b = append(b, '}')
	return string(b), nil
}

// groupOf is groupSQL(d.group) for ev.
func (d *detector) groupOf(ev rules.Event) string {
	if len(d.group) == 1 {
		s, _ := ev.Text(d.group[0])
		return s
	}
	parts := make([]string, len(d.group))
	for i, c := range d.group {
		parts[i], _ = ev.Text(c)
	}
	return strings.Join(parts, rules.GroupSeparator)
}

// account is coalesce(nullif(user_identity_account_id, ”),
// nullif(recipient_account_id, ”), session_issuer_account_id).
func account(ev rules.Event) string {
	for _, c := range []string{"user_identity_account_id", "recipient_account_id"} {
		if s, ok := ev.Text(c); ok && s != "" {
			return s
		}
	}
	s, _ := ev.Text("session_issuer_account_id")
	return s
}

// resource is resourceSQL: the first of resourceKeys the request names
// with a value that is not empty.
func resource(ev rules.Event) (string, error) {
	for _, k := range resourceKeys {
		s, ok, err := ev.JSONText("request_parameters", []string{k})
		if err != nil {
			return "", err
		}
		if ok && s != "" {
			return s, nil
		}
	}
	return "", nil
}

// appendJSONString appends s as a JSON string, escaping what JSON must.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, strings.ToLower(strconv.FormatUint(uint64(c)>>4, 16))...)
			b = append(b, strconv.FormatUint(uint64(c)&15, 16)...)
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}
