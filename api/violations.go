package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fullstop-audit/fullstop/api/auth"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store"
)

// stateOf returns the state the parameters ask for: state when given, else
// whitelisted=true, else the checked (or resolved) flag.
func stateOf(a *args, flag string) store.ViolationState {
	switch a.str("state") {
	case "open":
		return store.StateOpen
	case "resolved":
		return store.StateResolved
	case "whitelisted":
		return store.StateWhitelisted
	case "any":
		return store.StateAny
	}
	if w, _ := a.boolean("whitelisted"); w {
		return store.StateWhitelisted
	}
	if c, _ := a.boolean(flag); c {
		return store.StateResolved
	}
	return store.StateOpen
}

// timeFilter fills the half-open time range of f: from <= created < to.
func timeFilter(a *args, f *store.ViolationFilter) {
	if t, ok := a.instant("from"); ok {
		f.From = &t
	}
	if t, ok := a.instant("to"); ok {
		f.To = &t
	}
}

func (s *server) listViolations(w http.ResponseWriter, r *http.Request, c call) error {
	a := c.args
	f := store.ViolationFilter{Accounts: a.list("accounts"), State: stateOf(a, "checked"),
		Applications: a.list("application-ids"), Versions: a.list("application-version-ids")}
	timeFilter(a, &f)
	if id, ok := a.integer("last-violation"); ok {
		f.MinID = max(id, 1)
	}
	if v, ok := a.integer("severity"); ok {
		n := int(v)
		f.Severity = &n
	}
	if v, ok := a.integer("priority"); ok {
		n := int(v)
		f.Priority = &n
	}
	if v, ok := a.boolean("audit-relevant"); ok {
		f.AuditRelevant = &v
	}
	if t := a.str("type"); t != "" {
		f.Types = append(f.Types, t)
	}
	f.Types = append(f.Types, a.list("types")...)

	pg, err := pageOf(a, "id", store.ViolationSortProperties())
	if err != nil {
		return err
	}
	vs, total, err := s.st.ViolationPage(r.Context(), f, pg.sorts, pg.offset, int(pg.size))
	if err != nil {
		return err
	}
	content := make([]Violation, len(vs))
	for i, v := range vs {
		content[i] = violationToJSON(v)
	}
	return writeJSON(w, http.StatusOK, newPage(content, total, pg.number, pg.size, pg.orders))
}

// pageArgs are the page, size and sort parameters of a paged route.
type pageArgs struct {
	number, size int64
	offset       int
	orders       []sortOrder  // as asked, or the default
	sorts        []store.Sort // the same for the store
}

// pageOf reads a paged route's page, size and sort parameters; a sort
// property outside properties is a 400 naming them, no sort is def
// ascending.
func pageOf(a *args, def string, properties []string) (pageArgs, error) {
	var p pageArgs
	p.number, _ = a.integer("page")
	size, ok := a.integer("size")
	if !ok {
		size = defaultPageSize
	}
	p.size = size
	if p.offset, ok = offsetOf(p.number, size); !ok {
		return p, badParam("query", "page", "", "is too large")
	}
	p.orders = a.sorts
	if len(p.orders) == 0 {
		p.orders = []sortOrder{{property: def}}
	}
	p.sorts = make([]store.Sort, len(p.orders))
	for i, so := range p.orders {
		if !slices.Contains(properties, so.property) {
			return p, badParam("query", "sort", so.property, "cannot sort by "+so.property+"; properties: "+strings.Join(properties, ", "))
		}
		p.sorts[i] = store.Sort{Property: so.property, Desc: so.desc}
	}
	return p, nil
}

func (s *server) getViolation(w http.ResponseWriter, r *http.Request, c call) error {
	id, _ := c.args.integer("id")
	v, err := s.st.ViolationByID(r.Context(), id)
	if err != nil {
		return notFoundf(err, "violation %d", id)
	}
	return writeJSON(w, http.StatusOK, violationToJSON(v))
}

// notFoundf turns store.ErrNotFound into a 404 naming what is missing.
func notFoundf(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		he := errorf(http.StatusNotFound, format+" does not exist", args...)
		he.err = err
		return he
	}
	return err
}

// decodeJSON decodes a JSON body into v; unknown fields are ignored as in
// the reference. A malformed body is a 400 naming the field when it can.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errorf(http.StatusUnsupportedMediaType, "the body must be application/json, not %q", ct)
		}
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.Is(err, io.EOF):
			return errorf(http.StatusBadRequest, "the body is empty; a JSON object is required")
		case errors.As(err, &te):
			return badBody(te.Field, "must be "+jsonKind(te.Type.Kind().String()))
		case errors.As(err, &se):
			return errorf(http.StatusBadRequest, "the body is not valid JSON: %v", err)
		}
		return errorf(http.StatusBadRequest, "the body is not valid: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "the body holds more than one JSON value")
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int64", "int32":
		return "an integer"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}

// badBody is a 400 naming one body field.
func badBody(field, reason string) *httpError {
	if field == "" {
		field = "(body)"
	}
	return &httpError{status: http.StatusBadRequest, detail: "body field " + field + ": " + reason,
		fields: []ProblemField{{Name: field, In: "body", Reason: reason}}}
}

func (s *server) createViolation(w http.ResponseWriter, r *http.Request, c call) error {
	if !c.principal.HasScope(ScopeViolationWrite) {
		return errorf(http.StatusForbidden, "submitting violations needs scope %s", ScopeViolationWrite)
	}
	var in NewViolation
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var missing []ProblemField
	for _, f := range []struct {
		name string
		v    *string
	}{{"event_id", in.EventID}, {"account_id", in.AccountID}, {"region", in.Region}, {"violation_type", in.ViolationType}} {
		if f.v == nil || strings.TrimSpace(*f.v) == "" {
			missing = append(missing, ProblemField{Name: f.name, In: "body", Reason: "is required"})
		}
	}
	if len(in.MetaInfo) == 0 || bytes.Equal(bytes.TrimSpace(in.MetaInfo), []byte("null")) {
		missing = append(missing, ProblemField{Name: "meta_info", In: "body", Reason: "is required"})
	}
	if len(missing) > 0 {
		names := make([]string, len(missing))
		for i, m := range missing {
			names[i] = m.Name
		}
		return &httpError{status: http.StatusBadRequest, detail: "body fields required: " + strings.Join(names, ", "), fields: missing}
	}
	v := rules.Violation{
		Type: strings.TrimSpace(*in.ViolationType), EventID: strings.TrimSpace(*in.EventID),
		AccountID: strings.TrimSpace(*in.AccountID), Region: strings.TrimSpace(*in.Region),
		InstanceID: trimmed(in.InstanceID), Username: trimmed(in.Username), MetaInfo: string(in.MetaInfo),
		Application: trimmed(in.ApplicationID), Version: trimmed(in.ApplicationVersion),
	}
	if _, err := s.st.ViolationCreate(r.Context(), v, c.principal.UID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func trimmed(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// readComment reads a resolution body: text/plain as it is, a JSON string
// (application/json) unquoted; without a Content-Type, a body that is a
// JSON string literal is unquoted, any other as it is. Surrounding space
// is trimmed; an empty comment is a 400.
func readComment(r *http.Request) (string, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return "", err
	}
	text := strings.TrimSpace(string(b))
	mt := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ = mime.ParseMediaType(ct)
	}
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if isJSON || (mt == "" && strings.HasPrefix(text, `"`) && json.Valid([]byte(text))) {
		var s string
		if err := json.Unmarshal([]byte(text), &s); err != nil {
			return "", badBody("(body)", "a JSON body must be a string: the comment")
		}
		text = strings.TrimSpace(s)
	}
	if !utf8.ValidString(text) {
		return "", badBody("(body)", "the comment must be UTF-8 text")
	}
	if text == "" {
		return "", badBody("(body)", "the comment must not be empty")
	}
	return text, nil
}

// mayResolve checks that p may change violation v's resolution.
func (s *server) mayResolve(r *http.Request, p auth.Principal, v store.Violation) error {
	if p.All {
		return nil
	}
	account := ""
	if v.AccountID != nil {
		account = *v.AccountID
	}
	if s.rights == nil {
		return errorf(http.StatusForbidden, "resolving needs the team service (FULLSTOP_TEAM_SERVICE_URL), which is not configured")
	}
	ok, err := s.rights.MayResolve(r.Context(), p, account)
	if err != nil {
		return authError(err)
	}
	if !ok {
		return errorf(http.StatusForbidden, "%s may not resolve violations of account %s", p.UID, account)
	}
	return nil
}

// resolvable returns the id of the route's violation once it is known to
// exist and the caller may change its resolution.
func (s *server) resolvable(r *http.Request, c call) (int64, error) {
	id, _ := c.args.integer("id")
	v, err := s.st.ViolationByID(r.Context(), id)
	if err != nil {
		return 0, notFoundf(err, "violation %d", id)
	}
	return id, s.mayResolve(r, c.principal, v)
}

func (s *server) resolveViolation(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := s.resolvable(r, c)
	if err != nil {
		return err
	}
	comment, err := readComment(r)
	if err != nil {
		return err
	}
	v, err := s.st.ViolationResolve(r.Context(), id, comment, c.principal.UID)
	if err != nil {
		return notFoundf(err, "violation %d", id)
	}
	return writeJSON(w, http.StatusOK, violationToJSON(v))
}

func (s *server) reopenViolation(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := s.resolvable(r, c)
	if err != nil {
		return err
	}
	v, err := s.st.ViolationReopen(r.Context(), id, c.principal.UID)
	if err != nil {
		return notFoundf(err, "violation %d", id)
	}
	return writeJSON(w, http.StatusOK, violationToJSON(v))
}

func (s *server) listTypes(w http.ResponseWriter, r *http.Request, c call) error {
	ts, err := s.st.ViolationTypes(r.Context())
	if err != nil {
		return err
	}
	out := make([]ViolationType, len(ts))
	for i, t := range ts {
		out[i] = typeJSON(t)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *server) countByAccount(w http.ResponseWriter, r *http.Request, c call) error {
	f := store.ViolationFilter{Accounts: c.args.list("accounts"), State: stateOf(c.args, "resolved")}
	timeFilter(c.args, &f)
	cs, err := s.st.ViolationCountByAccount(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]AccountCount, len(cs))
	for i, x := range cs {
		out[i] = AccountCount{Account: x.Account, Type: x.Type, Quantity: x.Quantity}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *server) countByApplication(w http.ResponseWriter, r *http.Request, c call) error {
	f := store.ViolationFilter{State: stateOf(c.args, "resolved")}
	timeFilter(c.args, &f)
	cs, err := s.st.ViolationCountByApplication(r.Context(), c.args.str("account"), f)
	if err != nil {
		return err
	}
	out := make([]ApplicationCount, len(cs))
	for i, x := range cs {
		out[i] = ApplicationCount{Application: x.Application, Version: x.Version, Type: x.Type, Quantity: x.Quantity}
	}
	return writeJSON(w, http.StatusOK, out)
}
