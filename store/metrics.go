package store

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

//go:embed query/ledger_status_count.sql
var ledgerStatusCountSQL string

// Ping checks that the database answers, within the statement timeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", s.dbErr(ctx, err))
	}
	return nil
}

// LedgerStatusCounts returns the number of ledger rows by status, and
// under "claimed" the number of leases held.
func (s *Store) LedgerStatusCounts(ctx context.Context) (map[string]int64, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, ledgerStatusCountSQL)
	if err != nil {
		return nil, fmt.Errorf("count ledger rows: %w", s.dbErr(ctx, err))
	}
	out := map[string]int64{"done": 0, "failed": 0, "quarantined": 0, "claimed": 0}
	var (
		status string
		n      int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error { out[status] += n; return nil }); err != nil {
		return nil, fmt.Errorf("count ledger rows: %w", s.dbErr(ctx, err))
	}
	return out, nil
}

// ledgerCollector exports the ledger's rows by status at each scrape.
type ledgerCollector struct {
	s    *Store
	desc *prometheus.Desc
	up   *prometheus.Desc
}

// scrapeTimeout bounds the query of one scrape.
const scrapeTimeout = 5 * time.Second

// LedgerCollector returns a Prometheus collector of the ledger rows by
// status (fullstop_ledger_objects{status}) and of whether the count
// succeeded (fullstop_ledger_up).
func (s *Store) LedgerCollector() prometheus.Collector {
	return &ledgerCollector{
		s: s,
		desc: prometheus.NewDesc("fullstop_ledger_objects", "Log objects in the ledger by status; claimed: leases held.",
			[]string{"status"}, nil),
		up: prometheus.NewDesc("fullstop_ledger_up", "1 when the ledger could be counted at this scrape, else 0.", nil, nil),
	}
}

func (c *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.up
}

func (c *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := c.s.LedgerStatusCounts(ctx)
	if err != nil {
		c.s.log.Warn("metrics: cannot count the ledger", logErr, err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), status)
	}
}
