//go:build duckdb_arrow

package etl_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/rules/duckdb"
)

// outageResolver answers every AMI lookup with an AMI that is not a
// Taupage AMI, or, while down, fails as a throttled EC2 API does.
type outageResolver struct {
	down  atomic.Bool
	calls atomic.Int64
}

func (r *outageResolver) LookupKinds() []string { return []string{"ec2.image"} }

func (r *outageResolver) Lookup(_ context.Context, _ string, key []string) (json.RawMessage, error) {
	r.calls.Add(1)
	if r.down.Load() {
		return nil, errors.New("api error RequestLimitExceeded: Request limit exceeded")
	}
	return json.RawMessage(`{"image_id":"` + key[2] + `","name":"amzn2-ami","owner_id":"137112412989"}`), nil
}

// A lookup that fails leaves the objects that need it out of the ledger,
// with the reason, while the others are committed; the run after the
// outage produces their violations.
func TestPipeline_LookupFailureLeavesItsObjectsForALaterRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := fileSource(t, invictusRoot)
	e := newEnv(t, src, "")
	res := &outageResolver{}
	res.down.Store(true)
	eng, err := duckdb.New(ctx, duckdb.Config{Schema: event.Schema, Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	withEngine := func(c *etl.Config) { c.Evaluator = eng; c.Workers = 2 }

	first := e.run(t, withEngine, day, nextDay)
	if len(first.Unread) == 0 || len(first.Failed) != 0 {
		t.Fatalf("run during the outage: unread %v, failed %v; want the objects with launches unread", first.Unread, first.Failed)
	}
	ledger := e.ledger(t)
	for _, u := range first.Unread {
		if !strings.Contains(u.Reason, "RequestLimitExceeded") || !strings.Contains(u.Reason, "ec2.image") {
			t.Errorf("unread %s: reason %q, want the lookup and its error", u.Key, u.Reason)
		}
		if _, ok := ledger[u.Key]; ok {
			t.Errorf("object %s is in the ledger although a lookup it needs failed", u.Key)
		}
	}
	if first.Objects+len(first.Unread) != 55 || first.Objects == 0 {
		t.Fatalf("run during the outage: %d processed, %d unread; want the other objects of the 55 processed", first.Objects, len(first.Unread))
	}
	for _, v := range e.violations(t) {
		if v.Type == "WRONG_AMI" {
			t.Fatalf("WRONG_AMI stored during the outage: %+v", v)
		}
	}

	res.down.Store(false)
	second := e.run(t, withEngine, day, nextDay)
	if second.Objects != len(first.Unread) || len(second.Unread) != 0 {
		t.Fatalf("run after the outage: %d processed, unread %v; want the %d left", second.Objects, second.Unread, len(first.Unread))
	}
	n := 0
	for _, v := range e.violations(t) {
		if v.Type == "WRONG_AMI" {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no WRONG_AMI after the outage: the launches of the real logs were not evaluated again")
	}
}
