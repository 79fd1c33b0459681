package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/fullstop-audit/fullstop/api"
)

// ViolationQuery holds the parameters of GET /api/violations; a zero
// field is not sent. Without State, Checked or Whitelisted the server
// lists the open violations.
type ViolationQuery struct {
	Accounts      []string   // account ids
	From          *time.Time // created at or after
	To            *time.Time // created before
	LastViolation int64      // ids from this one up; 0: any
	Checked       *bool      // true: resolved violations, false: open ones
	Whitelisted   *bool      // true: whitelisted violations (wins over Checked)
	State         string     // open, resolved, whitelisted or any; wins over Checked and Whitelisted
	Severity      *int       // the type's violation_severity
	Priority      *int       // the type's priority
	AuditRelevant *bool      // the type's audit relevance
	Type          string     // a violation type id (added to Types)
	Types         []string   // violation type ids
	Applications  []string   // application names
	Versions      []string   // application version names
	Page          int        // 0-based page number
	Size          int        // page size, 1 to MaxPageSize; 0: the server's default (10)
	// Sort are the orders, each "property[,asc|desc]" (lastSeen,desc),
	// each sent as a sort parameter; nil: by id.
	Sort []string
}

// values is the query string of q.
func (q ViolationQuery) values() url.Values {
	v := url.Values{}
	setList(v, "accounts", q.Accounts)
	setTime(v, "from", q.From)
	setTime(v, "to", q.To)
	if q.LastViolation != 0 {
		v.Set("last-violation", strconv.FormatInt(q.LastViolation, 10))
	}
	setBool(v, "checked", q.Checked)
	setBool(v, "whitelisted", q.Whitelisted)
	if q.State != "" {
		v.Set("state", q.State)
	}
	setInt(v, "severity", q.Severity)
	setInt(v, "priority", q.Priority)
	setBool(v, "audit-relevant", q.AuditRelevant)
	if q.Type != "" {
		v.Set("type", q.Type)
	}
	setList(v, "types", q.Types)
	setList(v, "application-ids", q.Applications)
	setList(v, "application-version-ids", q.Versions)
	if q.Page != 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.Size != 0 {
		v.Set("size", strconv.Itoa(q.Size))
	}
	for _, s := range q.Sort {
		v.Add("sort", s)
	}
	return v
}

// Violations returns one page of the violations q selects.
func (c *Client) Violations(ctx context.Context, q ViolationQuery) (api.Page[api.Violation], error) {
	var p api.Page[api.Violation]
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/violations", query: q.values()}, &p)
	return p, err
}

// ViolationsUpTo returns up to limit of the violations q selects, from
// page q.Page on: it fetches pages of min(limit, MaxPageSize) violations
// (q.Size is ignored) until it has limit violations or has read the last
// page. It lists more than the server's page cap.
func (c *Client) ViolationsUpTo(ctx context.Context, q ViolationQuery, limit int) ([]api.Violation, error) {
	if limit < 1 {
		return nil, errors.New("fullstop client: the limit must be 1 or more")
	}
	q.Size = min(limit, MaxPageSize)
	var out []api.Violation
	for {
		p, err := c.Violations(ctx, q)
		if err != nil {
			return out, err
		}
		out = append(out, p.Content[:min(len(p.Content), limit-len(out))]...)
		if len(out) >= limit || p.Last || len(p.Content) == 0 {
			return out, nil
		}
		q.Page++
	}
}

// Violation returns the violation id.
func (c *Client) Violation(ctx context.Context, id int64) (api.Violation, error) {
	var v api.Violation
	err := c.do(ctx, request{method: http.MethodGet, path: idPath("/api/violations", id, "")}, &v)
	return v, err
}

// Resolve resolves the violation id with comment and returns it.
func (c *Client) Resolve(ctx context.Context, id int64, comment string) (api.Violation, error) {
	var v api.Violation
	err := c.do(ctx, request{method: http.MethodPost, path: idPath("/api/violations", id, "/resolution"),
		body: []byte(comment), ctype: "text/plain; charset=utf-8"}, &v)
	return v, err
}

// Reopen reopens the resolved or whitelisted violation id and returns it.
func (c *Client) Reopen(ctx context.Context, id int64) (api.Violation, error) {
	var v api.Violation
	err := c.do(ctx, request{method: http.MethodDelete, path: idPath("/api/violations", id, "/resolution")}, &v)
	return v, err
}

// ViolationTypes returns all violation types.
func (c *Client) ViolationTypes(ctx context.Context) ([]api.ViolationType, error) {
	var ts []api.ViolationType
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/violation-types"}, &ts)
	return ts, err
}

// countQuery is the query of the count endpoints.
func countQuery(from *time.Time, state string) url.Values {
	v := url.Values{}
	setTime(v, "from", from)
	if state != "" {
		v.Set("state", state)
	}
	return v
}

// CountByAccount counts the violations by account and type: of accounts
// (nil: all), created at or after from (nil: ever), in state (open,
// resolved, whitelisted or any; "": open).
func (c *Client) CountByAccount(ctx context.Context, accounts []string, from *time.Time, state string) ([]api.AccountCount, error) {
	q := countQuery(from, state)
	setList(q, "accounts", accounts)
	var cs []api.AccountCount
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/violation-count", query: q}, &cs)
	return cs, err
}

// CountByApplication counts the violations of account by application,
// version and type; from and state as CountByAccount's.
func (c *Client) CountByApplication(ctx context.Context, account string, from *time.Time, state string) ([]api.ApplicationCount, error) {
	if account == "" {
		return nil, errors.New("fullstop client: count by application: the account is empty")
	}
	var cs []api.ApplicationCount
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/violation-count/" + url.PathEscape(account),
		query: countQuery(from, state)}, &cs)
	return cs, err
}

// WhitelistRules returns all whitelisting rules, expired ones included, in
// id order.
func (c *Client) WhitelistRules(ctx context.Context) ([]api.Rule, error) {
	var rs []api.Rule
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/whitelisting-rules"}, &rs)
	return rs, err
}

// CreateWhitelistRule creates a whitelisting rule and returns it. It
// whitelists the violations stored from now on; ApplyWhitelistRule
// whitelists the open ones stored before.
func (c *Client) CreateWhitelistRule(ctx context.Context, r api.RuleInput) (api.Rule, error) {
	b, err := jsonBody(r)
	if err != nil {
		return api.Rule{}, err
	}
	var out api.Rule
	err = c.do(ctx, request{method: http.MethodPost, path: "/api/whitelisting-rules", body: b, ctype: "application/json"}, &out)
	return out, err
}

// ExpireWhitelistRule sets the expiry of the rule id to at (nil: the
// server's default, in one minute).
func (c *Client) ExpireWhitelistRule(ctx context.Context, id int64, at *time.Time) error {
	q := url.Values{}
	setTime(q, "expiryDate", at)
	return c.do(ctx, request{method: http.MethodDelete, path: idPath("/api/whitelisting-rules", id, ""), query: q}, nil)
}

// ApplyWhitelistRule whitelists the open violations the rule id matches
// (dryRun: only counts them).
func (c *Client) ApplyWhitelistRule(ctx context.Context, id int64, dryRun bool) (api.ApplyResult, error) {
	q := url.Values{}
	if dryRun {
		q.Set("dry_run", "true")
	}
	var out api.ApplyResult
	err := c.do(ctx, request{method: http.MethodPost, path: idPath("/api/whitelisting-rules", id, "/apply"), query: q}, &out)
	return out, err
}
