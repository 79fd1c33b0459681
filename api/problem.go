package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Problem is an RFC 9457 problem-details body. Errors names the offending
// parameters or body fields.
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Errors   []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one invalid parameter or body field of a problem.
type ProblemField struct {
	Name   string `json:"name"`            // parameter or field name
	In     string `json:"in"`              // "query", "path", "body", "header"
	Reason string `json:"reason"`          // what is wrong with it
	Value  string `json:"value,omitempty"` // the value given, when short
}

// httpError is an error a handler returns to answer with a problem.
type httpError struct {
	status int
	detail string
	fields []ProblemField
	err    error // the cause, logged, never shown
}

func (e *httpError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%d %s: %v", e.status, e.detail, e.err)
	}
	return fmt.Sprintf("%d %s", e.status, e.detail)
}

func (e *httpError) Unwrap() error { return e.err }

// errorf returns an httpError with the given status and detail.
func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, detail: fmt.Sprintf(format, args...)}
}

// badParam is a 400 naming one parameter.
func badParam(in, name, value, reason string) *httpError {
	if len(value) > 100 {
		value = value[:100] + "…"
	}
	return &httpError{status: http.StatusBadRequest, detail: fmt.Sprintf("%s parameter %s: %s", in, name, reason),
		fields: []ProblemField{{Name: name, In: in, Reason: reason, Value: value}}}
}

// writeProblem answers with the problem of err: an *httpError as it is,
// anything else as a 500 whose cause is only logged.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{status: http.StatusInternalServerError, detail: "internal error", err: err}
	}
	p := Problem{
		Type:     "about:blank",
		Title:    http.StatusText(he.status),
		Status:   he.status,
		Detail:   he.detail,
		Instance: r.URL.Path,
		Errors:   he.fields,
	}
	if he.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fullstop"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(he.status)
	_ = json.NewEncoder(w).Encode(p)
}
