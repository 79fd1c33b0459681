package store

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/jackc/pgx/v5"
)

var (
	//go:embed query/audit_violations.sql
	auditViolationsSQL string
	//go:embed query/audit_ledger.sql
	auditLedgerSQL string
)

// auditTables are the tables AuditTable serves, by name.
var auditTables = map[string]*string{"violations": &auditViolationsSQL, "ledger": &auditLedgerSQL}

// AuditTable returns the rows of one of the tables fullstop query offers
// beside the events: "violations" or "ledger". The caller closes the rows.
// No statement timeout applies: the table is read whole.
func (s *Store) AuditTable(ctx context.Context, name string) (pgx.Rows, error) {
	q, ok := auditTables[name]
	if !ok {
		return nil, fmt.Errorf("audit table %q: want violations or ledger", name)
	}
	rows, err := s.pool.Query(ctx, *q)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, s.dbErr(ctx, err))
	}
	return rows, nil
}
