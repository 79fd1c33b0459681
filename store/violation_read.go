package store

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	//go:embed query/violation_count.sql
	violationCountSQL string
	//go:embed query/violation_list.sql
	violationListSQL string
	//go:embed query/violation_type_list.sql
	violationTypeListSQL string
)

// StoredViolation is a violation row as stored. NULL text reads as "", a
// NULL event time as the zero time.
type StoredViolation struct {
	ID         int64
	Type       string
	EventID    string
	AccountID  string
	Region     string
	InstanceID string
	Username   string
	MetaInfo   string
	Rule       string // plugin_fully_qualified_class_name: the rule that found it
	Comment    string // resolution comment; "" while open
	SeenCount  int
	EventTime  time.Time
	Created    time.Time
	LastSeen   time.Time
}

// ViolationType is a row of the violation_type table. NULL text reads as "".
type ViolationType struct {
	ID            string
	Title         string
	Severity      int  // 0..4, higher is worse
	Priority      *int // 1 is the most important; nil for an auto-created type
	HelpText      string
	AuditRelevant bool

	Version        int64
	Created        time.Time
	CreatedBy      string
	LastModified   time.Time
	LastModifiedBy string
}

// ViolationCount returns the number of stored violations.
func (s *Store) ViolationCount(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, violationCountSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("count violations: %w", err)
	}
	return n, nil
}

// ViolationList returns all stored violations ordered by id. It is meant
// for tests and small databases.
func (s *Store) ViolationList(ctx context.Context) ([]StoredViolation, error) {
	rows, err := s.pool.Query(ctx, violationListSQL)
	if err != nil {
		return nil, fmt.Errorf("list violations: %w", err)
	}
	var out []StoredViolation
	var (
		v         StoredViolation
		eventTime *time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&v.ID, &v.Type, &v.EventID, &v.AccountID, &v.Region, &v.InstanceID,
		&v.Username, &v.MetaInfo, &v.Rule, &v.Comment, &v.SeenCount, &eventTime, &v.Created, &v.LastSeen}, func() error {
		v.EventTime = time.Time{}
		if eventTime != nil {
			v.EventTime = *eventTime
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list violations: %w", err)
	}
	return out, nil
}

// ViolationTypes returns all violation types ordered by id.
func (s *Store) ViolationTypes(ctx context.Context) ([]ViolationType, error) {
	rows, err := s.pool.Query(ctx, violationTypeListSQL)
	if err != nil {
		return nil, fmt.Errorf("list violation types: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ViolationType, error) {
		var t ViolationType
		err := r.Scan(&t.ID, &t.Title, &t.Severity, &t.Priority, &t.HelpText, &t.AuditRelevant,
			&t.Version, &t.Created, &t.CreatedBy, &t.LastModified, &t.LastModifiedBy)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list violation types: %w", err)
	}
	return out, nil
}
