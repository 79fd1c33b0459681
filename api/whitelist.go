package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store"
)

// defaultExpiry is a rule's expiry when the body gives none, as the
// reference.
var defaultExpiry = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// mayEditWhitelist checks that the caller is in one of the allowed teams;
// every rules endpoint needs it, as in the reference.
func (s *server) mayEditWhitelist(r *http.Request, c call) error {
	p := c.principal
	if p.All {
		return nil
	}
	if s.rights == nil {
		return errorf(http.StatusForbidden, "whitelisting rules need the team service (FULLSTOP_TEAM_SERVICE_URL), which is not configured")
	}
	ok, err := s.rights.MayEditWhitelist(r.Context(), p, s.teams)
	if err != nil {
		return authError(err)
	}
	if !ok {
		return errorf(http.StatusForbidden, "%s is in none of the teams allowed to manage whitelisting rules (%s)", p.UID, strings.Join(s.teams, ", "))
	}
	return nil
}

// readRule decodes a rule body into the rule and its expiry.
func readRule(r *http.Request) (rules.WhitelistRule, time.Time, error) {
	var in RuleInput
	if err := decodeJSON(r, &in); err != nil {
		return rules.WhitelistRule{}, time.Time{}, err
	}
	typ := trimmed(in.ViolationType)
	if e := trimmed(in.ViolationTypeEntityID); e != "" {
		if typ != "" && typ != e {
			return rules.WhitelistRule{}, time.Time{}, badBody("violation_type", "differs from violation_type_entity_id; give one of them")
		}
		typ = e
	}
	rule := rules.WhitelistRule{
		AccountID: trimmed(in.AccountID), Region: trimmed(in.Region), Type: typ,
		ImageName: trimmed(in.ImageName), ImageOwner: trimmed(in.ImageOwner),
		ApplicationID: trimmed(in.ApplicationID), ApplicationVersion: trimmed(in.ApplicationVersion),
		MetaInfoJSONPath: trimmed(in.MetaInfoJSONPath), Reason: trimmed(in.Reason),
	}
	if rule.Reason == "" {
		return rules.WhitelistRule{}, time.Time{}, badBody("reason", "is required")
	}
	expiry := defaultExpiry
	if in.ExpiryDate != nil {
		t, ok := parseTime(strings.TrimSpace(*in.ExpiryDate))
		if !ok {
			return rules.WhitelistRule{}, time.Time{}, badBody("expiry_date", "must be an ISO 8601 date-time such as 2015-05-21T10:24:47.788Z")
		}
		expiry = t
	}
	if err := ruleError(rule.Validate()); err != nil {
		return rules.WhitelistRule{}, time.Time{}, err
	}
	return rule, expiry, nil
}

// ruleError turns a refused rule into a 400 naming the field.
func ruleError(err error) error {
	var re *rules.WhitelistRuleError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return badBody(re.Field, "does not compile: "+re.Err.Error())
	case errors.Is(err, rules.ErrNoCriterion):
		return &httpError{status: http.StatusBadRequest, detail: "a rule needs at least one criterion: " + err.Error()}
	case errors.Is(err, store.ErrUnknownType):
		return badBody("violation_type", err.Error())
	}
	return err
}

func (s *server) listRules(w http.ResponseWriter, r *http.Request, c call) error {
	if err := s.mayEditWhitelist(r, c); err != nil {
		return err
	}
	rs, err := s.st.WhitelistRules(r.Context())
	if err != nil {
		return err
	}
	out := make([]Rule, len(rs))
	for i, x := range rs {
		out[i] = ruleToJSON(x)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *server) getRule(w http.ResponseWriter, r *http.Request, c call) error {
	if err := s.mayEditWhitelist(r, c); err != nil {
		return err
	}
	id, _ := c.args.integer("id")
	x, err := s.st.WhitelistRule(r.Context(), id)
	if err != nil {
		return notFoundf(err, "whitelisting rule %d", id)
	}
	return writeJSON(w, http.StatusOK, ruleToJSON(x))
}

func (s *server) createRule(w http.ResponseWriter, r *http.Request, c call) error {
	if err := s.mayEditWhitelist(r, c); err != nil {
		return err
	}
	rule, expiry, err := readRule(r)
	if err != nil {
		return err
	}
	x, err := s.st.WhitelistRuleCreate(r.Context(), rule, expiry, c.principal.UID)
	if err != nil {
		return ruleError(err)
	}
	return writeJSON(w, http.StatusCreated, ruleToJSON(x))
}

func (s *server) replaceRule(w http.ResponseWriter, r *http.Request, c call) error {
	if err := s.mayEditWhitelist(r, c); err != nil {
		return err
	}
	id, _ := c.args.integer("id")
	rule, expiry, err := readRule(r)
	if err != nil {
		return err
	}
	x, err := s.st.WhitelistRuleReplace(r.Context(), id, rule, expiry, c.principal.UID)
	if err != nil {
		return ruleError(notFoundf(err, "whitelisting rule %d", id))
	}
	return writeJSON(w, http.StatusOK, ruleToJSON(x))
}

func (s *server) expireRule(w http.ResponseWriter, r *http.Request, c call) error {
	if err := s.mayEditWhitelist(r, c); err != nil {
		return err
	}
	id, _ := c.args.integer("id")
	expiry, ok := c.args.instant("expiryDate")
	if !ok {
		expiry = time.Now().Add(time.Minute)
	}
	if err := s.st.WhitelistRuleExpire(r.Context(), id, expiry, c.principal.UID); err != nil {
		return notFoundf(err, "whitelisting rule %d in force (with a new expiry in the future)", id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) applyRule(w http.ResponseWriter, r *http.Request, c call) error {
	if err := s.mayEditWhitelist(r, c); err != nil {
		return err
	}
	id, _ := c.args.integer("id")
	dry, _ := c.args.boolean("dry_run")
	n, err := s.st.WhitelistRuleApply(r.Context(), id, dry, c.principal.UID)
	var re *rules.WhitelistRuleError
	switch {
	case errors.Is(err, store.ErrRuleExpired):
		return &httpError{status: http.StatusConflict, detail: "whitelisting rule has expired; create a new one", err: err}
	case errors.As(err, &re):
		// Written around the API: it never matches; replace it.
		return &httpError{status: http.StatusConflict, detail: "the stored rule's " + re.Field + " does not compile; replace the rule", err: err}
	}
	if err != nil {
		return notFoundf(err, "whitelisting rule %d", id)
	}
	return writeJSON(w, http.StatusOK, ApplyResult{RuleID: id, DryRun: dry, Violations: n})
}
