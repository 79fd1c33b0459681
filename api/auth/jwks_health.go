package auth

import (
	"context"
	"errors"
	"sync"

	"github.com/MicahParks/jwkset"
)

// jwksHealth records the outcome of the key set's fetches, which keyfunc
// does not expose: a key it cannot find reads as "key not found" whether
// the identity provider answered without it or did not answer at all.
//
// Failures are reported by jwkset's RefreshErrorHandler, which it calls
// for the first fetch, the periodic ones and those for an unknown key id.
// Successes are seen by trackedStorage, the store the fetched keys are
// written to: jwkset replaces its keys only after a fetch was answered and
// parsed. The latest outcome wins.
type jwksHealth struct {
	mu      sync.Mutex
	loaded  bool  // a fetch succeeded once
	lastErr error // the error of the latest fetch, nil after a success
}

// errJWKSNeverLoaded is the cause given before any fetch completed.
var errJWKSNeverLoaded = errors.New("the key set was never loaded")

// succeeded records a fetch that loaded the key set.
func (h *jwksHealth) succeeded() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.loaded, h.lastErr = true, nil
}

// failed records a fetch that failed with err.
func (h *jwksHealth) failed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastErr = err
}

// problem returns nil when the latest fetch succeeded, else why the key
// set is not (or no longer) known.
func (h *jwksHealth) problem() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.lastErr != nil && !h.loaded:
		return errors.Join(errJWKSNeverLoaded, h.lastErr)
	case h.lastErr != nil:
		return h.lastErr
	case !h.loaded:
		return errJWKSNeverLoaded
	}
	return nil
}

// trackedStorage is the in-memory store of the fetched keys, telling
// health of every successful fetch.
type trackedStorage struct {
	*jwkset.MemoryJWKSet
	health *jwksHealth
}

// KeyReplaceAll stores the keys of a successful fetch.
func (s trackedStorage) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	if err := s.MemoryJWKSet.KeyReplaceAll(ctx, given); err != nil {
		return err
	}
	s.health.succeeded()
	return nil
}
