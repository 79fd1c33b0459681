package iamrole

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/wI2L/jsondiff"
)

// The error messages of a MODIFIED_ROLE_OR_SERVICE violation, exactly as the
// reference writes them, in the order they are collected.
const (
	MsgAttachedPolicies = "You MUST not attach additional policies to this role!"
	MsgInlinePolicies   = "You MUST not change the inline policies of this role"
	MsgMainPolicy       = "You MUST not change the main policy document! See diffs for details."
)

// EventSource is the only CloudTrail eventSource the check applies to.
const EventSource = "iam.amazonaws.com"

// DefaultEventNames are the IAM event names the check applies to when none
// are configured (fullstop.plugins.unapprovedServicesAndRole.eventNames).
var DefaultEventNames = []string{"CreateRole", "DeleteRole", "AttachRolePolicy", "UpdateAssumeRolePolicy", "PutRolePolicy"}

// DefaultAdminRoles are the session issuers whose changes are exempt when
// none are configured (fullstop.plugins.unapprovedServicesAndRole.adminRoles).
var DefaultAdminRoles = []string{"Shibboleth-Administrator", "OrganizationAccountAccessRole"}

// ErrInvalidJSON is wrapped by the error Check returns when the template or
// the main policy is not a JSON document.
var ErrInvalidJSON = errors.New("invalid JSON document")

// Role is what IAM says of a protected role now.
type Role struct {
	// Name is the role name (requestParameters.roleName).
	Name string
	// AttachedPolicies are the names from ListAttachedRolePolicies.
	AttachedPolicies []string
	// InlinePolicies are the names from ListRolePolicies.
	InlinePolicies []string
	// MainPolicy is the URL-decoded document of the inline policy named
	// exactly Name (GetRolePolicy), or nil (empty) when there is none; {}
	// is then compared with the template.
	MainPolicy []byte
}

// Meta is the meta of a MODIFIED_ROLE_OR_SERVICE violation.
type Meta struct {
	RoleName      string   `json:"role_name"`
	ErrorMessages []string `json:"error_messages"`
	// AttachedPolicyNames and InlinePolicyNames are the role's policy
	// names, sorted, without duplicates, never null.
	AttachedPolicyNames []string `json:"attached_policy_names"`
	InlinePolicyNames   []string `json:"inline_policy_names"`
	// ExpectedInlinePolicyNames is always [RoleName].
	ExpectedInlinePolicyNames []string `json:"expected_inline_policy_names"`
	// TemplateToPolicyDiff is the RFC 6902 patch turning the template into
	// the main policy, [] when they are equal.
	TemplateToPolicyDiff json.RawMessage `json:"template_to_policy_diff"`
	// PolicyToTemplateDiff is the RFC 6902 patch turning the main policy
	// into the template, [] when they are equal.
	PolicyToTemplateDiff json.RawMessage `json:"policy_to_template_diff"`
}

// Check compares a protected role with its template, the JSON policy
// document stored for it, as §4.11 says. It returns the violation's meta
// when the role is modified and nil when it is not. An unparseable template
// or main policy is an error wrapping ErrInvalidJSON (the caller logs it and
// reports nothing).
func Check(template []byte, r Role) (*Meta, error) {
	main := r.MainPolicy
	if len(main) == 0 {
		main = []byte("{}")
	}
	if _, err := parse(template); err != nil {
		return nil, fmt.Errorf("parse template of role %q: %w", r.Name, err)
	}
	if _, err := parse(main); err != nil {
		return nil, fmt.Errorf("parse main policy of role %q: %w", r.Name, err)
	}
	toPolicy, err := diff(template, main)
	if err != nil {
		return nil, fmt.Errorf("diff template to main policy of role %q: %w", r.Name, err)
	}
	toTemplate, err := diff(main, template)
	if err != nil {
		return nil, fmt.Errorf("diff main policy to template of role %q: %w", r.Name, err)
	}

	var msgs []string
	if len(r.AttachedPolicies) > 0 {
		msgs = append(msgs, MsgAttachedPolicies)
	}
	if !onlyName(r.InlinePolicies, r.Name) {
		msgs = append(msgs, MsgInlinePolicies)
	}
	if !bytes.Equal(toPolicy, emptyPatch) {
		msgs = append(msgs, MsgMainPolicy)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	return &Meta{
		RoleName:                  r.Name,
		ErrorMessages:             msgs,
		AttachedPolicyNames:       set(r.AttachedPolicies),
		InlinePolicyNames:         set(r.InlinePolicies),
		ExpectedInlinePolicyNames: []string{r.Name},
		TemplateToPolicyDiff:      toPolicy,
		PolicyToTemplateDiff:      toTemplate,
	}, nil
}

// Protected reports whether an event is one the check applies to (§4.11
// "Supports a record iff"): eventSource is iam.amazonaws.com, eventName is
// in eventNames, the session issuer's userName is not in adminRoles (an
// empty issuer is no admin) and roleName is in protected, the template
// names. A nil eventNames means DefaultEventNames and a nil adminRoles
// DefaultAdminRoles; an empty, non-nil list means none.
func Protected(eventSource, eventName, issuerUserName, roleName string, eventNames, adminRoles, protected []string) bool {
	if eventNames == nil {
		eventNames = DefaultEventNames
	}
	if adminRoles == nil {
		adminRoles = DefaultAdminRoles
	}
	return eventSource == EventSource &&
		slices.Contains(eventNames, eventName) &&
		(issuerUserName == "" || !slices.Contains(adminRoles, issuerUserName)) &&
		roleName != "" && slices.Contains(protected, roleName)
}

// TemplateNames turns S3 object keys directly under prefix/ into protected
// role names, the key's base name without its extension ("prefix/R.json" →
// "R", "prefix/R" → "R", "prefix/R.v2.json" → "R.v2"). Keys outside the
// prefix, in deeper folders, the prefix "folder" object itself and names
// that come out empty are ignored. A trailing slash on prefix is optional;
// an empty prefix means the bucket's top level. The names are sorted and
// free of duplicates.
func TemplateNames(prefix string, keys []string) []string {
	dir := strings.TrimRight(prefix, "/")
	if dir != "" {
		dir += "/"
	}
	var names []string
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, dir)
		if !ok || rest == "" || strings.Contains(rest, "/") {
			continue
		}
		name := strings.TrimSuffix(rest, path.Ext(rest))
		if name == "" {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// TemplateKey is the S3 key of role's template: prefix + "/" + role +
// ".json", with prefix's trailing slashes dropped; an empty prefix gives
// role + ".json".
func TemplateKey(prefix, role string) string {
	dir := strings.TrimRight(prefix, "/")
	if dir == "" {
		return role + ".json"
	}
	return dir + "/" + role + ".json"
}

var emptyPatch = []byte("[]")

// onlyName reports whether names, as a set, is exactly {name}.
func onlyName(names []string, name string) bool {
	if len(names) == 0 {
		return false
	}
	for _, n := range names {
		if n != name {
			return false
		}
	}
	return true
}

// set returns names sorted, without duplicates, never nil.
func set(names []string) []string {
	out := slices.Clone(names)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// parse decodes one JSON document, numbers kept as canonical json.Number.
func parse(b []byte) (any, error) {
	if !json.Valid(b) {
		return nil, ErrInvalidJSON
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	return canonical(v), nil
}

// canonical replaces every number in v by its canonical literal, so that
// numbers equal in value compare equal.
func canonical(v any) any {
	switch t := v.(type) {
	case json.Number:
		return json.Number(canonicalNumber(string(t)))
	case map[string]any:
		for k, e := range t {
			t[k] = canonical(e)
		}
	case []any:
		for i, e := range t {
			t[i] = canonical(e)
		}
	}
	return v
}

// maxExponent bounds the exponents canonicalNumber rewrites.
const maxExponent = 1_000_000_000

// maxPlainDigits bounds the length of a number written without an exponent.
const maxPlainDigits = 21

// canonicalNumber returns the canonical literal of the valid JSON number s:
// no leading or trailing zeros, no negative zero, plain notation up to
// maxPlainDigits digits, else d.ddde±x. Two literals have the same
// canonical form iff they denote the same decimal value. A literal whose
// exponent does not fit an int is returned as it is.
func canonicalNumber(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expStr, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if hasExp {
		e, err := strconv.Atoi(strings.TrimPrefix(expStr, "+"))
		if err != nil || e > maxExponent || e < -maxExponent {
			if neg {
				return "-" + s
			}
			return s
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	exp -= len(frac)
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0"
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed

	// value = 0.digits × 10^point
	n := len(digits)
	point := n + exp
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case exp >= 0 && point <= maxPlainDigits:
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", exp))
	case exp < 0 && point > 0 && point <= maxPlainDigits:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	case point <= 0 && point > -6:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digits)
	default:
		b.WriteByte(digits[0])
		if n > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		if point-1 >= 0 {
			b.WriteByte('+')
		}
		b.WriteString(strconv.Itoa(point - 1))
	}
	return b.String()
}

// operation is one RFC 6902 operation as written into the meta.
type operation struct {
	Op    string          `json:"op"`
	From  *string         `json:"from,omitempty"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// diff returns the RFC 6902 patch from the JSON document src to the JSON
// document tgt as a JSON array. Both are parsed afresh, so that the differ
// shares no value with another comparison.
func diff(src, tgt []byte) (json.RawMessage, error) {
	s, err := parse(src)
	if err != nil {
		return nil, err
	}
	t, err := parse(tgt)
	if err != nil {
		return nil, err
	}
	patch, err := jsondiff.CompareWithoutMarshal(s, t, jsondiff.LCS())
	if err != nil {
		return nil, err
	}
	ops := make([]operation, 0, len(patch))
	for _, p := range patch {
		o := operation{Op: p.Type, Path: p.Path}
		switch p.Type {
		case jsondiff.OperationCopy, jsondiff.OperationMove:
			o.From = &p.From
		case jsondiff.OperationAdd, jsondiff.OperationReplace, jsondiff.OperationTest:
			v, err := marshal(p.Value)
			if err != nil {
				return nil, fmt.Errorf("encode patch value: %w", err)
			}
			o.Value = v
		}
		ops = append(ops, o)
	}
	return marshal(ops)
}

// marshal encodes v without HTML escaping and without a trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
