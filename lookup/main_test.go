package lookup_test

import (
	"testing"

	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
)

// TestMain stops the MinIO server the role-template tests start.
func TestMain(m *testing.M) { s3test.Main(m) }
