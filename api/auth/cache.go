package auth

import (
	"fmt"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// ttlCache is a bounded least-recently-used cache whose entries expire:
// each after the cache's TTL at the latest, earlier when added with a
// shorter one. It is safe for concurrent use.
type ttlCache[K comparable, V any] struct {
	lru *expirable.LRU[K, cacheEntry[V]]
	ttl time.Duration
}

// cacheEntry is a cached value with the moment it stops being valid.
type cacheEntry[V any] struct {
	value V
	until time.Time
}

// minSweepTTL is the least TTL given to the underlying LRU, which sweeps
// expired entries in a hundred steps per TTL and cannot sweep in steps
// shorter than a nanosecond. Entries kept shorter expire on time all the
// same: get checks their own deadline.
const minSweepTTL = time.Second

// newTTLCache returns a cache of at most size entries, each kept at most
// ttl. Both must be positive.
func newTTLCache[K comparable, V any](size int, ttl time.Duration) *ttlCache[K, V] {
	lru := expirable.NewLRU[K, cacheEntry[V]](size, nil, max(ttl, minSweepTTL))
	return &ttlCache[K, V]{lru: lru, ttl: ttl}
}

// get returns the value cached for k, if it is still valid.
func (c *ttlCache[K, V]) get(k K) (V, bool) {
	e, ok := c.lru.Get(k)
	if !ok {
		var zero V
		return zero, false
	}
	if !time.Now().Before(e.until) {
		c.lru.Remove(k)
		var zero V
		return zero, false
	}
	return e.value, true
}

// add caches v for k during ttl, shortened to the cache's TTL; a ttl of
// zero or less caches nothing.
func (c *ttlCache[K, V]) add(k K, v V, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	ttl = min(ttl, c.ttl)
	c.lru.Add(k, cacheEntry[V]{value: v, until: time.Now().Add(ttl)})
}

// len returns the number of entries held, expired ones included until
// they are swept.
func (c *ttlCache[K, V]) len() int { return c.lru.Len() }

// cacheSettings applies the defaults to a configured TTL and size and
// rejects negative ones; what names the cache in the error.
func cacheSettings(what string, ttl, defaultTTL time.Duration, size, defaultSize int) (time.Duration, int, error) {
	if ttl < 0 {
		return 0, 0, fmt.Errorf("%s cache TTL %s is negative", what, ttl)
	}
	if size < 0 {
		return 0, 0, fmt.Errorf("%s cache size %d is negative", what, size)
	}
	if ttl == 0 {
		ttl = defaultTTL
	}
	if size == 0 {
		size = defaultSize
	}
	return ttl, size, nil
}
