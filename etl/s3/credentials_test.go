package s3_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl/s3"
)

// credentialsCeiling is far above how long New may take to find no
// credentials; passing it means New did not hang.
const credentialsCeiling = 10 * time.Second

// TestNew_noCredentials runs New on a machine with no AWS credentials,
// whose instance metadata service does not answer, refuses connections or
// is disabled: New fails soon with a one-line ErrNoCredentials.
func TestNew_noCredentials(t *testing.T) {
	tests := []struct {
		name string
		env  func(t *testing.T)
	}{
		{name: "imds silent", env: func(t *testing.T) {
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+silentServer(t))
		}},
		{name: "imds refuses", env: func(t *testing.T) {
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+refusingAddr(t))
		}},
		{name: "imds disabled", env: func(t *testing.T) {
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		}},
		{name: "missing profile", env: func(t *testing.T) {
			t.Setenv("AWS_PROFILE", "no-such-profile")
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t)
			tt.env(t)
			start := time.Now()
			src, err := s3.New(context.Background(), s3.Config{Bucket: "bucket", Prefix: "logs"})
			elapsed := time.Since(start)
			t.Logf("after %v: %v", elapsed.Round(time.Millisecond), err)
			if err == nil {
				t.Fatalf("New succeeded without credentials: %v", src)
			}
			if !errors.Is(err, s3.ErrNoCredentials) {
				t.Errorf("error does not wrap ErrNoCredentials: %v", err)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, want := range []string{"s3://bucket/logs", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_EC2_METADATA_DISABLED"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not name %s: %q", want, msg)
				}
			}
			if len(msg) > 600 {
				t.Errorf("error of %d bytes, want a short cause: %q", len(msg), msg)
			}
			if elapsed > credentialsCeiling {
				t.Errorf("New took %v, want well below %v", elapsed, credentialsCeiling)
			}
		})
	}
}

// TestNew_credentialsTimeout checks that CredentialsTimeout bounds the
// retrieval.
func TestNew_credentialsTimeout(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+silentServer(t))
	start := time.Now()
	_, err := s3.New(context.Background(), s3.Config{Bucket: "bucket", CredentialsTimeout: 200 * time.Millisecond})
	elapsed := time.Since(start)
	t.Logf("after %v: %v", elapsed.Round(time.Millisecond), err)
	if !errors.Is(err, s3.ErrNoCredentials) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("New: %v; want ErrNoCredentials and context.DeadlineExceeded", err)
	}
	if elapsed > credentialsCeiling {
		t.Errorf("New took %v, want about 200ms", elapsed)
	}
}

// TestNew_cancelled checks that a cancelled context is not reported as
// missing credentials.
func TestNew_cancelled(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+silentServer(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s3.New(ctx, s3.Config{Bucket: "bucket"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, s3.ErrNoCredentials) {
		t.Errorf("New with a cancelled context: %v; want context.Canceled, not ErrNoCredentials", err)
	}
}

func TestNew_staticCredentials(t *testing.T) {
	staticCredentials(t)
	if _, err := s3.New(context.Background(), s3.Config{Bucket: "bucket"}); err != nil {
		t.Fatalf("New with static credentials: %v", err)
	}
	// Static credentials are found without the metadata service.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+silentServer(t))
	start := time.Now()
	if _, err := s3.New(context.Background(), s3.Config{Bucket: "bucket"}); err != nil {
		t.Fatalf("New with static credentials: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("New with static credentials took %v", d)
	}
}
