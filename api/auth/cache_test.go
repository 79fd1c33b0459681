package auth

import (
	"testing"
	"time"
)

func TestTTLCache(t *testing.T) {
	c := newTTLCache[string, int](2, 100*time.Millisecond)
	c.add("a", 1, time.Hour) // shortened to the cache's TTL
	c.add("b", 2, 20*time.Millisecond)
	c.add("c", 3, 0) // not cached
	if v, ok := c.get("a"); !ok || v != 1 {
		t.Errorf("get(a) = %d, %v", v, ok)
	}
	if _, ok := c.get("c"); ok {
		t.Error("an entry added with a zero TTL is cached")
	}
	time.Sleep(40 * time.Millisecond)
	if _, ok := c.get("b"); ok {
		t.Error("an entry is served past its own TTL")
	}
	time.Sleep(80 * time.Millisecond)
	if _, ok := c.get("a"); ok {
		t.Error("an entry is served past the cache's TTL")
	}
	for i := range 5 {
		c.add(string(rune('d'+i)), i, time.Hour)
	}
	if n := c.len(); n > 2 {
		t.Errorf("the cache holds %d entries, want at most 2", n)
	}
}

func TestTTLCacheTinyTTL(t *testing.T) {
	c := newTTLCache[string, int](1, time.Nanosecond) // must not panic
	c.add("a", 1, time.Nanosecond)
	time.Sleep(time.Millisecond)
	if _, ok := c.get("a"); ok {
		t.Error("an entry is served past its TTL")
	}
}
