package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrUnavailable is wrapped by errors that mean the database is gone or
// stalled: the connection was refused, lost or timed out, or the server is
// shutting down. Retrying later may succeed; the data is as it was before
// the failed call.
var ErrUnavailable = errors.New("database unavailable")

// unavailableError says why the database is unavailable.
type unavailableError struct {
	what string // "lost the connection to the database", ...
	err  error
}

func (e *unavailableError) Error() string { return e.what + ": " + e.err.Error() }
func (e *unavailableError) Unwrap() []error {
	return []error{ErrUnavailable, e.err}
}

// timeoutError is the cause of a context deadline set by the store.
type timeoutError struct {
	what string // "statement", "transaction"
	d    time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("the database did not answer within the %s timeout (%s)", e.what, e.d)
}

// statementCtx bounds one call by the statement timeout.
func (s *Store) statementCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, s.cfg.StatementTimeout, &timeoutError{"statement", s.cfg.StatementTimeout})
}

// transactionCtx bounds one transaction by the transaction timeout.
func (s *Store) transactionCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, s.cfg.TransactionTimeout, &timeoutError{"transaction", s.cfg.TransactionTimeout})
}

// dbErr wraps err with ErrUnavailable when it means the database is gone or
// stalled; ctx is the context the failed call ran with. Other errors are
// returned as they are.
func (s *Store) dbErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var te *timeoutError
	if errors.As(context.Cause(ctx), &te) && ctx.Err() != nil {
		return &unavailableError{what: te.Error(), err: err}
	}
	if ctx.Err() != nil {
		return err // the caller gave up
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "57014": // query_canceled: the server's statement_timeout
			return &unavailableError{what: "the database cancelled a statement (statement timeout " + s.cfg.StatementTimeout.String() + ")", err: err}
		case strings.HasPrefix(pgErr.Code, "08"), strings.HasPrefix(pgErr.Code, "57P"):
			return &unavailableError{what: "the database is unavailable", err: err}
		}
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return &unavailableError{what: "cannot connect to the database", err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.As(err, &ne),
		pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return &unavailableError{what: "lost the connection to the database", err: err}
	}
	return err
}
