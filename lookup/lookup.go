// Package lookup answers the rule engine's lookups (it implements
// rules/duckdb.Resolver without importing it): each kind is a function of
// a key, and every answer, "not found" included, is cached for the kind's
// lifetime, with one call in flight per key. Failures are not cached.
// The AWS calls are in lookup/aws, the reading of Taupage user data in
// lookup/taupage.
package lookup

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/taupage"
)

// The lookup kinds this package answers, as the enrichers name them.
const (
	KindEC2Instance = "ec2.instance"
	KindEC2Image    = "ec2.image"
	KindEC2UserData = "ec2.user_data"
	KindEC2Subnet   = "ec2.subnet"
	// KindEC2SecurityGroups is keyed (account, region, group ids as one
	// comma list).
	KindEC2SecurityGroups = "ec2.security_groups"
)

// Defaults of the cache.
const (
	// DefaultEC2TTL is how long an EC2 answer is kept (the reference kept
	// its instance context one minute).
	DefaultEC2TTL = time.Minute
	// DefaultMaxEntries bounds each kind's cache.
	DefaultMaxEntries = 100_000
)

// Func answers one key of a kind: the answer as a JSON object, nil for
// not found, or an error when the answer is not known now.
type Func func(ctx context.Context, key []string) (json.RawMessage, error)

// Kind is one lookup kind: how many key columns it takes, how to answer
// it and how long answers are kept.
type Kind struct {
	Name string
	Keys int
	TTL  time.Duration
	Func Func
}

// Resolver answers the lookup kinds it was given.
type Resolver struct {
	kinds   map[string]*kindCache
	metrics *Metrics
	now     func() time.Time
}

type kindCache struct {
	Kind
	mu      sync.Mutex
	entries map[string]entry
	flight  singleflight.Group
}

type entry struct {
	answer json.RawMessage
	at     time.Time
}

// New returns a Resolver of kinds, counting in m (nil: not counted).
func New(m *Metrics, kinds ...Kind) *Resolver {
	r := &Resolver{kinds: map[string]*kindCache{}, metrics: m, now: time.Now}
	for _, k := range kinds {
		r.kinds[k.Name] = &kindCache{Kind: k, entries: map[string]entry{}}
	}
	return r
}

// LookupKinds lists the kinds r answers, sorted.
func (r *Resolver) LookupKinds() []string {
	out := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Lookup answers key of kind from the cache, or by calling the kind's
// function once however many callers ask for the key at the same time.
func (r *Resolver) Lookup(ctx context.Context, kind string, key []string) (json.RawMessage, error) {
	k := r.kinds[kind]
	if k == nil {
		return nil, fmt.Errorf("lookup: unknown kind %q", kind)
	}
	if len(key) != k.Keys {
		return nil, fmt.Errorf("lookup %s: %d key columns, want %d", kind, len(key), k.Keys)
	}
	id := strings.Join(key, "\x00")
	now := r.now()
	k.mu.Lock()
	if e, ok := k.entries[id]; ok && now.Sub(e.at) < k.TTL {
		k.mu.Unlock()
		r.metrics.hit(kind)
		return e.answer, nil
	}
	k.mu.Unlock()
	v, err, _ := k.flight.Do(id, func() (any, error) {
		start := time.Now()
		answer, err := k.Func(ctx, key)
		r.metrics.call(kind, time.Since(start), err)
		if err != nil {
			return nil, err
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		if len(k.entries) >= DefaultMaxEntries {
			k.expire(r.now())
		}
		k.entries[id] = entry{answer: answer, at: r.now()}
		return answer, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(json.RawMessage), nil
}

// expire drops the expired entries, or all of them when none has
// expired. The caller holds k.mu.
func (k *kindCache) expire(now time.Time) {
	n := len(k.entries)
	for id, e := range k.entries {
		if now.Sub(e.at) >= k.TTL {
			delete(k.entries, id)
		}
	}
	if len(k.entries) == n {
		clear(k.entries)
	}
}

// EC2Kinds are the EC2 lookup kinds over the member accounts' clients,
// keyed (account, region, id), answers kept for ttl.
func EC2Kinds(c *aws.Clients, ttl time.Duration) []Kind {
	if ttl <= 0 {
		ttl = DefaultEC2TTL
	}
	return []Kind{
		{Name: KindEC2Instance, Keys: 3, TTL: ttl, Func: func(ctx context.Context, key []string) (json.RawMessage, error) {
			in, found, err := c.Instance(ctx, key[0], key[1], key[2])
			return answer(in, found, err)
		}},
		{Name: KindEC2Image, Keys: 3, TTL: ttl, Func: func(ctx context.Context, key []string) (json.RawMessage, error) {
			img, found, err := c.Image(ctx, key[0], key[1], key[2])
			return answer(img, found, err)
		}},
		{Name: KindEC2Subnet, Keys: 4, TTL: ttl, Func: func(ctx context.Context, key []string) (json.RawMessage, error) {
			sn, found, err := c.Subnet(ctx, key[0], key[1], key[2], key[3])
			return answer(sn, found, err)
		}},
		{Name: KindEC2SecurityGroups, Keys: 3, TTL: ttl, Func: func(ctx context.Context, key []string) (json.RawMessage, error) {
			sgs, found, err := c.SecurityGroups(ctx, key[0], key[1], strings.Split(key[2], ","))
			return answer(sgs, found, err)
		}},
		{Name: KindEC2UserData, Keys: 3, TTL: ttl, Func: func(ctx context.Context, key []string) (json.RawMessage, error) {
			b64, found, err := c.UserData(ctx, key[0], key[1], key[2])
			if err != nil || !found {
				return nil, err
			}
			u, ok := taupage.Decode(b64)
			if !ok {
				return nil, nil // no parseable user data: "not found"
			}
			return answer(userData{u.ApplicationID, u.ApplicationVersion, u.Runtime, u.Source}, true, nil)
		}},
	}
}

// userData is the answer of ec2.user_data: the Taupage fields, absent
// when blank.
type userData struct {
	ApplicationID      string `json:"application_id,omitempty"`
	ApplicationVersion string `json:"application_version,omitempty"`
	Runtime            string `json:"runtime,omitempty"`
	Source             string `json:"source,omitempty"`
}

func answer(v any, found bool, err error) (json.RawMessage, error) {
	if err != nil || !found {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode the answer: %w", err)
	}
	return b, nil
}

// Metrics are the lookups' Prometheus metrics, labelled by kind.
type Metrics struct {
	Calls     *prometheus.CounterVec   // calls made (cache misses), by kind
	CacheHits *prometheus.CounterVec   // answers from the cache, by kind
	Errors    *prometheus.CounterVec   // calls that failed, by kind
	Latency   *prometheus.HistogramVec // call latency, by kind
}

// NewMetrics returns the lookups' metrics, registered with reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fullstop_lookup_calls_total", Help: "Lookups made (answers not in the cache), by kind.",
		}, []string{"kind"}),
		CacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fullstop_lookup_cache_hits_total", Help: "Lookups answered from the cache, by kind.",
		}, []string{"kind"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fullstop_lookup_errors_total", Help: "Lookups that failed (the objects needing them are retried by a later batch), by kind.",
		}, []string{"kind"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fullstop_lookup_duration_seconds", Help: "Latency of the lookups made, by kind.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5},
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.Calls, m.CacheHits, m.Errors, m.Latency)
	}
	return m
}

func (m *Metrics) hit(kind string) {
	if m != nil {
		m.CacheHits.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) call(kind string, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.Calls.WithLabelValues(kind).Inc()
	m.Latency.WithLabelValues(kind).Observe(d.Seconds())
	if err != nil {
		m.Errors.WithLabelValues(kind).Inc()
	}
}
