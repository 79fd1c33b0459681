package lake

import (
	"context"

	"github.com/fullstop-audit/fullstop/etl"
)

// Store is where the lake's files are kept: a folder (etl/file.Source) or
// an S3 bucket (etl/s3.Source).
type Store interface {
	etl.Source
	// Put stores data as the object key, atomically: a reader sees the
	// whole object or the previous one, never part of it.
	Put(ctx context.Context, key string, data []byte) error
	// Delete removes the object key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// ReadAt reads len(p) bytes of the object key from offset off.
	ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error)
}

// localStore is a Store whose objects are local files, which a reader
// such as DuckDB can open in place.
type localStore interface {
	Path(key string) string
}
