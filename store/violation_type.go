package store

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/fullstop-audit/fullstop/rules"
)

//go:embed query/violation_type_define.sql
var violationTypeDefineSQL string

// DefineViolationTypes gives the violation type of each rule of rs its
// title, severity, priority and help text: a missing type is created, one
// a rule defined before (or a violation created as unknown) is updated
// when the rule's header changed. The types the migrations seeded keep
// theirs. It returns the ids it wrote.
func (s *Store) DefineViolationTypes(ctx context.Context, rs []rules.Rule) ([]string, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	ids, titles, help := make([]string, len(rs)), make([]string, len(rs)), make([]string, len(rs))
	sev, prio := make([]int32, len(rs)), make([]int32, len(rs))
	for i, r := range rs {
		ids[i], titles[i], help[i] = cleanText(r.Type), cleanText(r.Title), cleanText(r.Help)
		sev[i], prio[i] = int32(r.Severity), int32(r.Priority)
	}
	ctx, cancel := s.transactionCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, violationTypeDefineSQL, auditUser, ids, titles, sev, prio, help)
	if err != nil {
		return nil, fmt.Errorf("define violation types: %w", err)
	}
	written, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("define violation types: %w", err)
	}
	return written, nil
}
