package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

func claim(t *testing.T, st *Store, holder string, ttl time.Duration, keys ...string) []string {
	t.Helper()
	got, err := st.LedgerClaim(context.Background(), holder, keys, ttl)
	if err != nil {
		t.Fatalf("claim %v for %s: %v", keys, holder, err)
	}
	slices.Sort(got)
	return got
}

func holders(t *testing.T, st *Store) string {
	t.Helper()
	var s string
	err := st.pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(object_key || '=' || holder, ',' ORDER BY object_key), '')
		FROM fullstop_data.ledger_claim`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLedgerClaim(t *testing.T) {
	t.Parallel()
	st := setup(t)
	ctx := context.Background()
	if got := claim(t, st, "A", time.Minute, "a", "b", "b"); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("first claim = %v, want [a b]", got)
	}
	// Held by A: B gets only what is free.
	if got := claim(t, st, "B", time.Minute, "a", "b", "c"); fmt.Sprint(got) != "[c]" {
		t.Fatalf("B's claim = %v, want [c]", got)
	}
	// A claiming again renews its own.
	if got := claim(t, st, "A", time.Minute, "a", "c"); fmt.Sprint(got) != "[a]" {
		t.Fatalf("A's second claim = %v, want [a]", got)
	}
	if n, err := st.LedgerRenew(ctx, "A", time.Minute); err != nil || n != 2 {
		t.Fatalf("renew A = %d, %v; want 2", n, err)
	}
	// An expired lease is taken over.
	exec(t, st, `UPDATE fullstop_data.ledger_claim SET expires_at = now() - interval '1 second' WHERE holder = 'B'`)
	if got := claim(t, st, "A", time.Minute, "c"); fmt.Sprint(got) != "[c]" {
		t.Fatalf("claim of an expired lease = %v, want [c]", got)
	}
	if h := holders(t, st); h != "a=A,b=A,c=A" {
		t.Fatalf("leases = %s", h)
	}
	// Release of some, and the group commit and a content failure drop
	// their leases in the same transaction.
	if err := st.LedgerRelease(ctx, "A", []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ViolationCommitGroup(ctx, "A", []etl.ObjectDone{object("b")}, rules.Findings{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LedgerMarkFailed(ctx, "A", etl.ObjectFailed{Key: "c", Reason: "decode: bad"}, 3); err != nil {
		t.Fatal(err)
	}
	if h := holders(t, st); h != "" {
		t.Fatalf("leases after release, commit and failure = %q, want none", h)
	}
	// Another holder's lease is never dropped by a release.
	claim(t, st, "B", time.Minute, "x")
	if err := st.LedgerRelease(ctx, "A", nil); err != nil {
		t.Fatal(err)
	}
	if h := holders(t, st); h != "x=B" {
		t.Fatalf("leases = %q, want x=B", h)
	}
	if _, err := st.LedgerClaim(ctx, "", []string{"k"}, time.Minute); err == nil {
		t.Fatal("claim without a holder succeeded")
	}
}

// TestLedgerClaim_concurrent has several holders claim the same keys at
// once, some of the leases expired: every key goes to exactly one.
func TestLedgerClaim_concurrent(t *testing.T) {
	t.Parallel()
	st := setup(t)
	const n, holdersN = 400, 6
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%04d", i)
	}
	// Half the keys carry an expired lease of a dead holder.
	claim(t, st, "dead", time.Minute, keys[:n/2]...)
	exec(t, st, `UPDATE fullstop_data.ledger_claim SET expires_at = now() - interval '1 second'`)
	var mu sync.Mutex
	owner := map[string]string{}
	var g errgroup.Group
	for h := range holdersN {
		name := fmt.Sprint("h", h)
		g.Go(func() error {
			for i := 0; i < n; i += 16 {
				got, err := st.LedgerClaim(context.Background(), name, keys[i:i+16], time.Minute)
				if err != nil {
					return err
				}
				mu.Lock()
				for _, k := range got {
					if o, ok := owner[k]; ok {
						mu.Unlock()
						return fmt.Errorf("%s claimed by %s and %s", k, o, name)
					}
					owner[k] = name
				}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(owner) != n {
		t.Fatalf("%d of %d keys claimed", len(owner), n)
	}
}

func TestLedger_rewriteIsRecorded(t *testing.T) {
	t.Parallel()
	st := setup(t)
	ctx := context.Background()
	obj := object("a")
	commit(t, st, []etl.ObjectDone{obj})
	// The same version again is a concurrent batch's: dropped.
	if res := commit(t, st, []etl.ObjectDone{obj}); res.Objects != 0 {
		t.Fatalf("same version committed again: %+v", res)
	}
	rewritten := obj
	rewritten.ETag, rewritten.Size = "etag-a2", 120
	if res := commit(t, st, []etl.ObjectDone{rewritten}); res.Objects != 1 {
		t.Fatalf("rewritten object not committed: %+v", res)
	}
	e, err := st.LedgerGet(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if e.ETag != "etag-a2" || e.Size != 120 || e.PreviousETag != "etag-a" || e.PreviousSize == nil || *e.PreviousSize != 100 ||
		e.RewrittenAt == nil || e.Rewrites != 1 || e.Attempts != 1 {
		t.Fatalf("ledger row after rewrite = %+v", e)
	}
	// Only the size changed: a rewrite too.
	sized := rewritten
	sized.Size = 130
	commit(t, st, []etl.ObjectDone{sized})
	if e, _ := st.LedgerGet(ctx, "a"); e.Rewrites != 2 || e.PreviousETag != "etag-a2" || *e.PreviousSize != 120 {
		t.Fatalf("ledger row after a size change = %+v", e)
	}
	// A quarantined object with a new version counts attempts from 1.
	f := etl.ObjectFailed{Key: "q", ETag: "v1", Size: 5, Reason: "decode: bad"}
	for range 2 {
		if _, err := st.LedgerMarkFailed(ctx, "test", f, 2); err != nil {
			t.Fatal(err)
		}
	}
	f.ETag = "v2"
	q, err := st.LedgerMarkFailed(ctx, "test", f, 2)
	if err != nil || q {
		t.Fatalf("failure of a new version = %v, %v; want not quarantined", q, err)
	}
	if e, _ := st.LedgerGet(ctx, "q"); e.Attempts != 1 || e.PreviousETag != "v1" || e.Rewrites != 1 {
		t.Fatalf("ledger row of a rewritten failed object = %+v", e)
	}
	rows, err := st.LedgerList(ctx, LedgerFilter{Rewritten: true})
	if err != nil || len(rows) != 2 || rows[0].Key != "a" || rows[1].Key != "q" {
		t.Fatalf("rewritten rows = %+v, %v", rows, err)
	}
}

func TestLedgerListAndRetry(t *testing.T) {
	t.Parallel()
	st := setup(t)
	ctx := context.Background()
	commit(t, st, []etl.ObjectDone{object("done1"), object("done2")})
	for _, k := range []string{"failed1", "quar1", "quar2"} {
		max := 1
		if k == "failed1" {
			max = 3
		}
		if _, err := st.LedgerMarkFailed(ctx, "test", etl.ObjectFailed{Key: k, ETag: "e", Size: 1, Reason: "decode: bad"}, max); err != nil {
			t.Fatal(err)
		}
	}
	keysOf := func(rows []LedgerEntry) string {
		var ks []string
		for _, r := range rows {
			ks = append(ks, r.Key+":"+r.Status)
		}
		return strings.Join(ks, ",")
	}
	for _, tt := range []struct {
		f    LedgerFilter
		want string
	}{
		{LedgerFilter{}, "done1:done,done2:done,failed1:failed,quar1:quarantined,quar2:quarantined"},
		{LedgerFilter{Statuses: []string{etl.StatusQuarantined}}, "quar1:quarantined,quar2:quarantined"},
		{LedgerFilter{Statuses: []string{etl.StatusFailed, etl.StatusQuarantined}, Limit: 2}, "failed1:failed,quar1:quarantined"},
		{LedgerFilter{Statuses: []string{}}, ""},
	} {
		rows, err := st.LedgerList(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if got := keysOf(rows); got != tt.want {
			t.Errorf("LedgerList(%+v) = %s, want %s", tt.f, got, tt.want)
		}
	}
	released, err := st.LedgerRetry(ctx, nil, []string{etl.StatusQuarantined})
	slices.Sort(released)
	if err != nil || fmt.Sprint(released) != "[quar1 quar2]" {
		t.Fatalf("retry quarantined = %v, %v", released, err)
	}
	released, err = st.LedgerRetry(ctx, []string{"done1", "missing"}, nil)
	if err != nil || fmt.Sprint(released) != "[done1]" {
		t.Fatalf("retry by key = %v, %v", released, err)
	}
	states, err := st.LedgerStates(ctx, []string{"quar1", "done1"})
	if err != nil {
		t.Fatal(err)
	}
	if s := states["quar1"]; s.Status != etl.StatusFailed || s.Attempts != 0 {
		t.Errorf("released quarantined row = %+v, want failed with 0 attempts", s)
	}
	if s := states["done1"]; s.Status != etl.StatusFailed || s.Attempts != 0 {
		t.Errorf("released done row = %+v, want failed with 0 attempts", s)
	}
	e, _ := st.LedgerGet(ctx, "quar1")
	if !strings.Contains(e.Error, "released for retry") || !strings.Contains(e.Error, "decode: bad") {
		t.Errorf("released row's error = %q", e.Error)
	}
	// A released object is committed by the next batch.
	if res := commit(t, st, []etl.ObjectDone{object("done1")}); res.Objects != 1 {
		t.Errorf("commit of a released done object = %+v", res)
	}
	if _, err := st.LedgerRetry(ctx, nil, nil); err == nil {
		t.Error("retry of nothing succeeded")
	}
}

func TestOpen_silentServerTimesOut(t *testing.T) {
	t.Parallel()
	addr := pgtest.SilentServer(t)
	for _, tt := range []struct {
		name string
		url  string
		cfg  *Config
	}{
		{"connect timeout", "postgres://u@" + addr + "/x?sslmode=disable", &Config{ConnectTimeout: 500 * time.Millisecond}},
		{"connect_timeout in the url wins", "postgres://u@" + addr + "/x?sslmode=disable&connect_timeout=1", &Config{ConnectTimeout: time.Hour}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			st, err := Open(context.Background(), tt.url, tt.cfg)
			if err == nil {
				st.Close()
				t.Fatal("Open of a silent server succeeded")
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("Open took %s", d)
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("error %v does not wrap ErrUnavailable", err)
			}
		})
	}
}

// TestStore_stalledServer stalls the server under an open store (a proxy
// stops forwarding): calls fail within the statement and transaction
// timeouts with ErrUnavailable, and a lost connection says so.
func TestStore_stalledServer(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	if err := open(t, url).Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	px := pgtest.NewProxy(t, url)
	ctx := context.Background()
	pst, err := Open(ctx, px.URL, &Config{StatementTimeout: 700 * time.Millisecond, TransactionTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer pst.Close()
	if _, err := pst.LedgerStates(ctx, []string{"a"}); err != nil {
		t.Fatalf("before the stall: %v", err)
	}
	px.Stall()
	for name, call := range map[string]func() error{
		"states": func() error { _, err := pst.LedgerStates(ctx, []string{"a"}); return err },
		"claim":  func() error { _, err := pst.LedgerClaim(ctx, "h", []string{"a"}, time.Minute); return err },
		"commit": func() error {
			_, err := pst.ViolationCommitGroup(ctx, "h", []etl.ObjectDone{object("a")}, rules.Findings{Violations: []rules.Violation{violation("e1")}})
			return err
		},
	} {
		start := time.Now()
		err := call()
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s took %s against a stalled server", name, d)
		}
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "did not answer") {
			t.Errorf("%s against a stalled server: %v; want ErrUnavailable naming the timeout", name, err)
		}
	}
	px.Resume()
	if _, err := pst.LedgerStates(ctx, []string{"a"}); err != nil {
		t.Fatalf("after the stall: %v", err)
	}
	px.Cut()
	_, err = pst.LedgerStates(ctx, []string{"a"})
	t.Logf("after the cut: %v", err)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("after the connection was cut: %v; want ErrUnavailable", err)
	}
}
