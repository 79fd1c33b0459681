package etl

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// LakeWriter stores the decoded events of an object in the events lake
// (etl/lake implements it). The pipeline calls it for every decoded object
// before the object's ledger row commits, so that an object the ledger
// holds as done is in the lake; a crash between the two leaves the object
// to the next batch, which writes it again. LakeWrite must therefore
// replace whatever an earlier write of the same object left, never add to
// it, and must be safe for concurrent use.
type LakeWriter interface {
	LakeWrite(ctx context.Context, c Candidate, batches []arrow.RecordBatch) error
}
