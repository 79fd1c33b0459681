package awstest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	stsVersion = "2011-06-15"
	stsNS      = "https://sts.amazonaws.com/doc/2011-06-15/"
)

var stsProtocol = queryProtocol{ns: stsNS, actions: map[string]handler{
	"AssumeRole":        (*Server).assumeRole,
	"GetCallerIdentity": (*Server).getCallerIdentity,
}}

// roleARN matches arn:partition:iam::account:role/path/name.
var roleARN = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)

var sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

type assumeRoleResult struct {
	Credentials     xmlCredentials     `xml:"Credentials"`
	AssumedRoleUser xmlAssumedRoleUser `xml:"AssumedRoleUser"`
}

type xmlCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type xmlAssumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

// assumeRole issues credentials of the role's account: the access key id
// is "ASIA", the account and a counter.
func (s *Server) assumeRole(r *request) (any, error) {
	arn, session := r.form.Get("RoleArn"), r.form.Get("RoleSessionName")
	switch {
	case arn == "":
		return nil, errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case session == "":
		return nil, errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	case !sessionName.MatchString(session):
		return nil, errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", session)
	}
	m := roleARN.FindStringSubmatch(arn)
	if m == nil {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "%s is invalid", arn)
	}
	partition, account, name := m[1], m[2], m[3]
	duration := time.Hour
	if v := r.form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			return nil, errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", v)
		}
		duration = time.Duration(n) * time.Second
	}
	if s.denied[account] {
		return nil, errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", s.callerARN(r), arn)
	}

	s.keySeq++
	key := fmt.Sprintf("ASIA%s%04d", account, s.keySeq%10000)
	roleID := "AROA" + strings.ToUpper(fakeID("", account, name))
	id := identity{
		account: account,
		arn:     fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, account, name, session),
		userID:  roleID + ":" + session,
	}
	s.keys[key] = id
	return assumeRoleResult{
		Credentials: xmlCredentials{
			AccessKeyID:     key,
			SecretAccessKey: fmt.Sprintf("awstest-secret-%d", s.keySeq),
			SessionToken:    fmt.Sprintf("awstest-session-token-%d", s.keySeq),
			Expiration:      time.Now().Add(duration).UTC().Format(time.RFC3339),
		},
		AssumedRoleUser: xmlAssumedRoleUser{AssumedRoleID: id.userID, Arn: id.arn},
	}, nil
}

// callerARN returns the ARN the request acts as. s.mu must be held.
func (s *Server) callerARN(r *request) string {
	if id, ok := s.keys[r.accessKey]; ok {
		return id.arn
	}
	return "arn:aws:iam::" + r.account + ":user/awstest"
}

type getCallerIdentityResult struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

func (s *Server) getCallerIdentity(r *request) (any, error) {
	res := getCallerIdentityResult{Account: r.account, Arn: s.callerARN(r), UserID: "AIDAAWSTEST0000000000"}
	if id, ok := s.keys[r.accessKey]; ok {
		res.UserID = id.userID
	}
	return res, nil
}
