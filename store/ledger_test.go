package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
)

func TestLedgerMarkFailed(t *testing.T) {
	t.Parallel()
	type attempt struct {
		etag            string
		wantQuarantined bool
		wantStatus      string
		wantAttempts    int
	}
	tests := []struct {
		name        string
		maxAttempts int
		attempts    []attempt
	}{
		{"quarantined at the third attempt", 3, []attempt{
			{"x", false, etl.StatusFailed, 1},
			{"x", false, etl.StatusFailed, 2},
			{"x", true, etl.StatusQuarantined, 3},
		}},
		{"one attempt allowed", 1, []attempt{
			{"x", true, etl.StatusQuarantined, 1},
		}},
		{"a new version starts again", 3, []attempt{
			{"x", false, etl.StatusFailed, 1},
			{"x", false, etl.StatusFailed, 2},
			{"y", false, etl.StatusFailed, 1},
			{"y", false, etl.StatusFailed, 2},
			{"y", true, etl.StatusQuarantined, 3},
		}},
		{"no etag", 2, []attempt{
			{"", false, etl.StatusFailed, 1},
			{"", true, etl.StatusQuarantined, 2},
		}},
	}
	st := setup(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			key := "AWSLogs/" + tt.name
			for i, a := range tt.attempts {
				f := etl.ObjectFailed{Key: key, ETag: a.etag, Size: 42, Reason: "decode: unexpected EOF",
					StartedAt: t0, FinishedAt: t0.Add(time.Second)}
				q, err := st.LedgerMarkFailed(ctx, "test", f, tt.maxAttempts)
				if err != nil {
					t.Fatalf("attempt %d: %v", i+1, err)
				}
				states, err := st.LedgerStates(ctx, []string{key})
				if err != nil {
					t.Fatalf("ledger states: %v", err)
				}
				want := etl.ObjectState{Key: key, ETag: a.etag, Size: 42, Status: a.wantStatus, Attempts: a.wantAttempts}
				if q != a.wantQuarantined || states[key] != want {
					t.Errorf("attempt %d: quarantined %v, state %+v; want %v, %+v", i+1, q, states[key], a.wantQuarantined, want)
				}
			}
			row, _ := readLedger(t, st, key)
			if row.errText != "decode: unexpected EOF" || row.duration != "1000" || row.events != "<nil>" {
				t.Errorf("ledger row = %+v, want the error, a duration of 1000 ms and no counts", row)
			}
		})
	}
}

func TestLedgerMarkFailed_errors(t *testing.T) {
	t.Parallel()
	st := setup(t)
	_, err := st.LedgerMarkFailed(context.Background(), "test", etl.ObjectFailed{Key: "k"}, 0)
	if err == nil || !strings.Contains(err.Error(), "max attempts 0") {
		t.Errorf("max attempts 0: error %v, want one naming the bad value", err)
	}
	long := strings.Repeat("é", maxReasonBytes) // two bytes each
	if _, err := st.LedgerMarkFailed(context.Background(), "test", etl.ObjectFailed{Key: "k", Reason: long}, 3); err != nil {
		t.Fatalf("mark failed: %v", err)
	}
	if row, _ := readLedger(t, st, "k"); len(row.errText) != maxReasonBytes || !strings.HasPrefix(long, row.errText) {
		t.Errorf("stored error of %d bytes, want the reason cut to %d bytes", len(row.errText), maxReasonBytes)
	}
}

func TestLedgerGetAndList(t *testing.T) {
	t.Parallel()
	st := setup(t)
	ctx := context.Background()
	if rows, err := st.LedgerList(ctx, LedgerFilter{}); err != nil || len(rows) != 0 {
		t.Fatalf("empty ledger: %v, %v", rows, err)
	}
	if _, err := st.LedgerGet(ctx, "AWSLogs/none"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "AWSLogs/none") {
		t.Fatalf("LedgerGet of a missing key: %v, want ErrNotFound naming the key", err)
	}
	done := etl.ObjectDone{Key: "b", ETag: "e1", Size: 10, Events: 5, Skipped: 1, SkipReasons: []string{"record 2: bad"},
		Violations: 2, StartedAt: t0, FinishedAt: t0.Add(1500 * time.Millisecond)}
	if _, err := st.ViolationCommitGroup(ctx, "test", []etl.ObjectDone{done}, rules.Findings{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LedgerMarkFailed(ctx, "test", etl.ObjectFailed{Key: "a", Size: 3, Reason: "gunzip: bad", StartedAt: t0, FinishedAt: t0}, 3); err != nil {
		t.Fatal(err)
	}
	got, err := st.LedgerGet(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != "b" || got.ETag != "e1" || got.Size != 10 || got.Status != etl.StatusDone || *got.Events != 5 ||
		*got.SkippedRecords != 1 || got.SkipReasons != "record 2: bad" || *got.Violations != 2 || got.Error != "" ||
		got.Attempts != 1 || !got.FirstAttemptAt.Equal(t0) || !got.FinishedAt.Equal(t0.Add(1500*time.Millisecond)) || *got.DurationMS != 1500 {
		t.Errorf("LedgerGet(b) = %+v", got)
	}
	rows, err := st.LedgerList(ctx, LedgerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Key != "a" || rows[1].Key != "b" {
		t.Fatalf("LedgerList = %+v, want a and b in key order", rows)
	}
	if a := rows[0]; a.Status != etl.StatusFailed || a.Error != "gunzip: bad" || a.ETag != "" || a.Events != nil || a.Violations != nil {
		t.Errorf("failed row %+v", a)
	}
}
