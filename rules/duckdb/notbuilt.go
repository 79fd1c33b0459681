//go:build !duckdb_arrow

package duckdb

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fullstop-audit/fullstop/rules"
)

// Engine stands in for the rule engine in a binary built without the
// build tag duckdb_arrow: New fails with ErrNotBuilt.
type Engine struct{}

// New returns ErrNotBuilt: this build holds no rule engine.
func New(context.Context, Config) (*Engine, error) { return nil, ErrNotBuilt }

// Rules returns nothing.
func (*Engine) Rules() []rules.Rule { return nil }

// Disabled returns nothing.
func (*Engine) Disabled() []Disabled { return nil }

// Evaluate returns ErrNotBuilt.
func (*Engine) Evaluate(context.Context, []arrow.RecordBatch) (rules.Findings, error) {
	return rules.Findings{}, ErrNotBuilt
}

// Close does nothing.
func (*Engine) Close() error { return nil }
