package iamrole

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// role is the protected role of the reference's fixtures and tests.
const role = "mint-worker-b17-AppServerRole-W5WX8WewafwO2MEWZ"

// policy1 and policy2 are the reference test's POLICY_1 and POLICY_2: the
// same document with the keys in another order. policy2 is also written
// with other white space here.
const (
	policy1 = `{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123:xxx-provider/Shibboleth"},"Action":"sts:AssumeRoleWithxxx","Condition":{"StringEquals":{"xxx:au":"https://signin.aws.amazon.com/xxx"}}}]}`
	policy2 = `{
  "Statement": [ {
      "Sid": "", "Effect": "Allow",
      "Principal": { "Federated": "arn:aws:iam::123:xxx-provider/Shibboleth" },
      "Action": "sts:AssumeRoleWithxxx",
      "Condition": { "StringEquals": { "xxx:au": "https://signin.aws.amazon.com/xxx" } }
  } ],
  "Version" : "2012-10-17"
}`
)

const s3Statement = `{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket/*"}`

func TestCheck(t *testing.T) {
	t.Parallel()
	only := []string{role}
	for _, tc := range []struct {
		name     string
		template string
		role     Role
		// want is nil when the role is not modified.
		want *Meta
	}{
		{
			name:     "unchanged, keys reordered, other white space",
			template: policy2,
			role:     Role{Name: role, InlinePolicies: only, MainPolicy: []byte(policy1)},
		},
		{
			name:     "unchanged, inline name listed twice",
			template: policy1,
			role:     Role{Name: role, InlinePolicies: []string{role, role}, MainPolicy: []byte(policy2)},
		},
		{
			name:     "unchanged, empty template and no main policy",
			template: ` {} `,
			role:     Role{Name: role, InlinePolicies: only},
		},
		{
			name:     "attached policy",
			template: `{"eventVersion": "2"}`,
			role:     Role{Name: role, AttachedPolicies: []string{"foo"}, InlinePolicies: only, MainPolicy: []byte(`{"eventVersion": "2"}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgAttachedPolicies},
				AttachedPolicyNames: []string{"foo"}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[]`), PolicyToTemplateDiff: raw(`[]`),
			},
		},
		{
			name:     "attached policies sorted, duplicates dropped",
			template: policy1,
			role:     Role{Name: role, AttachedPolicies: []string{"z", "ReadOnlyAccess", "z"}, InlinePolicies: only, MainPolicy: []byte(policy1)},
			want: &Meta{
				ErrorMessages:       []string{MsgAttachedPolicies},
				AttachedPolicyNames: []string{"ReadOnlyAccess", "z"}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[]`), PolicyToTemplateDiff: raw(`[]`),
			},
		},
		{
			name:     "extra inline policy",
			template: `{"eventVersion": "2"}`,
			role:     Role{Name: role, InlinePolicies: []string{role, "another-policy"}, MainPolicy: []byte(`{"eventVersion": "2"}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgInlinePolicies},
				AttachedPolicyNames: []string{}, InlinePolicyNames: []string{"another-policy", role},
				TemplateToPolicyDiff: raw(`[]`), PolicyToTemplateDiff: raw(`[]`),
			},
		},
		{
			name:     "inline policy renamed, main policy missing",
			template: `{"Version":"2012-10-17"}`,
			role:     Role{Name: role, InlinePolicies: []string{"renamed"}},
			want: &Meta{
				ErrorMessages:       []string{MsgInlinePolicies, MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: []string{"renamed"},
				TemplateToPolicyDiff: raw(`[{"op":"remove","path":"/Version"}]`),
				PolicyToTemplateDiff: raw(`[{"op":"add","path":"/Version","value":"2012-10-17"}]`),
			},
		},
		{
			name:     "no inline policy at all, empty main policy",
			template: `{"Version":"2012-10-17"}`,
			role:     Role{Name: role, MainPolicy: []byte{}},
			want: &Meta{
				ErrorMessages:       []string{MsgInlinePolicies, MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: []string{},
				TemplateToPolicyDiff: raw(`[{"op":"remove","path":"/Version"}]`),
				PolicyToTemplateDiff: raw(`[{"op":"add","path":"/Version","value":"2012-10-17"}]`),
			},
		},
		{
			name:     "all three messages",
			template: `{"eventVersion":"2"}`,
			role:     Role{Name: role, AttachedPolicies: []string{"foo"}, InlinePolicies: []string{role, "x"}, MainPolicy: []byte(`{"eventVersion":"2","x":null}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgAttachedPolicies, MsgInlinePolicies, MsgMainPolicy},
				AttachedPolicyNames: []string{"foo"}, InlinePolicyNames: []string{role, "x"},
				TemplateToPolicyDiff: raw(`[{"op":"add","path":"/x","value":null}]`),
				PolicyToTemplateDiff: raw(`[{"op":"remove","path":"/x"}]`),
			},
		},
		{
			name:     "changed value (reference testProcessEventWithPolicyDiff)",
			template: `{"eventVersion": "2"}`,
			role:     Role{Name: role, InlinePolicies: only, MainPolicy: []byte(`{"eventVersion": "1"}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[{"op":"replace","path":"/eventVersion","value":"1"}]`),
				PolicyToTemplateDiff: raw(`[{"op":"replace","path":"/eventVersion","value":"2"}]`),
			},
		},
		{
			name:     "Action array order changed",
			template: `{"Statement":[` + s3Statement + `]}`,
			role: Role{Name: role, InlinePolicies: only, MainPolicy: []byte(
				`{"Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::bucket/*"}]}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[{"op":"remove","path":"/Statement/0/Action/0"},{"op":"add","path":"/Statement/0/Action/1","value":"s3:GetObject"}]`),
				PolicyToTemplateDiff: raw(`[{"op":"remove","path":"/Statement/0/Action/0"},{"op":"add","path":"/Statement/0/Action/1","value":"s3:PutObject"}]`),
			},
		},
		{
			name:     "Statement added",
			template: `{"Version":"2012-10-17","Statement":[` + s3Statement + `]}`,
			role: Role{Name: role, InlinePolicies: only, MainPolicy: []byte(
				`{"Version":"2012-10-17","Statement":[` + s3Statement + `,{"Effect":"Allow","Action":"*","Resource":"*"}]}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[{"op":"add","path":"/Statement/1","value":{"Action":"*","Effect":"Allow","Resource":"*"}}]`),
				PolicyToTemplateDiff: raw(`[{"op":"remove","path":"/Statement/1"}]`),
			},
		},
		{
			name:     "Statement inserted first",
			template: `{"Statement":[` + s3Statement + `]}`,
			role: Role{Name: role, InlinePolicies: only, MainPolicy: []byte(
				`{"Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"},` + s3Statement + `]}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[{"op":"add","path":"/Statement/0","value":{"Action":"iam:*","Effect":"Deny","Resource":"*"}}]`),
				PolicyToTemplateDiff: raw(`[{"op":"remove","path":"/Statement/0"}]`),
			},
		},
		{
			name:     "reference testJsonArrayDiff",
			template: `{"foo":["a", "b", "c"]}`,
			role:     Role{Name: role, InlinePolicies: only, MainPolicy: []byte(`{"foo":["c", "d", "e"]}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[{"op":"remove","path":"/foo/0"},{"op":"remove","path":"/foo/0"},{"op":"add","path":"/foo/1","value":"d"},{"op":"add","path":"/foo/2","value":"e"}]`),
				PolicyToTemplateDiff: raw(`[{"op":"add","path":"/foo/0","value":"a"},{"op":"add","path":"/foo/1","value":"b"},{"op":"remove","path":"/foo/3"},{"op":"remove","path":"/foo/3"}]`),
			},
		},
		{
			name:     "numbers equal in value: 1, 1.0, 1e0, 10E-1",
			template: `{"a":1,"b":[100,-0,0.5],"c":{"d":12345678901234567890}}`,
			role: Role{Name: role, InlinePolicies: only, MainPolicy: []byte(
				`{"a":1.0,"b":[1e2,0,5E-1],"c":{"d":1.2345678901234567890e19}}`)},
		},
		{
			name:     "numbers differ in value",
			template: `{"a":1.50,"big":12345678901234567890}`,
			role:     Role{Name: role, InlinePolicies: only, MainPolicy: []byte(`{"a":2.0,"big":12345678901234567891}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[{"op":"replace","path":"/a","value":2},{"op":"replace","path":"/big","value":12345678901234567891}]`),
				PolicyToTemplateDiff: raw(`[{"op":"replace","path":"/a","value":1.5},{"op":"replace","path":"/big","value":12345678901234567890}]`),
			},
		},
		{
			name:     "number vs string is a change",
			template: `{"a":1}`,
			role:     Role{Name: role, InlinePolicies: only, MainPolicy: []byte(`{"a":"1"}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[{"op":"replace","path":"/a","value":"1"}]`),
				PolicyToTemplateDiff: raw(`[{"op":"replace","path":"/a","value":1}]`),
			},
		},
		{
			name:     "pointer escapes, keys sorted, no HTML escaping",
			template: `{}`,
			role:     Role{Name: role, InlinePolicies: only, MainPolicy: []byte(`{"z/y~x":{"b":"<&>","a":true}}`)},
			want: &Meta{
				ErrorMessages:       []string{MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[{"op":"add","path":"/z~1y~0x","value":{"a":true,"b":"<&>"}}]`),
				PolicyToTemplateDiff: raw(`[{"op":"remove","path":"/z~1y~0x"}]`),
			},
		},
		{
			name:     "documents of different kinds",
			template: `{"Version":"2012-10-17"}`,
			role:     Role{Name: role, InlinePolicies: only, MainPolicy: []byte(`["2012-10-17"]`)},
			want: &Meta{
				ErrorMessages:       []string{MsgMainPolicy},
				AttachedPolicyNames: []string{}, InlinePolicyNames: only,
				TemplateToPolicyDiff: raw(`[{"op":"add","path":"","value":["2012-10-17"]}]`),
				PolicyToTemplateDiff: raw(`[{"op":"add","path":"","value":{"Version":"2012-10-17"}}]`),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Check([]byte(tc.template), tc.role)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if tc.want != nil {
				tc.want.RoleName = role
				tc.want.ExpectedInlinePolicyNames = []string{role}
			}
			if tc.want == nil || got == nil {
				if got != tc.want {
					t.Fatalf("Check = %s, want %s", mustJSON(t, got), mustJSON(t, tc.want))
				}
				return
			}
			if g, w := mustJSON(t, got), mustJSON(t, tc.want); g != w {
				t.Errorf("Check =\n%s\nwant\n%s", g, w)
			}
			// The patches really turn one document into the other.
			policy := tc.role.MainPolicy
			if len(policy) == 0 {
				policy = []byte("{}")
			}
			roundTrip(t, []byte(tc.template), policy, got.TemplateToPolicyDiff)
			roundTrip(t, policy, []byte(tc.template), got.PolicyToTemplateDiff)
		})
	}
}

// TestCheck_metaJSON pins the meta as stored: every field present, no null
// lists.
func TestCheck_metaJSON(t *testing.T) {
	t.Parallel()
	got, err := Check([]byte(`{"Version":"2012-10-17"}`), Role{Name: "R", AttachedPolicies: []string{"A"}})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"role_name":"R","error_messages":["You MUST not attach additional policies to this role!",` +
		`"You MUST not change the inline policies of this role","You MUST not change the main policy document! See diffs for details."],` +
		`"attached_policy_names":["A"],"inline_policy_names":[],"expected_inline_policy_names":["R"],` +
		`"template_to_policy_diff":[{"op":"remove","path":"/Version"}],` +
		`"policy_to_template_diff":[{"op":"add","path":"/Version","value":"2012-10-17"}]}`
	if g := mustJSON(t, got); g != want {
		t.Errorf("meta =\n%s\nwant\n%s", g, want)
	}
}

// TestCheck_doesNotAlias checks that the meta owns its lists.
func TestCheck_doesNotAlias(t *testing.T) {
	t.Parallel()
	r := Role{Name: "R", AttachedPolicies: []string{"b", "a"}, InlinePolicies: []string{"R", "x"}, MainPolicy: []byte(`{}`)}
	m, err := Check([]byte(`{}`), r)
	if err != nil || m == nil {
		t.Fatalf("Check = %v, %v", m, err)
	}
	if !slices.Equal(r.AttachedPolicies, []string{"b", "a"}) || !slices.Equal(r.InlinePolicies, []string{"R", "x"}) {
		t.Errorf("Check changed its input: %v %v", r.AttachedPolicies, r.InlinePolicies)
	}
}

func TestCheck_invalidJSON(t *testing.T) {
	t.Parallel()
	valid := `{"Version":"2012-10-17"}`
	for _, tc := range []struct {
		name, template, policy string
	}{
		{"template truncated", `{"Version":`, valid},
		{"template empty", ``, valid},
		{"template white space", "  \n", valid},
		{"template trailing data", `{} {}`, valid},
		{"template URL-encoded", `%7B%7D`, valid},
		{"template single quotes", `{'a':1}`, valid},
		{"policy truncated", valid, `{"Statement":[`},
		{"policy trailing comma", valid, `{"a":1,}`},
		{"policy not JSON", valid, `Version=2012-10-17`},
		{"policy NaN", valid, `{"a":NaN}`},
		{"policy invalid UTF-8 outside strings", valid, "{\"a\":1}\xff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Even a role that is modified in other ways reports nothing.
			m, err := Check([]byte(tc.template), Role{Name: role, AttachedPolicies: []string{"foo"}, MainPolicy: []byte(tc.policy)})
			if !errors.Is(err, ErrInvalidJSON) {
				t.Errorf("Check error = %v, want ErrInvalidJSON", err)
			}
			if m != nil {
				t.Errorf("Check meta = %s, want nil", mustJSON(t, m))
			}
		})
	}
}

func TestCanonicalNumber(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"0.000", "0"}, {"0e10", "0"}, {"-0.0E-3", "0"},
		{"1", "1"}, {"1.0", "1"}, {"1e0", "1"}, {"10E-1", "1"}, {"0.1e1", "1"}, {"1E+0", "1"},
		{"-1", "-1"}, {"-1.50", "-1.5"}, {"100", "100"}, {"1e2", "100"}, {"1.5e1", "15"},
		{"0.5", "0.5"}, {"5e-1", "0.5"}, {"0.000001", "0.000001"}, {"1e-7", "1e-7"}, {"1.25e-7", "1.25e-7"},
		{"123456789012345678901", "123456789012345678901"}, {"1e21", "1e+21"}, {"1.5e21", "1.5e+21"},
		{"1e20", "100000000000000000000"}, {"12345678901234567890.5", "12345678901234567890.5"}, {"1234567890123456789012.5", "1.2345678901234567890125e+21"},
		{"12.3400", "12.34"}, {"-12.34e-2", "-0.1234"},
		{"1e99999999999999999999", "1e99999999999999999999"}, {"-2E-99999999999", "-2E-99999999999"},
	} {
		if got := canonicalNumber(tc.in); got != tc.want {
			t.Errorf("canonicalNumber(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !json.Valid([]byte(canonicalNumber(tc.in))) {
			t.Errorf("canonicalNumber(%q) is no JSON number", tc.in)
		}
	}
}

// record is the part of a CloudTrail record Protected looks at.
type record struct {
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	UserIdentity struct {
		SessionContext struct {
			SessionIssuer struct {
				UserName string `json:"userName"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	RequestParameters struct {
		RoleName string `json:"roleName"`
	} `json:"requestParameters"`
}

// TestProtected_fixtures are the reference's testSupports,
// testSupportsAdminEvent and testSupportsNewStyleAdminEvent.
func TestProtected_fixtures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		want bool
	}{
		{"unapproved-services-and-role-plugin__record.json", true},
		{"unapproved-services-and-role-plugin__admin-record.json", false},
		{"unapproved-services-and-role-plugin__new-admin-record.json", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("../../testdata/cloudtrail/fullstop-fixtures", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var f struct{ Records []record }
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			if len(f.Records) != 1 {
				t.Fatalf("%d records, want 1", len(f.Records))
			}
			r := f.Records[0]
			got := Protected(r.EventSource, r.EventName, r.UserIdentity.SessionContext.SessionIssuer.UserName,
				r.RequestParameters.RoleName, nil, nil, []string{"other", role})
			if got != tc.want {
				t.Errorf("Protected = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestProtected(t *testing.T) {
	t.Parallel()
	const (
		src    = "iam.amazonaws.com"
		issuer = "sfewcsdfs-PowerUser"
	)
	protected := []string{"app-role", role}
	type args struct {
		source, event, issuer, role string
		events, admins, protected   []string
	}
	ok := func(f func(*args)) args {
		a := args{source: src, event: "CreateRole", issuer: issuer, role: role, protected: protected}
		if f != nil {
			f(&a)
		}
		return a
	}
	cases := []struct {
		name string
		args args
		want bool
	}{
		{"protected", ok(nil), true},
		{"other event source", ok(func(a *args) { a.source = "sts.amazonaws.com" }), false},
		{"event source case differs", ok(func(a *args) { a.source = "IAM.amazonaws.com" }), false},
		{"empty event source", ok(func(a *args) { a.source = "" }), false},
		{"event not in defaults", ok(func(a *args) { a.event = "DetachRolePolicy" }), false},
		{"event name case differs", ok(func(a *args) { a.event = "createrole" }), false},
		{"admin Shibboleth-Administrator", ok(func(a *args) { a.issuer = "Shibboleth-Administrator" }), false},
		{"admin OrganizationAccountAccessRole", ok(func(a *args) { a.issuer = "OrganizationAccountAccessRole" }), false},
		{"empty issuer is no admin", ok(func(a *args) { a.issuer = "" }), true},
		{"empty issuer even with an empty admin name", ok(func(a *args) { a.issuer = ""; a.admins = []string{""} }), true},
		{"unknown role", ok(func(a *args) { a.role = "unknown-role" }), false},
		{"role name case differs", ok(func(a *args) { a.role = "APP-ROLE" }), false},
		{"empty role name", ok(func(a *args) { a.role = "" }), false},
		{"empty role name with an empty template name", ok(func(a *args) { a.role = ""; a.protected = []string{""} }), false},
		{"no templates", ok(func(a *args) { a.protected = nil }), false},
		{"configured events replace the defaults", ok(func(a *args) { a.events = []string{"DetachRolePolicy"} }), false},
		{"configured event", ok(func(a *args) { a.event = "DetachRolePolicy"; a.events = []string{"DetachRolePolicy"} }), true},
		{"no configured events", ok(func(a *args) { a.events = []string{} }), false},
		{"configured admins replace the defaults", ok(func(a *args) { a.issuer = "Shibboleth-Administrator"; a.admins = []string{"Boss"} }), true},
		{"configured admin", ok(func(a *args) { a.issuer = "Boss"; a.admins = []string{"Boss"} }), false},
		{"no configured admins", ok(func(a *args) { a.issuer = "OrganizationAccountAccessRole"; a.admins = []string{} }), true},
	}
	for _, e := range DefaultEventNames {
		cases = append(cases, struct {
			name string
			args args
			want bool
		}{"default event " + e, ok(func(a *args) { a.event = e }), true})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := tc.args
			if got := Protected(a.source, a.event, a.issuer, a.role, a.events, a.admins, a.protected); got != tc.want {
				t.Errorf("Protected(%+v) = %v, want %v", a, got, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	if want := []string{"CreateRole", "DeleteRole", "AttachRolePolicy", "UpdateAssumeRolePolicy", "PutRolePolicy"}; !slices.Equal(DefaultEventNames, want) {
		t.Errorf("DefaultEventNames = %v, want %v", DefaultEventNames, want)
	}
	if want := []string{"Shibboleth-Administrator", "OrganizationAccountAccessRole"}; !slices.Equal(DefaultAdminRoles, want) {
		t.Errorf("DefaultAdminRoles = %v, want %v", DefaultAdminRoles, want)
	}
}

func TestTemplateNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		prefix string
		keys   []string
		want   []string
	}{
		{"plain", "templates", []string{"templates/R.json", "templates/app-role.json"}, []string{"R", "app-role"}},
		{"sorted", "templates", []string{"templates/b.json", "templates/a.json"}, []string{"a", "b"}},
		{"folder object ignored", "templates", []string{"templates/", "templates/R.json"}, []string{"R"}},
		{"nested keys ignored", "templates", []string{"templates/old/R.json", "templates/a/b/c.json", "templates/S.json"}, []string{"S"}},
		{"keys outside the prefix ignored", "templates", []string{"other/R.json", "R.json", "templatesX/R.json", "templates.json"}, nil},
		{"no extension", "templates", []string{"templates/R"}, []string{"R"}},
		{"only the last extension stripped", "templates", []string{"templates/R.v2.json"}, []string{"R.v2"}},
		{"any extension stripped", "templates", []string{"templates/R.txt"}, []string{"R"}},
		{"empty names ignored", "templates", []string{"templates/.json", "templates/."}, nil},
		{"duplicates dropped", "templates", []string{"templates/R.json", "templates/R", "templates/R.bak"}, []string{"R"}},
		{"trailing slash on prefix", "templates/", []string{"templates/R.json", "templates/x/S.json"}, []string{"R"}},
		{"nested prefix", "a/b", []string{"a/b/R.json", "a/R.json", "a/b/c/S.json"}, []string{"R"}},
		{"empty prefix", "", []string{"R.json", "templates/S.json", "T"}, []string{"R", "T"}},
		{"prefix of slashes is empty", "/", []string{"R.json"}, []string{"R"}},
		{"no keys", "templates", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := TemplateNames(tc.prefix, tc.keys); !slices.Equal(got, tc.want) {
				t.Errorf("TemplateNames(%q, %q) = %q, want %q", tc.prefix, tc.keys, got, tc.want)
			}
		})
	}
}

func TestTemplateKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ prefix, role, want string }{
		{"templates", "R", "templates/R.json"},
		{"templates/", "R", "templates/R.json"},
		{"templates//", "R", "templates/R.json"},
		{"a/b", "R", "a/b/R.json"},
		{"", "R", "R.json"},
		{"/", "R", "R.json"},
		{"templates", role, "templates/" + role + ".json"},
	} {
		if got := TemplateKey(tc.prefix, tc.role); got != tc.want {
			t.Errorf("TemplateKey(%q, %q) = %q, want %q", tc.prefix, tc.role, got, tc.want)
		}
		// A key and the name list agree.
		if got := TemplateNames(tc.prefix, []string{TemplateKey(tc.prefix, tc.role)}); !slices.Equal(got, []string{tc.role}) {
			t.Errorf("TemplateNames(%q, [TemplateKey]) = %q, want [%q]", tc.prefix, got, tc.role)
		}
	}
}

// FuzzCheck checks that Check never panics, fails exactly on invalid JSON,
// reports a main-policy change exactly when the documents differ and writes
// patches that turn each document into the other.
func FuzzCheck(f *testing.F) {
	for _, s := range [][2]string{
		{policy1, policy2},
		{`{"eventVersion": "2"}`, `{"eventVersion": "1"}`},
		{`{"foo":["a","b","c"]}`, `{"foo":["c","d","e"]}`},
		{`{"Statement":[` + s3Statement + `]}`, `{"Statement":[{"Action":"*"},` + s3Statement + `,{"Action":"*"}]}`},
		{`{"a":1,"b":[1.0,2e3]}`, `{"a":1.0,"b":[1,2000]}`},
		{`[1,[2,[3]],{"a/b":{"~":null}}]`, `[[2],{"a/b":{"~":false}},1]`},
		{`"x"`, `{}`},
		{`{}`, ``},
		{`{"a":`, `{}`},
		{`{"a":1}`, `{"a":1} x`},
	} {
		f.Add([]byte(s[0]), []byte(s[1]), false, role)
		f.Add([]byte(s[0]), []byte(s[1]), true, "other")
	}
	f.Fuzz(func(t *testing.T, template, policy []byte, attached bool, inline string) {
		r := Role{Name: role, InlinePolicies: []string{role}, MainPolicy: policy}
		if attached {
			r.AttachedPolicies = []string{"foo"}
		}
		if inline != role {
			r.InlinePolicies = append(r.InlinePolicies, inline)
		}
		m, err := Check(template, r)

		doc := policy
		if len(doc) == 0 {
			doc = []byte("{}")
		}
		valid := json.Valid(template) && json.Valid(doc)
		if !valid {
			if !errors.Is(err, ErrInvalidJSON) || m != nil {
				t.Fatalf("invalid JSON: Check = %v, %v", m, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid JSON: Check error %v", err)
		}
		a, _ := parse(template)
		b, _ := parse(doc)
		equal := reflect.DeepEqual(a, b)
		if equal && !attached && inline == role {
			if m != nil {
				t.Fatalf("unmodified role: meta %s", mustJSON(t, m))
			}
			return
		}
		if m == nil {
			t.Fatal("modified role: no meta")
		}
		if got := slices.Contains(m.ErrorMessages, MsgMainPolicy); got == equal {
			t.Fatalf("main policy message %v for equal=%v", got, equal)
		}
		if equal != (string(m.TemplateToPolicyDiff) == "[]") || equal != (string(m.PolicyToTemplateDiff) == "[]") {
			t.Fatalf("equal=%v but diffs %s and %s", equal, m.TemplateToPolicyDiff, m.PolicyToTemplateDiff)
		}
		roundTrip(t, template, doc, m.TemplateToPolicyDiff)
		roundTrip(t, doc, template, m.PolicyToTemplateDiff)
	})
}

// roundTrip checks that patch turns the document from into the document to.
func roundTrip(t *testing.T, from, to []byte, patch json.RawMessage) {
	t.Helper()
	src, err := parse(from)
	if err != nil {
		t.Fatal(err)
	}
	want, err := parse(to)
	if err != nil {
		t.Fatal(err)
	}
	got, err := applyPatch(src, patch)
	if err != nil {
		t.Fatalf("apply %s to %s: %v", patch, from, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("apply %s to %s = %s, want %s", patch, from, mustJSON(t, got), to)
	}
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
