package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/fullstop-audit/fullstop/migrations"
)

// migrateLockID is the key of the PostgreSQL advisory lock held while
// migrating ("fullstop" in ASCII), so that processes migrating at the same
// time apply each migration once.
const migrateLockID int64 = 0x66756c6c73746f70

// Migrate applies all pending migrations of package migrations. It is
// idempotent, and safe when several processes call it at once: they wait
// for each other on an advisory lock.
func (s *Store) Migrate(ctx context.Context) (err error) {
	lock, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer lock.Release()
	if _, err := lock.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockID); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx is done; a broken connection loses the lock anyway.
		if _, uerr := lock.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockID); uerr != nil {
			lock.Conn().Close(context.WithoutCancel(ctx)) // drop the session and with it the lock
			if err == nil {
				err = fmt.Errorf("release migration lock: %w", uerr)
			}
		}
	}()

	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithTableName(migrations.VersionTable),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		s.log.Info("migration applied", logVersion, r.Source.Version, logFile, r.Source.Path, logDuration, r.Duration)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	s.log.Debug("database schema up to date", logVersion, current)
	return nil
}
