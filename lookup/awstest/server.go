// Package awstest runs a local HTTP server that answers the real
// aws-sdk-go-v2 clients of EC2, STS, IAM and KMS in the genuine AWS wire
// formats, so that tests exercise the real SDK (signing, retries, XML and
// JSON decoding, error codes) without reaching AWS.
//
// One server serves every service: give each client the server's URL as
// its BaseEndpoint, for example
//
//	s := awstest.New(t)
//	client := ec2.NewFromConfig(s.Config("eu-west-1"), func(o *ec2.Options) {
//		o.BaseEndpoint = aws.String(s.URL())
//	})
//
// Requests are told apart by their protocol: KMS by the X-Amz-Target
// header, the query services (EC2, STS, IAM) by the service named in the
// SigV4 credential scope of the Authorization header, else by the API
// Version field. Signatures are not verified; the access key id and the
// region are read from the credential scope. A request signed with an
// access key that AssumeRole returned belongs to the role's account, any
// other to Server.DefaultAccount.
//
// The server keeps EC2 state per account and region, IAM roles per account,
// and KMS plaintexts globally. It is for tests only: production code must
// not import it.
package awstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The static credentials of Config. Requests signed with them (or with any
// key the server did not issue) belong to Server.DefaultAccount.
const (
	AccessKeyID     = "AKIAAWSTEST000000000"
	SecretAccessKey = "awstest-secret-access-key"
)

// DefaultAccount is the initial value of Server.DefaultAccount.
const DefaultAccount = "000000000000"

// maxBody bounds the request bodies the server reads.
const maxBody = 1 << 20

// Server is a fake AWS endpoint. Its methods are safe for concurrent use.
// Set the exported fields before the first request.
type Server struct {
	// DefaultAccount owns requests not signed with credentials from
	// AssumeRole. New sets it to "000000000000".
	DefaultAccount string
	// PageSize is the most items a list call answers in one page (0: all
	// in one page). A smaller MaxResults or MaxItems in the request wins.
	PageSize int

	srv *httptest.Server
	t   testing.TB

	mu       sync.Mutex
	ec2      map[accountRegion]*ec2State
	roles    map[string][]storedRole // account -> roles in the order added
	users    map[string][]storedUser // account -> IAM users in the order added
	reports  map[string]*credentialReport
	dbs      map[accountRegion][]DBInstance
	elbs     map[accountRegion][]LoadBalancer
	kms      map[string][]byte // ciphertext -> plaintext
	denied   map[string]bool   // accounts AssumeRole refuses
	failures map[string][]*failure
	calls    map[callKey]int
	assumed  []AssumeRoleCall
	keys     map[string]identity // issued access key id -> identity
	keySeq   int
	reqSeq   int
}

type accountRegion struct{ account, region string }

type callKey struct{ action, account, region string }

// identity is who a request signed with an issued access key acts as.
type identity struct {
	account string
	arn     string
	userID  string
}

// Failure is an injected failure of an action, applied before the action
// runs. Delay is waited first (a request whose context ends meanwhile gets
// no answer); then, if Status or Code is set, the request is answered with
// that error in the service's error format, else it runs normally, so a
// Failure with only a Delay makes a slow answer.
type Failure struct {
	Status  int    // HTTP status; 0 means 400 when Code is set
	Code    string // error code, e.g. "RequestLimitExceeded"; empty means the status text, e.g. "ServiceUnavailable"
	Message string // error message; empty means Code
	Delay   time.Duration
	Times   int    // how many requests it applies to; 0 means every one
	Account string // only requests of this account; "" means any
}

type failure struct {
	Failure
	used int
}

// AssumeRoleCall is one AssumeRole request the server received.
type AssumeRoleCall struct {
	RoleARN     string
	SessionName string
	ExternalID  string
	Account     string // the caller's account
}

// New starts a server; t.Cleanup closes it.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer(t)
	t.Cleanup(s.srv.Close)
	return s
}

// Start starts a server outside a test (the benchmark's); Close stops it.
// A malformed id added to it is not reported.
func Start() *Server { return newServer(nil) }

// Close stops a server Start started.
func (s *Server) Close() { s.srv.Close() }

func newServer(t testing.TB) *Server {
	s := &Server{
		DefaultAccount: DefaultAccount,
		t:              t,
		ec2:            map[accountRegion]*ec2State{},
		roles:          map[string][]storedRole{},
		users:          map[string][]storedUser{},
		reports:        map[string]*credentialReport{},
		dbs:            map[accountRegion][]DBInstance{},
		elbs:           map[accountRegion][]LoadBalancer{},
		kms:            map[string][]byte{},
		denied:         map[string]bool{},
		failures:       map[string][]*failure{},
		calls:          map[callKey]int{},
		keys:           map[string]identity{},
	}
	s.srv = httptest.NewServer(s)
	return s
}

// URL returns the server's base URL, the BaseEndpoint for every client.
func (s *Server) URL() string { return s.srv.URL }

// Config returns an aws.Config for region with the static credentials
// AccessKeyID and SecretAccessKey and the SDK's default retryer. It sets
// no BaseEndpoint: set the server's URL on each client's options.
func (s *Server) Config(region string) aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		HTTPClient:  s.srv.Client(),
	}
}

// DenyAssumeRole makes AssumeRole of any role in account answer
// AccessDenied.
func (s *Server) DenyAssumeRole(account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[account] = true
}

// Fail injects f into every later request of action (an API operation
// name: "DescribeImages", "AssumeRole", "Decrypt", ...). Of several
// failures of one action, the first added that still applies wins.
func (s *Server) Fail(action string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[action] = append(s.failures[action], &failure{Failure: f})
}

// Calls returns how many requests of action the server received, failed
// ones included.
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, c := range s.calls {
		if k.action == action {
			n += c
		}
	}
	return n
}

// CallsFor returns how many requests of action the server received from
// account in region (the region of the request's signature), failed ones
// included.
func (s *Server) CallsFor(action, account, region string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[callKey{action, account, region}]
}

// AssumedRoles returns the role ARNs of the AssumeRole requests received,
// in order, failed and denied ones included.
func (s *Server) AssumedRoles() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	arns := make([]string, len(s.assumed))
	for i, c := range s.assumed {
		arns[i] = c.RoleARN
	}
	return arns
}

// AssumeRoleCalls returns the AssumeRole requests received, in order,
// failed and denied ones included.
func (s *Server) AssumeRoleCalls() []AssumeRoleCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.assumed)
}

// apiError is an error answer in the service's format.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// request is one parsed request.
type request struct {
	id        string
	service   string // "ec2", "sts", "iam" or "kms"
	action    string
	accessKey string
	account   string
	region    string
	form      url.Values // query protocol parameters
	body      []byte     // JSON protocol body
}

// handler runs an action with s.mu held and returns the response value.
type handler func(s *Server, r *request) (any, error)

// protocol writes a service's answers.
type protocol interface {
	handler(action string) (handler, bool)
	writeResult(w http.ResponseWriter, r *request, v any)
	writeError(w http.ResponseWriter, r *request, e *apiError)
}

// ServeHTTP answers one AWS API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	r, p, perr := s.parse(hr)
	w.Header().Set("X-Amzn-Requestid", r.id)
	if perr != nil {
		p.writeError(w, r, perr)
		return
	}

	f := s.record(r)
	if f != nil && f.Delay > 0 {
		if !sleep(hr.Context(), f.Delay) {
			return // the client is gone
		}
	}
	if f != nil && (f.Status != 0 || f.Code != "") {
		p.writeError(w, r, f.apiError())
		return
	}
	if r.accessKey == "" {
		p.writeError(w, r, missingAuth(r.service))
		return
	}
	h, ok := p.handler(r.action)
	if !ok {
		p.writeError(w, r, unknownAction(r))
		return
	}

	s.mu.Lock()
	v, err := h(s, r)
	s.mu.Unlock()
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = errorf(http.StatusInternalServerError, "InternalFailure", "%v", err)
		}
		p.writeError(w, r, ae)
		return
	}
	p.writeResult(w, r, v)
}

// parse reads the request: its protocol, service, action and caller. An
// error is to be answered in the returned protocol's format.
func (s *Server) parse(hr *http.Request) (*request, protocol, *apiError) {
	s.mu.Lock()
	s.reqSeq++
	r := &request{id: fmt.Sprintf("%08x-0000-4000-8000-%012x", s.reqSeq, time.Now().UnixNano()&0xffffffffffff)}
	s.mu.Unlock()

	r.accessKey, r.region, r.service = parseAuth(hr)
	body, err := readBody(hr)

	if target := hr.Header.Get("X-Amz-Target"); target != "" {
		r.service = "kms"
		p := kmsProtocol{}
		svc, op, _ := strings.Cut(target, ".")
		r.action = op
		if svc != kmsTargetPrefix || op == "" {
			return r, p, errorf(http.StatusBadRequest, "UnknownOperationException", "unknown operation %q", target)
		}
		if err != nil {
			return r, p, errorf(http.StatusBadRequest, "SerializationException", "reading the request body: %v", err)
		}
		r.body = body
		r.account = s.accountOf(r.accessKey)
		return r, p, nil
	}

	form := hr.URL.Query()
	var ferr error
	if err != nil {
		ferr = err
	} else if hr.Method == http.MethodPost {
		values, err := url.ParseQuery(string(body))
		if err != nil {
			ferr = err
		}
		for k, v := range values {
			form[k] = append(form[k], v...)
		}
	}
	r.form = form
	r.action = form.Get("Action")
	switch r.service {
	case "ec2", "sts", "iam", "rds", "elasticloadbalancing":
	default:
		r.service = serviceOfVersion[form.Get("Version")]
	}
	var p protocol
	switch r.service {
	case "ec2":
		p = ec2Protocol{}
	case "sts":
		p = stsProtocol
	case "iam":
		p = iamProtocol
	case "rds":
		p = rdsProtocol
	case "elasticloadbalancing":
		p = elbProtocol
	default:
		p = queryProtocol{}
		return r, p, errorf(http.StatusBadRequest, "InvalidAction", "Could not tell the service of the request (credential scope %q, Version %q)", r.service, form.Get("Version"))
	}
	if ferr != nil {
		return r, p, errorf(http.StatusBadRequest, "MalformedQueryString", "%v", ferr)
	}
	if r.action == "" {
		return r, p, errorf(http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action")
	}
	r.account = s.accountOf(r.accessKey)
	return r, p, nil
}

// readBody reads at most maxBody bytes of the request body.
func readBody(hr *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(hr.Body, maxBody+1))
	if err == nil && len(body) > maxBody {
		err = fmt.Errorf("request body over %d bytes", maxBody)
	}
	return body, err
}

// serviceOfVersion names the query service of each API version.
var serviceOfVersion = map[string]string{
	ec2Version:   "ec2",
	stsVersion:   "sts",
	iamVersion:   "iam",
	"2014-10-31": "rds",
	elbVersion:   "elasticloadbalancing",
}

// parseAuth returns the access key id, region and service of the SigV4
// credential scope, from the Authorization header or a presigned URL.
func parseAuth(hr *http.Request) (key, region, service string) {
	cred := hr.URL.Query().Get("X-Amz-Credential")
	if auth := hr.Header.Get("Authorization"); auth != "" {
		_, params, _ := strings.Cut(auth, " ")
		for p := range strings.SplitSeq(params, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "Credential="); ok {
				cred = v
			}
		}
	}
	// Credential=AKID/20240102/us-east-1/ec2/aws4_request
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[4] != "aws4_request" {
		return "", "", ""
	}
	return parts[0], parts[2], parts[3]
}

// accountOf returns the account an access key belongs to.
func (s *Server) accountOf(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.keys[key]; ok {
		return id.account
	}
	return s.DefaultAccount
}

// record counts the request and returns the failure to inject, if any.
func (s *Server) record(r *request) *Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[callKey{r.action, r.account, r.region}]++
	if r.service == "sts" && r.action == "AssumeRole" {
		s.assumed = append(s.assumed, AssumeRoleCall{
			RoleARN:     r.form.Get("RoleArn"),
			SessionName: r.form.Get("RoleSessionName"),
			ExternalID:  r.form.Get("ExternalId"),
			Account:     r.account,
		})
	}
	for _, f := range s.failures[r.action] {
		if f.Account != "" && f.Account != r.account {
			continue
		}
		if f.Times > 0 && f.used >= f.Times {
			continue
		}
		f.used++
		ff := f.Failure
		return &ff
	}
	return nil
}

func (f *Failure) apiError() *apiError {
	e := &apiError{status: f.Status, code: f.Code, message: f.Message}
	if e.status == 0 {
		e.status = http.StatusBadRequest
	}
	if e.code == "" {
		e.code = strings.ReplaceAll(http.StatusText(e.status), " ", "") // e.g. ServiceUnavailable
	}
	if e.message == "" {
		e.message = e.code
	}
	return e
}

// sleep waits d unless ctx ends first; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func missingAuth(service string) *apiError {
	switch service {
	case "ec2":
		return errorf(http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case "kms":
		return errorf(http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	return errorf(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
}

func unknownAction(r *request) *apiError {
	if r.service == "kms" {
		return errorf(http.StatusBadRequest, "UnknownOperationException", "")
	}
	return errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", r.action)
}
