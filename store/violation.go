package store

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
)

var (
	//go:embed query/violation_in_create.sql
	violationInCreateSQL string
	//go:embed query/violation_type_create_unknown.sql
	violationTypeCreateUnknownSQL string
	//go:embed query/violation_upsert.sql
	violationUpsertSQL string
	//go:embed query/stack_application_create.sql
	stackApplicationCreateSQL string
	//go:embed query/stack_version_create.sql
	stackVersionCreateSQL string
)

// violationInColumns are the columns of the temporary table violation_in,
// in the order of violationRow.
var violationInColumns = []string{
	"violation_type_entity_id", "event_id", "account_id", "region", "instance_id", "username",
	"meta_info", "plugin_fully_qualified_class_name", "event_time", "seen",
	"application", "app_version", "rule_entity_id", "comment",
}

// commitTries is how often a group is written when PostgreSQL aborts the
// transaction for a deadlock or a serialization failure with a concurrent
// writer.
const commitTries = 3

// ViolationCommitGroup writes the findings of a group of objects and marks
// the objects done, in one transaction.
//
// Violations with the same identity are merged, the first one kept: in the
// group, and with the row already stored, whose last_seen becomes now and
// whose seen_count grows by the number of detections; its resolution
// (comment, rule_entity_id) is never touched. Types not known yet are
// created with the reference's defaults. An empty InstanceID, Username,
// MetaInfo or Rule is stored as NULL, a zero EventTime as NULL; NUL bytes and
// invalid UTF-8, which PostgreSQL text cannot hold, become U+FFFD.
//
// Lifecycle rows are inserted with the applications and versions they
// name; one stored before for the same event, instance and event type is
// left as it is.
func (s *Store) ViolationCommitGroup(ctx context.Context, holder string, objs []etl.ObjectDone, found rules.Findings) (etl.GroupResult, error) {
	objs = lastPerKey(objs)
	var res etl.GroupResult
	var err error
	for try := 1; try <= commitTries; try++ {
		tctx, cancel := s.transactionCtx(ctx)
		res, err = s.commitGroup(tctx, holder, objs, found)
		err = s.dbErr(tctx, err)
		cancel()
		if !retryable(err) {
			break
		}
		s.log.Warn("group commit conflicted with another writer, retrying", logTry, try, logErr, err)
	}
	if err != nil {
		return etl.GroupResult{}, fmt.Errorf("commit group of %d objects, %d violations, %d lifecycle rows: %w",
			len(objs), len(found.Violations), len(found.Lifecycles), err)
	}
	return res, nil
}

func (s *Store) commitGroup(ctx context.Context, holder string, objs []etl.ObjectDone, found rules.Findings) (etl.GroupResult, error) {
	var res etl.GroupResult
	var created []string
	skipped := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The ledger first: its row locks make a concurrent batch that
		// committed the same object first win, and ours drop it.
		owned, err := ledgerDone(ctx, tx, objs)
		if err != nil {
			return err
		}
		res.Objects = len(owned)
		keys := make([]string, len(objs))
		for i, o := range objs {
			keys[i] = cleanText(o.Key)
		}
		if _, err := tx.Exec(ctx, ledgerReleaseSQL, holder, keys); err != nil {
			return fmt.Errorf("release leases: %w", err)
		}
		lost := make(map[string]bool)
		for _, o := range objs {
			if !owned[o.Key] {
				lost[o.Key] = true
			}
		}
		skipped = len(lost)
		vs, ls := found.Violations, found.Lifecycles
		if len(lost) > 0 {
			vs = slices.DeleteFunc(slices.Clone(vs), func(v rules.Violation) bool { return lost[v.ObjectKey] })
			ls = slices.DeleteFunc(slices.Clone(ls), func(l rules.Lifecycle) bool { return lost[l.ObjectKey] })
		}
		// The violations first, the correlation windows after: a
		// concurrent commit of other objects of the same windows waits
		// for the windows' locks only, not for this upsert as well.
		plain, matches := splitMatches(vs)
		res.New, res.SeenAgain, created, err = s.writeViolations(ctx, tx, plain, auditUser)
		if err != nil {
			return err
		}
		crossed, err := s.correlate(ctx, tx, objs, owned, matches)
		if err != nil {
			return err
		}
		n, seen, more, err := s.writeViolations(ctx, tx, crossed, auditUser)
		if err != nil {
			return err
		}
		res.New, res.SeenAgain, created = res.New+n, res.SeenAgain+seen, append(created, more...)
		res.Lifecycles, err = writeLifecycles(ctx, tx, ls, auditUser)
		return err
	})
	if err != nil {
		return etl.GroupResult{}, err
	}
	if skipped > 0 {
		s.log.Info("objects committed by a concurrent batch were skipped", logObjects, skipped)
	}
	for _, id := range created {
		s.log.Warn("unknown violation type created", logType, id)
	}
	return res, nil
}

// writeViolations stores vs in tx as one set: violations with the same
// identity merged (the first kept), the stored ones marked seen again, the
// new ones inserted with the applications, versions and types they name
// (types created with the reference's defaults) and whitelisted by the
// first active rule that matches. It returns how many were new, how many
// existed, and the types it created.
func (s *Store) writeViolations(ctx context.Context, tx pgx.Tx, vs []rules.Violation, user string) (inserted, seenAgain int, created []string, err error) {
	if len(vs) == 0 {
		return 0, 0, nil, nil
	}
	merged, seen := mergeViolations(vs)
	wl, err := s.activeWhitelist(ctx, tx)
	if err != nil {
		return 0, 0, nil, err
	}
	var apps, versions []*string
	rows := make([][]any, len(merged))
	for i, v := range merged {
		var ruleID *int64
		var comment any
		if r := wl.Match(rules.WhitelistCandidate{AccountID: v.AccountID, Region: v.Region, Type: v.Type,
			MetaInfo: v.MetaInfo, Application: v.Application, Version: v.Version}); r != nil {
			id := r.Rule().ID
			ruleID = &id
			comment = cleanText(rules.WhitelistComment(r.Rule().Reason))
		}
		if v.Application != "" || v.Version != "" {
			apps, versions = append(apps, nullString(v.Application)), append(versions, nullString(v.Version))
		}
		rows[i] = []any{
			v.Type, v.EventID, v.AccountID, v.Region, nullText(v.InstanceID), nullText(v.Username),
			nullText(v.MetaInfo), nullText(v.Rule), nullTime(v.EventTime), seen[i],
			nullText(v.Application), nullText(v.Version), ruleID, comment,
		}
	}
	if _, err := tx.Exec(ctx, violationInCreateSQL); err != nil {
		return 0, 0, nil, fmt.Errorf("create temporary table: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"violation_in"}, violationInColumns, pgx.CopyFromRows(rows)); err != nil {
		return 0, 0, nil, fmt.Errorf("copy violations: %w", err)
	}
	if err := createStack(ctx, tx, user, apps, versions); err != nil {
		return 0, 0, nil, err
	}
	tr, err := tx.Query(ctx, violationTypeCreateUnknownSQL, user)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("create unknown violation types: %w", err)
	}
	created, err = pgx.CollectRows(tr, pgx.RowTo[string])
	if err != nil {
		return 0, 0, nil, fmt.Errorf("create unknown violation types: %w", err)
	}
	if err := tx.QueryRow(ctx, violationUpsertSQL, user).Scan(&inserted, &seenAgain); err != nil {
		return 0, 0, nil, fmt.Errorf("upsert violations: %w", err)
	}
	// Dropped at once, not at the commit: a transaction may write twice.
	if _, err := tx.Exec(ctx, `DROP TABLE violation_in`); err != nil {
		return 0, 0, nil, fmt.Errorf("drop temporary table: %w", err)
	}
	return inserted, seenAgain, created, nil
}

// retryable reports whether err is PostgreSQL aborting a transaction for a
// deadlock or a serialization failure.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// mergeViolations returns vs cleaned for storing, one per identity (the
// first one), with the number of detections of each.
func mergeViolations(vs []rules.Violation) ([]rules.Violation, []int32) {
	index := make(map[[5]string]int, len(vs))
	out := make([]rules.Violation, 0, len(vs))
	seen := make([]int32, 0, len(vs))
	for _, v := range vs {
		v = cleanViolation(v)
		if i, ok := index[v.Key()]; ok {
			seen[i]++
			continue
		}
		index[v.Key()] = len(out)
		out = append(out, v)
		seen = append(seen, 1)
	}
	return out, seen
}

// cleanViolation makes the text fields storable in PostgreSQL.
func cleanViolation(v rules.Violation) rules.Violation {
	for _, f := range []*string{&v.Type, &v.EventID, &v.AccountID, &v.Region, &v.InstanceID, &v.Username, &v.MetaInfo, &v.Rule, &v.Application, &v.Version} {
		*f = cleanText(*f)
	}
	return v
}

// cleanText replaces NUL bytes and invalid UTF-8 with U+FFFD.
func cleanText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// nullText is nil for "" and s otherwise.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullString is nil for "" and &s otherwise: a text array element.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// createStack creates the applications apps and their versions versions
// (pairs; nil elements are NULL) that do not exist yet, in tx.
func createStack(ctx context.Context, tx pgx.Tx, user string, apps, versions []*string) error {
	if len(apps) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, stackApplicationCreateSQL, user, apps); err != nil {
		return fmt.Errorf("create applications: %w", err)
	}
	if _, err := tx.Exec(ctx, stackVersionCreateSQL, user, apps, versions); err != nil {
		return fmt.Errorf("create application versions: %w", err)
	}
	return nil
}

// nullTime is NULL for the zero time.
func nullTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// lastPerKey keeps the last entry per object key, sorted by key so that
// concurrent writers lock ledger rows in the same order.
func lastPerKey(objs []etl.ObjectDone) []etl.ObjectDone {
	last := make(map[string]int, len(objs))
	for i, o := range objs {
		last[o.Key] = i
	}
	out := make([]etl.ObjectDone, 0, len(last))
	for i, o := range objs {
		if last[o.Key] == i {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b etl.ObjectDone) int { return strings.Compare(a.Key, b.Key) })
	return out
}
