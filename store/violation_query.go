package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fullstop-audit/fullstop/rules"
)

// ViolationState is a violation's state, derived from its comment and
// whitelisting rule (the reference's §6.4).
type ViolationState int

// The states a filter can ask for.
const (
	StateOpen        ViolationState = iota // no comment, no rule
	StateResolved                          // a comment, no rule ("checked")
	StateWhitelisted                       // a rule
	StateAny                               // all of them
)

// ViolationFilter selects violations; zero fields select everything, but
// the zero State is StateOpen. Lists match any of their values.
type ViolationFilter struct {
	Accounts      []string
	From, To      *time.Time // *From <= created < *To; nil: unbounded
	MinID         int64      // id >= MinID when > 0 (the reference's last-violation)
	State         ViolationState
	Severity      *int  // the type's violation_severity
	Priority      *int  // the type's priority
	AuditRelevant *bool // the type's is_audit_relevant
	Types         []string
	Applications  []string // application names
	Versions      []string // version names
}

// Sort orders a page by one property of the violation (see
// ViolationSortProperties), descending when Desc.
type Sort struct {
	Property string
	Desc     bool
}

// violationSortColumns maps the properties a page may be sorted by (the
// reference entity's camelCase field names, and ours) to their columns.
// Only these columns ever reach ORDER BY.
var violationSortColumns = map[string]string{
	"id":                            "v.id",
	"version":                       "v.version",
	"eventId":                       "v.event_id",
	"accountId":                     "v.account_id",
	"region":                        "v.region",
	"instanceId":                    "v.instance_id",
	"metaInfo":                      "v.meta_info",
	"comment":                       "v.comment",
	"pluginFullyQualifiedClassName": "v.plugin_fully_qualified_class_name",
	"username":                      "v.username",
	"violationTypeEntity":           "v.violation_type_entity_id",
	"violationType":                 "v.violation_type_entity_id",
	"ruleEntity":                    "v.rule_entity_id",
	"application":                   "a.name",
	"applicationVersion":            "av.name",
	"created":                       "v.created",
	"createdBy":                     "v.created_by",
	"lastModified":                  "v.last_modified",
	"lastModifiedBy":                "v.last_modified_by",
	"eventTime":                     "v.event_time",
	"lastSeen":                      "v.last_seen",
	"seenCount":                     "v.seen_count",
}

// notNullColumns are the sort columns that cannot be NULL: they sort
// without NULLS LAST, so that an index (the primary key's backward scan for
// id DESC) gives their order.
var notNullColumns = map[string]bool{
	"v.id": true, "v.version": true, "v.violation_type_entity_id": true, "v.created": true,
	"v.last_seen": true, "v.seen_count": true,
	"l.id": true, "l.created": true,
}

// ViolationSortProperties returns the properties a page of violations can
// be sorted by, in alphabetical order.
func ViolationSortProperties() []string {
	out := make([]string, 0, len(violationSortColumns))
	for p := range violationSortColumns {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Violation is a stored violation with its type, application and version,
// as the API shows it. NULL text is nil.
type Violation struct {
	ID                            int64
	Version                       int64
	EventID                       *string
	AccountID                     *string
	Region                        *string
	InstanceID                    *string
	MetaInfo                      *string // JSON text as stored
	Comment                       *string
	PluginFullyQualifiedClassName *string
	Username                      *string
	RuleID                        *int64
	Application                   *string // application name
	ApplicationVersion            *string // version name
	Type                          ViolationType
	EventTime                     *time.Time
	LastSeen                      time.Time
	SeenCount                     int
	Created                       time.Time
	CreatedBy                     *string
	LastModified                  *time.Time
	LastModifiedBy                *string
}

// The parts of the violation queries. Each WHERE condition is a constant
// with named parameters; values are always bound, never written into SQL.
const (
	violationColumns = `v.id, v.version, v.event_id, v.account_id, v.region, v.instance_id, v.meta_info, v.comment,
       v.plugin_fully_qualified_class_name, v.username, v.rule_entity_id, a.name, av.name,
       v.event_time, v.last_seen, v.seen_count, v.created, v.created_by, v.last_modified, v.last_modified_by,
       t.id, coalesce(t.title, ''), coalesce(t.violation_severity, 0), t.priority, coalesce(t.help_text, ''),
       t.is_audit_relevant, t.version, t.created, coalesce(t.created_by, ''), coalesce(t.last_modified, t.created),
       coalesce(t.last_modified_by, '')`
	violationFrom = `
FROM fullstop_data.violation v
JOIN fullstop_data.violation_type t ON t.id = v.violation_type_entity_id
LEFT JOIN fullstop_data.application a ON a.id = v.application_id
LEFT JOIN fullstop_data.app_version av ON av.id = v.application_version_id`
	violationCountFrom = `
FROM fullstop_data.violation v`
	joinType = `
JOIN fullstop_data.violation_type t ON t.id = v.violation_type_entity_id`
	joinApplications = `
LEFT JOIN fullstop_data.application a ON a.id = v.application_id
LEFT JOIN fullstop_data.app_version av ON av.id = v.application_version_id`

	condAccounts     = `v.account_id = ANY (@accounts)`
	condAccount      = `v.account_id = @account`
	condFrom         = `v.created >= @from`
	condTo           = `v.created < @to`
	condMinID        = `v.id >= @min_id`
	condOpen         = `v.comment IS NULL AND v.rule_entity_id IS NULL`
	condResolved     = `v.comment IS NOT NULL AND v.rule_entity_id IS NULL`
	condWhitelisted  = `v.rule_entity_id IS NOT NULL`
	condSeverity     = `t.violation_severity = @severity`
	condPriority     = `t.priority = @priority`
	condAudit        = `t.is_audit_relevant = @audit_relevant`
	condTypes        = `v.violation_type_entity_id = ANY (@types)`
	condApplications = `a.name = ANY (@applications)`
	condVersions     = `av.name = ANY (@versions)`
	condID           = `v.id = @id`
)

// where is a WHERE clause built from the constant conditions above and the
// values they name.
type where struct {
	conds []string
	args  pgx.NamedArgs
	// joins the conditions need in a count (type, applications).
	needType, needApps bool
}

func (w *where) add(cond, name string, value any) {
	w.conds = append(w.conds, cond)
	if name != "" {
		w.args[name] = value
	}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return "\nWHERE " + strings.Join(w.conds, "\n  AND ")
}

// filterWhere turns f into a WHERE clause.
func filterWhere(f ViolationFilter) *where {
	w := &where{args: pgx.NamedArgs{}}
	if len(f.Accounts) > 0 {
		w.add(condAccounts, "accounts", f.Accounts)
	}
	if f.From != nil {
		w.add(condFrom, "from", *f.From)
	}
	if f.To != nil {
		w.add(condTo, "to", *f.To)
	}
	if f.MinID > 0 {
		w.add(condMinID, "min_id", f.MinID)
	}
	switch f.State {
	case StateOpen:
		w.add(condOpen, "", nil)
	case StateResolved:
		w.add(condResolved, "", nil)
	case StateWhitelisted:
		w.add(condWhitelisted, "", nil)
	}
	if f.Severity != nil {
		w.add(condSeverity, "severity", *f.Severity)
		w.needType = true
	}
	if f.Priority != nil {
		w.add(condPriority, "priority", *f.Priority)
		w.needType = true
	}
	if f.AuditRelevant != nil {
		w.add(condAudit, "audit_relevant", *f.AuditRelevant)
		w.needType = true
	}
	if len(f.Types) > 0 {
		w.add(condTypes, "types", f.Types)
	}
	if len(f.Applications) > 0 {
		w.add(condApplications, "applications", f.Applications)
		w.needApps = true
	}
	if len(f.Versions) > 0 {
		w.add(condVersions, "versions", f.Versions)
		w.needApps = true
	}
	return w
}

// ViolationPage returns the violations f selects, ordered by sorts (then by
// id, ascending unless the last sort is by id), skipping offset and at most
// limit of them, and how many f selects in all. A sort property outside
// ViolationSortProperties is an error.
func (s *Store) ViolationPage(ctx context.Context, f ViolationFilter, sorts []Sort, offset, limit int) ([]Violation, int64, error) {
	order, err := orderBy(sorts, violationSortColumns, "v.id")
	if err != nil {
		return nil, 0, err
	}
	w := filterWhere(f)
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()

	countSQL := "SELECT count(*)" + violationCountFrom
	if w.needType {
		countSQL += joinType
	}
	if w.needApps {
		countSQL += joinApplications
	}
	var total int64
	if err := s.pool.QueryRow(ctx, countSQL+w.sql(), w.args).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count violations: %w", s.dbErr(ctx, err))
	}
	if total == 0 || int64(offset) >= total {
		return nil, total, nil
	}
	w.args["offset"] = offset
	w.args["limit"] = limit
	rows, err := s.pool.Query(ctx, "SELECT "+violationColumns+violationFrom+w.sql()+order+"\nOFFSET @offset LIMIT @limit", w.args)
	if err != nil {
		return nil, 0, fmt.Errorf("list violations: %w", s.dbErr(ctx, err))
	}
	out, err := collectViolations(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("list violations: %w", s.dbErr(ctx, err))
	}
	return out, total, nil
}

// orderBy returns the ORDER BY clause of sorts, from the fixed column
// table columns, ending with the key column id (unique, not NULL).
func orderBy(sorts []Sort, columns map[string]string, id string) (string, error) {
	var parts []string
	byID := false
	for _, so := range sorts {
		col, ok := columns[so.Property]
		if !ok {
			return "", fmt.Errorf("%w: cannot sort by %q", ErrBadSort, so.Property)
		}
		dir := " ASC"
		if so.Desc {
			dir = " DESC"
		}
		if !notNullColumns[col] {
			dir += " NULLS LAST"
		}
		parts = append(parts, col+dir)
		byID = byID || col == id
	}
	if !byID {
		parts = append(parts, id+" ASC")
	}
	return "\nORDER BY " + strings.Join(parts, ", "), nil
}

// ErrBadSort is wrapped by the error of a page asked to be sorted by a
// property that does not exist.
var ErrBadSort = errors.New("unknown sort property")

// ViolationByID returns the violation with the given id; the error wraps
// ErrNotFound when there is none.
func (s *Store) ViolationByID(ctx context.Context, id int64) (Violation, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	return s.violationByID(ctx, s.pool, id)
}

func (s *Store) violationByID(ctx context.Context, q querier, id int64) (Violation, error) {
	rows, err := q.Query(ctx, "SELECT "+violationColumns+violationFrom+"\nWHERE "+condID, pgx.NamedArgs{"id": id})
	if err != nil {
		return Violation{}, fmt.Errorf("read violation %d: %w", id, s.dbErr(ctx, err))
	}
	out, err := collectViolations(rows)
	if err != nil {
		return Violation{}, fmt.Errorf("read violation %d: %w", id, s.dbErr(ctx, err))
	}
	if len(out) == 0 {
		return Violation{}, fmt.Errorf("violation %d: %w", id, ErrNotFound)
	}
	return out[0], nil
}

func collectViolations(rows pgx.Rows) ([]Violation, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Violation, error) {
		var v Violation
		t := &v.Type
		err := r.Scan(&v.ID, &v.Version, &v.EventID, &v.AccountID, &v.Region, &v.InstanceID, &v.MetaInfo, &v.Comment,
			&v.PluginFullyQualifiedClassName, &v.Username, &v.RuleID, &v.Application, &v.ApplicationVersion,
			&v.EventTime, &v.LastSeen, &v.SeenCount, &v.Created, &v.CreatedBy, &v.LastModified, &v.LastModifiedBy,
			&t.ID, &t.Title, &t.Severity, &t.Priority, &t.HelpText,
			&t.AuditRelevant, &t.Version, &t.Created, &t.CreatedBy, &t.LastModified, &t.LastModifiedBy)
		return v, err
	})
}

// ViolationResolve sets the comment of violation id (overwriting any, also
// on a whitelisted one, as the reference) and returns it.
func (s *Store) ViolationResolve(ctx context.Context, id int64, comment, user string) (Violation, error) {
	return s.violationUpdate(ctx, id, `UPDATE fullstop_data.violation
SET comment = @comment, last_modified = now(), last_modified_by = @user, version = version + 1
WHERE id = @id`, pgx.NamedArgs{"id": id, "comment": cleanText(comment), "user": cleanText(user)})
}

// ViolationReopen makes violation id open again: its comment and
// whitelisting rule are removed. It returns the violation.
func (s *Store) ViolationReopen(ctx context.Context, id int64, user string) (Violation, error) {
	return s.violationUpdate(ctx, id, `UPDATE fullstop_data.violation
SET comment = NULL, rule_entity_id = NULL, last_modified = now(), last_modified_by = @user, version = version + 1
WHERE id = @id AND (comment IS NOT NULL OR rule_entity_id IS NOT NULL)`, pgx.NamedArgs{"id": id, "user": cleanText(user)})
}

func (s *Store) violationUpdate(ctx context.Context, id int64, sql string, args pgx.NamedArgs) (Violation, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	var out Violation
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sql, args); err != nil {
			return err
		}
		var err error
		out, err = s.violationByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Violation{}, fmt.Errorf("update violation %d: %w", id, s.dbErr(ctx, err))
	}
	return out, nil
}

// ViolationCreate stores v as the pipeline stores what it finds, written by
// user: merged with a stored violation of the same identity (which is only
// marked seen again), its type created if unknown, its application and
// version created, whitelisted by the first matching rule when it is new.
// It reports whether v was new.
func (s *Store) ViolationCreate(ctx context.Context, v rules.Violation, user string) (bool, error) {
	inserted, _, err := s.ViolationUpsert(ctx, []rules.Violation{v}, user)
	if err != nil {
		return false, fmt.Errorf("create violation: %w", err)
	}
	return inserted > 0, nil
}

// AccountTypeCount is the number of violations of one type in one account.
type AccountTypeCount struct {
	Account  string
	Type     string
	Quantity int64
}

// ViolationCountByAccount counts the violations f selects by account and
// type, ordered by account and type.
func (s *Store) ViolationCountByAccount(ctx context.Context, f ViolationFilter) ([]AccountTypeCount, error) {
	w := filterWhere(f)
	// Grouped by the bare columns, which an index on them gives in order.
	sql := "SELECT coalesce(v.account_id, ''), v.violation_type_entity_id, count(*)" + violationCountFrom
	if w.needType {
		sql += joinType
	}
	if w.needApps {
		sql += joinApplications
	}
	sql += w.sql() + "\nGROUP BY v.account_id, v.violation_type_entity_id\nORDER BY v.account_id, v.violation_type_entity_id"
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, sql, w.args)
	if err != nil {
		return nil, fmt.Errorf("count violations: %w", s.dbErr(ctx, err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccountTypeCount, error) {
		var c AccountTypeCount
		err := r.Scan(&c.Account, &c.Type, &c.Quantity)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count violations: %w", s.dbErr(ctx, err))
	}
	return out, nil
}

// ApplicationTypeCount is the number of violations of one type on one
// application version (nil: none) of an account.
type ApplicationTypeCount struct {
	Application *string
	Version     *string
	Type        string
	Quantity    int64
}

// ViolationCountByApplication counts the violations of account that f
// selects (f.Accounts is ignored) by application, version and type,
// ordered by application name (none last), version, newest first (none
// last), and type.
func (s *Store) ViolationCountByApplication(ctx context.Context, account string, f ViolationFilter) ([]ApplicationTypeCount, error) {
	f.Accounts = nil
	w := filterWhere(f)
	w.add(condAccount, "account", account)
	sql := "SELECT a.name, av.name, v.violation_type_entity_id, count(*)" + violationCountFrom + joinApplications
	if w.needType {
		sql += joinType
	}
	sql += w.sql() + "\nGROUP BY a.name, av.id, av.name, av.created, v.violation_type_entity_id" +
		"\nORDER BY a.name ASC NULLS LAST, av.created DESC NULLS LAST, av.name, v.violation_type_entity_id"
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, sql, w.args)
	if err != nil {
		return nil, fmt.Errorf("count violations of account %s: %w", account, s.dbErr(ctx, err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ApplicationTypeCount, error) {
		var c ApplicationTypeCount
		err := r.Scan(&c.Application, &c.Version, &c.Type, &c.Quantity)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count violations of account %s: %w", account, s.dbErr(ctx, err))
	}
	return out, nil
}
