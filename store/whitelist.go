package store

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fullstop-audit/fullstop/rules"
)

var (
	//go:embed query/whitelist_active.sql
	whitelistActiveSQL string
	//go:embed query/whitelist_list.sql
	whitelistListSQL string
	//go:embed query/whitelist_create.sql
	whitelistCreateSQL string
	//go:embed query/whitelist_expire.sql
	whitelistExpireSQL string
	//go:embed query/whitelist_apply_candidates.sql
	whitelistApplyCandidatesSQL string
	//go:embed query/whitelist_apply.sql
	whitelistApplySQL string
)

// ErrUnknownType is wrapped by the error of a write that names a violation
// type that does not exist.
var ErrUnknownType = errors.New("unknown violation type")

// ErrRuleExpired is wrapped by the error of applying a rule that is no
// longer in force.
var ErrRuleExpired = errors.New("whitelisting rule expired")

// StoredWhitelistRule is a row of the rule table.
type StoredWhitelistRule struct {
	rules.WhitelistRule
	ExpiryDate     time.Time
	Created        time.Time
	CreatedBy      string
	LastModified   time.Time
	LastModifiedBy string
	Version        int64
}

// whitelistCache keeps the compiled form of the rules in force: rules are
// immutable but for their expiry, so a compiled rule is reused for as long
// as its criteria read the same.
type whitelistCache struct {
	mu    sync.Mutex
	rules map[int64]cachedRule
}

// cachedRule is a rule as read and its compiled form, nil when it does not
// compile (it was warned about once).
type cachedRule struct {
	rule     rules.WhitelistRule
	compiled *rules.CompiledWhitelistRule
}

// activeWhitelist reads the rules in force in tx, in id order. A stored
// rule that does not compile (written around the API) is left out with a
// warning: it never matches.
func (s *Store) activeWhitelist(ctx context.Context, tx pgx.Tx) (rules.Whitelist, error) {
	rows, err := tx.Query(ctx, whitelistActiveSQL)
	if err != nil {
		return nil, fmt.Errorf("read whitelisting rules: %w", err)
	}
	active, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rules.WhitelistRule, error) {
		var w rules.WhitelistRule
		err := r.Scan(&w.ID, &w.AccountID, &w.Region, &w.Type, &w.ImageName, &w.ImageOwner,
			&w.ApplicationID, &w.ApplicationVersion, &w.MetaInfoJSONPath, &w.Reason)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("read whitelisting rules: %w", err)
	}
	if len(active) == 0 {
		return nil, nil
	}
	c := &s.whitelist
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rules == nil {
		c.rules = make(map[int64]cachedRule)
	}
	wl := make(rules.Whitelist, 0, len(active))
	keep := make(map[int64]bool, len(active))
	for _, w := range active {
		keep[w.ID] = true
		cr, ok := c.rules[w.ID]
		if !ok || cr.rule != w {
			compiled, err := rules.CompileWhitelistRule(w)
			if err != nil {
				s.log.Warn("whitelisting rule does not compile and never matches", logRule, w.ID, logErr, err)
			}
			cr = cachedRule{rule: w, compiled: compiled}
			c.rules[w.ID] = cr
		}
		if cr.compiled != nil {
			wl = append(wl, cr.compiled)
		}
	}
	for id := range c.rules {
		if !keep[id] {
			delete(c.rules, id)
		}
	}
	return wl, nil
}

// WhitelistRules returns every whitelisting rule, expired ones included, in
// id order.
func (s *Store) WhitelistRules(ctx context.Context) ([]StoredWhitelistRule, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	out, err := s.whitelistRead(ctx, s.pool, nil)
	if err != nil {
		return nil, fmt.Errorf("list whitelisting rules: %w", s.dbErr(ctx, err))
	}
	return out, nil
}

// WhitelistRule returns the rule with the given id; the error wraps
// ErrNotFound when there is none.
func (s *Store) WhitelistRule(ctx context.Context, id int64) (StoredWhitelistRule, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	out, err := s.whitelistRead(ctx, s.pool, &id)
	if err != nil {
		return StoredWhitelistRule{}, fmt.Errorf("read whitelisting rule %d: %w", id, s.dbErr(ctx, err))
	}
	if len(out) == 0 {
		return StoredWhitelistRule{}, fmt.Errorf("whitelisting rule %d: %w", id, ErrNotFound)
	}
	return out[0], nil
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (s *Store) whitelistRead(ctx context.Context, q querier, id *int64) ([]StoredWhitelistRule, error) {
	rows, err := q.Query(ctx, whitelistListSQL, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (StoredWhitelistRule, error) {
		var w StoredWhitelistRule
		err := r.Scan(&w.ID, &w.AccountID, &w.Region, &w.Type, &w.ImageName, &w.ImageOwner,
			&w.ApplicationID, &w.ApplicationVersion, &w.MetaInfoJSONPath, &w.Reason,
			&w.ExpiryDate, &w.Created, &w.CreatedBy, &w.LastModified, &w.LastModifiedBy, &w.Version)
		return w, err
	})
}

// WhitelistRuleCreate stores a new rule (its ID is ignored) in force until
// expiry, created by user, and returns it. The criteria are trimmed. A
// rule without criterion or with a criterion that does not compile is
// refused with the error of rules.WhitelistRule.Validate; one naming a
// violation type that does not exist with ErrUnknownType.
func (s *Store) WhitelistRuleCreate(ctx context.Context, r rules.WhitelistRule, expiry time.Time, user string) (StoredWhitelistRule, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	var out StoredWhitelistRule
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.whitelistCreate(ctx, tx, r, expiry, user)
		return err
	})
	if err != nil {
		return StoredWhitelistRule{}, fmt.Errorf("create whitelisting rule: %w", s.dbErr(ctx, err))
	}
	return out, nil
}

func (s *Store) whitelistCreate(ctx context.Context, tx pgx.Tx, r rules.WhitelistRule, expiry time.Time, user string) (StoredWhitelistRule, error) {
	r = trimRule(r)
	if err := r.Validate(); err != nil {
		return StoredWhitelistRule{}, err
	}
	var id int64
	err := tx.QueryRow(ctx, whitelistCreateSQL, cleanText(r.AccountID), cleanText(r.Region), cleanText(r.Type),
		cleanText(r.ImageName), cleanText(r.ImageOwner), cleanText(r.ApplicationID), cleanText(r.ApplicationVersion),
		cleanText(r.MetaInfoJSONPath), cleanText(r.Reason), expiry, cleanText(user)).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation: the type
		return StoredWhitelistRule{}, fmt.Errorf("%w %q", ErrUnknownType, r.Type)
	}
	if err != nil {
		return StoredWhitelistRule{}, err
	}
	out, err := s.whitelistRead(ctx, tx, &id)
	if err != nil {
		return StoredWhitelistRule{}, err
	}
	if len(out) == 0 {
		return StoredWhitelistRule{}, fmt.Errorf("read back rule %d: %w", id, ErrNotFound)
	}
	return out[0], nil
}

// trimRule trims the criteria and the reason of r.
func trimRule(r rules.WhitelistRule) rules.WhitelistRule {
	for _, f := range []*string{&r.AccountID, &r.Region, &r.Type, &r.ImageName, &r.ImageOwner,
		&r.ApplicationID, &r.ApplicationVersion, &r.MetaInfoJSONPath, &r.Reason} {
		*f = strings.TrimSpace(*f)
	}
	return r
}

// WhitelistRuleReplace replaces rule id, as the reference's update: the
// rule expires now and a new one is created from r; it returns the new
// rule. The error wraps ErrNotFound when there is no rule id.
func (s *Store) WhitelistRuleReplace(ctx context.Context, id int64, r rules.WhitelistRule, expiry time.Time, user string) (StoredWhitelistRule, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	var out StoredWhitelistRule
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, whitelistExpireSQL, id, time.Now(), cleanText(user), true)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("whitelisting rule %d: %w", id, ErrNotFound)
		}
		out, err = s.whitelistCreate(ctx, tx, r, expiry, user)
		return err
	})
	if err != nil {
		return StoredWhitelistRule{}, fmt.Errorf("replace whitelisting rule %d: %w", id, s.dbErr(ctx, err))
	}
	return out, nil
}

// WhitelistRuleExpire sets the expiry of rule id, as the reference's
// delete. The error wraps ErrNotFound when there is no such rule, when it
// has expired already, or when expiry is not in the future.
func (s *Store) WhitelistRuleExpire(ctx context.Context, id int64, expiry time.Time, user string) error {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, whitelistExpireSQL, id, expiry, cleanText(user), false)
	if err != nil {
		return fmt.Errorf("expire whitelisting rule %d: %w", id, s.dbErr(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("whitelisting rule %d (in force, new expiry in the future): %w", id, ErrNotFound)
	}
	return nil
}

// applyChunk is how many violations one UPDATE of WhitelistRuleApply
// whitelists.
const applyChunk = 5000

// WhitelistRuleApply whitelists the open violations rule id matches, as if
// the rule had been in force when they were stored, and returns how many
// it whitelisted; with dryRun it only counts them. The error wraps
// ErrNotFound for an unknown rule and ErrRuleExpired for one no longer in
// force. It runs in one transaction bounded by the transaction timeout.
func (s *Store) WhitelistRuleApply(ctx context.Context, id int64, dryRun bool, user string) (int, error) {
	ctx, cancel := s.transactionCtx(ctx)
	defer cancel()
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		all, err := s.whitelistRead(ctx, tx, &id)
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return fmt.Errorf("whitelisting rule %d: %w", id, ErrNotFound)
		}
		r := all[0]
		if !r.ExpiryDate.After(time.Now()) {
			return fmt.Errorf("whitelisting rule %d expired at %s: %w", id, r.ExpiryDate.UTC().Format(time.RFC3339), ErrRuleExpired)
		}
		cr, err := rules.CompileWhitelistRule(r.WhitelistRule)
		if err != nil {
			return fmt.Errorf("whitelisting rule %d: %w", id, err)
		}
		// The criteria trimmed, as the matcher reads them.
		tr := trimRule(r.WhitelistRule)
		rows, err := tx.Query(ctx, whitelistApplyCandidatesSQL, tr.AccountID, tr.Region, tr.Type)
		if err != nil {
			return err
		}
		var ids []int64
		var (
			vid int64
			c   rules.WhitelistCandidate
		)
		_, err = pgx.ForEachRow(rows, []any{&vid, &c.AccountID, &c.Region, &c.Type, &c.MetaInfo, &c.Application, &c.Version}, func() error {
			if cr.Matches(c) {
				ids = append(ids, vid)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if dryRun {
			n = len(ids)
			return nil
		}
		comment := cleanText(rules.WhitelistComment(r.Reason))
		for len(ids) > 0 {
			chunk := ids[:min(applyChunk, len(ids))]
			ids = ids[len(chunk):]
			tag, err := tx.Exec(ctx, whitelistApplySQL, id, comment, cleanText(user), chunk)
			if err != nil {
				return err
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("apply whitelisting rule %d: %w", id, s.dbErr(ctx, err))
	}
	return n, nil
}
