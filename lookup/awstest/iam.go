package awstest

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	iamVersion = "2010-05-08"
	iamNS      = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// Role is an IAM role. Arn defaults to arn:aws:iam::{account}:role/{Name}.
// AssumeRolePolicy and the InlinePolicies (name → document) are JSON: the
// server URL-encodes them (RFC 3986) as IAM does.
type Role struct {
	Name, Arn, AssumeRolePolicy string
	AttachedPolicies            []AttachedPolicy
	InlinePolicies              map[string]string
}

// AttachedPolicy is a managed policy attached to a role.
type AttachedPolicy struct{ Name, Arn string }

// storedRole is a role with what IAM adds to it.
type storedRole struct {
	Role
	id      string
	path    string
	created time.Time
}

// AddRole adds r (or replaces the role of its name) to account.
func (s *Server) AddRole(account string, r Role) {
	if r.Arn == "" {
		r.Arn = "arn:aws:iam::" + account + ":role/" + r.Name
	}
	r.AttachedPolicies = slices.Clone(r.AttachedPolicies)
	r.InlinePolicies = maps.Clone(r.InlinePolicies)
	path := "/"
	if _, rest, ok := strings.Cut(r.Arn, ":role/"); ok {
		if i := strings.LastIndex(rest, "/"); i >= 0 {
			path = "/" + rest[:i+1]
		}
	}
	sr := storedRole{
		Role:    r,
		id:      "AROA" + strings.ToUpper(fakeID("", account, r.Name)),
		path:    path,
		created: time.Now().UTC().Truncate(time.Second),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[account] = upsert(s.roles[account], sr, func(x storedRole) string { return x.Name })
}

var iamProtocol = queryProtocol{ns: iamNS, actions: map[string]handler{
	"GetRole":                  (*Server).getRole,
	"ListRoles":                (*Server).listRoles,
	"ListAttachedRolePolicies": (*Server).listAttachedRolePolicies,
	"ListRolePolicies":         (*Server).listRolePolicies,
	"GetRolePolicy":            (*Server).getRolePolicy,
	"ListUsers":                (*Server).listUsers,
	"ListAccessKeys":           (*Server).listAccessKeys,
	"GenerateCredentialReport": (*Server).generateCredentialReport,
	"GetCredentialReport":      (*Server).getCredentialReport,
}}

// iamEscape URL-encodes s as IAM encodes policy documents: every byte but
// the RFC 3986 unreserved characters as %XX.
func iamEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

type xmlRole struct {
	Path                     string `xml:"Path"`
	RoleName                 string `xml:"RoleName"`
	RoleID                   string `xml:"RoleId"`
	Arn                      string `xml:"Arn"`
	CreateDate               string `xml:"CreateDate"`
	AssumeRolePolicyDocument string `xml:"AssumeRolePolicyDocument,omitempty"`
	MaxSessionDuration       int    `xml:"MaxSessionDuration"`
}

func toXMLRole(r storedRole) xmlRole {
	return xmlRole{
		Path:                     r.path,
		RoleName:                 r.Name,
		RoleID:                   r.id,
		Arn:                      r.Arn,
		CreateDate:               r.created.Format(time.RFC3339),
		AssumeRolePolicyDocument: iamEscape(r.AssumeRolePolicy),
		MaxSessionDuration:       3600,
	}
}

// role returns the account's role named by the RoleName parameter.
func (s *Server) role(r *request) (storedRole, error) {
	name := r.form.Get("RoleName")
	if name == "" {
		return storedRole{}, errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null")
	}
	roles := s.roles[r.account]
	if i := slices.IndexFunc(roles, func(x storedRole) bool { return x.Name == name }); i >= 0 {
		return roles[i], nil
	}
	return storedRole{}, errorf(http.StatusNotFound, "NoSuchEntity", "The role with name %s cannot be found.", name)
}

// iamPage returns the page of all that the request asks for: its Marker
// and MaxItems, and the server's PageSize.
func iamPage[T any](s *Server, r *request, all []T) ([]T, string, error) {
	max, ok := intParam(r.form, "MaxItems")
	if !ok || r.form.Get("MaxItems") != "" && (max < 1 || max > 1000) {
		return nil, "", errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", r.form.Get("MaxItems"))
	}
	start, end, next, ok := page(len(all), pageLimit(s.PageSize, max), r.form.Get("Marker"))
	if !ok {
		return nil, "", errorf(http.StatusBadRequest, "ValidationError", "Invalid Marker: %s", r.form.Get("Marker"))
	}
	return all[start:end], next, nil
}

type getRoleResult struct {
	Role xmlRole `xml:"Role"`
}

func (s *Server) getRole(r *request) (any, error) {
	role, err := s.role(r)
	if err != nil {
		return nil, err
	}
	return getRoleResult{Role: toXMLRole(role)}, nil
}

type listRolesResult struct {
	Roles       []xmlRole `xml:"Roles>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

func (s *Server) listRoles(r *request) (any, error) {
	prefix := r.form.Get("PathPrefix")
	var roles []storedRole
	for _, x := range s.roles[r.account] {
		if strings.HasPrefix(x.path, prefix) {
			roles = append(roles, x)
		}
	}
	roles, marker, err := iamPage(s, r, roles)
	if err != nil {
		return nil, err
	}
	res := listRolesResult{Roles: []xmlRole{}, IsTruncated: marker != "", Marker: marker}
	for _, x := range roles {
		res.Roles = append(res.Roles, toXMLRole(x))
	}
	return res, nil
}

type listAttachedRolePoliciesResult struct {
	Policies    []xmlAttachedPolicy `xml:"AttachedPolicies>member"`
	IsTruncated bool                `xml:"IsTruncated"`
	Marker      string              `xml:"Marker,omitempty"`
}

type xmlAttachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

func (s *Server) listAttachedRolePolicies(r *request) (any, error) {
	role, err := s.role(r)
	if err != nil {
		return nil, err
	}
	ps, marker, err := iamPage(s, r, role.AttachedPolicies)
	if err != nil {
		return nil, err
	}
	res := listAttachedRolePoliciesResult{Policies: []xmlAttachedPolicy{}, IsTruncated: marker != "", Marker: marker}
	for _, p := range ps {
		res.Policies = append(res.Policies, xmlAttachedPolicy{PolicyName: p.Name, PolicyArn: p.Arn})
	}
	return res, nil
}

type listRolePoliciesResult struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool     `xml:"IsTruncated"`
	Marker      string   `xml:"Marker,omitempty"`
}

func (s *Server) listRolePolicies(r *request) (any, error) {
	role, err := s.role(r)
	if err != nil {
		return nil, err
	}
	names, marker, err := iamPage(s, r, slices.Sorted(maps.Keys(role.InlinePolicies)))
	if err != nil {
		return nil, err
	}
	if names == nil {
		names = []string{}
	}
	return listRolePoliciesResult{PolicyNames: names, IsTruncated: marker != "", Marker: marker}, nil
}

type getRolePolicyResult struct {
	RoleName       string `xml:"RoleName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func (s *Server) getRolePolicy(r *request) (any, error) {
	role, err := s.role(r)
	if err != nil {
		return nil, err
	}
	name := r.form.Get("PolicyName")
	if name == "" {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'policyName' failed to satisfy constraint: Member must not be null")
	}
	doc, ok := role.InlinePolicies[name]
	if !ok {
		return nil, errorf(http.StatusNotFound, "NoSuchEntity", "The role policy with name %s cannot be found.", name)
	}
	return getRolePolicyResult{RoleName: role.Name, PolicyName: name, PolicyDocument: iamEscape(doc)}, nil
}
