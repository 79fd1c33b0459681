package etl

import (
	"context"
	"io"
	"time"
)

// Object is one object (file) in a Source.
type Object struct {
	Key          string
	Size         int64
	ETag         string
	LastModified time.Time
}

// Listing is one page-merged LIST answer: the objects directly under a
// prefix and, with a delimiter, the common prefixes (sub-folders, each
// ending in the delimiter).
type Listing struct {
	Objects  []Object
	Prefixes []string
	// Skipped are entries the source saw under the prefix but offers
	// neither as an object nor as a folder, each with the reason: a
	// folder source's symbolic links and unreadable entries. The lister
	// logs each one once per batch; one such entry never fails a listing.
	Skipped []SkippedEntry
}

// SkippedEntry is an entry a listing left out, and why.
type SkippedEntry struct {
	Key    string // the entry's key (a folder's without the trailing "/")
	Reason string
}

// Source is where CloudTrail log objects are read from: an S3 bucket
// (etl/s3) or a local folder with the same key layout (etl/file).
type Source interface {
	// List lists keys starting with prefix. With delimiter "/" it returns
	// only the objects directly under prefix and the sub-folder prefixes;
	// with "" it returns every object below prefix. Keys are sorted.
	List(ctx context.Context, prefix, delimiter string) (Listing, error)
	// Open opens an object for reading. A missing key is os.ErrNotExist.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// String names the source for logs, e.g. "s3://bucket/prefix".
	String() string
}
