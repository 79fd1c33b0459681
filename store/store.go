// Package store is fullstop's PostgreSQL access: the schema migrations, the
// violations and the ledger of processed CloudTrail objects.
//
// Store implements etl.Ledger, the interface the batch pipeline declares
// in its own types. The pipeline writes through ViolationCommitGroup: the
// violations found in a group of objects and the ledger rows marking those
// objects done commit in one transaction, so an object is either fully
// recorded or not at all. A violation is identified by (account, region, event id,
// type, instance id); a re-detection never creates a second row and never
// touches its resolution, it moves last_seen and counts seen_count up.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fullstop-audit/fullstop/etl"
)

var _ etl.Ledger = (*Store)(nil)

// ErrNotFound is wrapped by the errors of methods that read one row when
// there is no such row (pgx.ErrNoRows never leaves the package).
var ErrNotFound = errors.New("not found")

// auditUser is written to created_by and last_modified_by by background
// work, as in the reference.
const auditUser = "FULLSTOP"

// Store is a pool of connections to fullstop's database.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

// Open connects to the database at url (see NormalizeURL for the accepted
// forms) and checks that it answers. A nil log discards the store's logs.
func Open(ctx context.Context, url string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, err := NormalizeURL(url, "", "")
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create connection pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &Store{pool: pool, log: log}, nil
}

// Close closes all connections.
func (s *Store) Close() {
	s.pool.Close()
}
