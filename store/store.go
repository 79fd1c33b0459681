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
//
// Before a batch works on an object it claims it (LedgerClaim): a lease in
// the table ledger_claim, renewed while the batch works and dropped in the
// transaction that records the object. Processes on one database so split
// a batch between them; a lease whose holder died expires and is taken
// over.
//
// Every call is bounded: connecting by Config.ConnectTimeout, a statement
// by Config.StatementTimeout, a group commit by Config.TransactionTimeout,
// on the client (a server that stalls cannot hang the caller) and on the
// server (statement_timeout, idle_in_transaction_session_timeout). An
// error that means the database is gone or stalled wraps ErrUnavailable.
package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

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

// Defaults of Config.
const (
	DefaultConnectTimeout     = 10 * time.Second
	DefaultStatementTimeout   = time.Minute
	DefaultTransactionTimeout = 2 * time.Minute
)

// Config configures a Store. Zero fields get the documented defaults; a nil
// *Config is all defaults.
type Config struct {
	Log *slog.Logger // nil discards the store's logs
	// ConnectTimeout bounds opening a connection, its TLS and
	// authentication included; default DefaultConnectTimeout. The URL's
	// connect_timeout, if given, wins.
	ConnectTimeout time.Duration
	// StatementTimeout bounds one statement (or one batch of statements);
	// default DefaultStatementTimeout. It is set as the server's
	// statement_timeout unless the URL sets statement_timeout, and bounds
	// each call on the client too.
	StatementTimeout time.Duration
	// TransactionTimeout bounds a group commit from BEGIN to COMMIT;
	// default DefaultTransactionTimeout. It is also the server's
	// idle_in_transaction_session_timeout unless the URL sets that.
	TransactionTimeout time.Duration
}

// Store is a pool of connections to fullstop's database.
type Store struct {
	pool      *pgxpool.Pool
	log       *slog.Logger
	cfg       Config
	whitelist whitelistCache
}

// Open connects to the database at url (see NormalizeURL for the accepted
// forms) and checks that it answers.
func Open(ctx context.Context, url string, cfg *Config) (*Store, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.ConnectTimeout = cmp.Or(c.ConnectTimeout, DefaultConnectTimeout)
	c.StatementTimeout = cmp.Or(c.StatementTimeout, DefaultStatementTimeout)
	c.TransactionTimeout = cmp.Or(c.TransactionTimeout, DefaultTransactionTimeout)
	if c.ConnectTimeout < 0 || c.StatementTimeout < 0 || c.TransactionTimeout < 0 {
		return nil, errors.New("open database: timeouts must not be negative")
	}
	u, err := NormalizeURL(url, "", "")
	if err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cc := pc.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = c.ConnectTimeout
	} else {
		c.ConnectTimeout = cc.ConnectTimeout
	}
	setDefault(cc.RuntimeParams, "statement_timeout", strconv.FormatInt(c.StatementTimeout.Milliseconds(), 10))
	setDefault(cc.RuntimeParams, "idle_in_transaction_session_timeout", strconv.FormatInt(c.TransactionTimeout.Milliseconds(), 10))
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("create connection pool: %w", err)
	}
	s := &Store{pool: pool, log: c.Log, cfg: c}
	pctx, cancel := context.WithTimeoutCause(ctx, c.ConnectTimeout+c.StatementTimeout,
		fmt.Errorf("no answer within %s", c.ConnectTimeout+c.StatementTimeout))
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", s.dbErr(pctx, err))
	}
	return s, nil
}

func setDefault(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// closeTimeout bounds Close: a stalled server cannot hold the caller.
const closeTimeout = 2 * time.Second

// Close closes all connections. It waits at most two seconds: a server
// that stopped answering keeps pgx's clean close waiting far longer.
func (s *Store) Close() {
	done := make(chan struct{})
	go func() {
		s.pool.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeTimeout):
		s.log.Warn("database connections did not close in time; leaving them")
	}
}
