package store

import (
	"context"
	"strings"
	"testing"
	"time"
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
			{"x", false, StatusFailed, 1},
			{"x", false, StatusFailed, 2},
			{"x", true, StatusQuarantined, 3},
		}},
		{"one attempt allowed", 1, []attempt{
			{"x", true, StatusQuarantined, 1},
		}},
		{"a new version starts again", 3, []attempt{
			{"x", false, StatusFailed, 1},
			{"x", false, StatusFailed, 2},
			{"y", false, StatusFailed, 1},
			{"y", false, StatusFailed, 2},
			{"y", true, StatusQuarantined, 3},
		}},
		{"no etag", 2, []attempt{
			{"", false, StatusFailed, 1},
			{"", true, StatusQuarantined, 2},
		}},
	}
	st := setup(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			key := "AWSLogs/" + tt.name
			for i, a := range tt.attempts {
				f := ObjectFailed{Key: key, ETag: a.etag, Size: 42, Reason: "decode: unexpected EOF",
					StartedAt: t0, FinishedAt: t0.Add(time.Second)}
				q, err := st.LedgerMarkFailed(ctx, f, tt.maxAttempts)
				if err != nil {
					t.Fatalf("attempt %d: %v", i+1, err)
				}
				states, err := st.LedgerStates(ctx, []string{key})
				if err != nil {
					t.Fatalf("ledger states: %v", err)
				}
				want := ObjectState{Key: key, ETag: a.etag, Size: 42, Status: a.wantStatus, Attempts: a.wantAttempts}
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
	_, err := st.LedgerMarkFailed(context.Background(), ObjectFailed{Key: "k"}, 0)
	if err == nil || !strings.Contains(err.Error(), "max attempts 0") {
		t.Errorf("max attempts 0: error %v, want one naming the bad value", err)
	}
	long := strings.Repeat("é", maxReasonBytes) // two bytes each
	if _, err := st.LedgerMarkFailed(context.Background(), ObjectFailed{Key: "k", Reason: long}, 3); err != nil {
		t.Fatalf("mark failed: %v", err)
	}
	if row, _ := readLedger(t, st, "k"); len(row.errText) != maxReasonBytes || !strings.HasPrefix(long, row.errText) {
		t.Errorf("stored error of %d bytes, want the reason cut to %d bytes", len(row.errText), maxReasonBytes)
	}
}
