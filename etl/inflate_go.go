//go:build !libdeflate

package etl

import (
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// inflater decompresses with klauspost/compress.
type inflater struct{}

func newInflater() inflater { return inflater{} }

func (inflater) close() {}

// gunzip appends the decompressed members of in to out, up to maxOut bytes.
func (inflater) gunzip(out, in []byte, maxOut int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(in))
	if err != nil {
		return out, fmt.Errorf("gunzip: %w", err)
	}
	buf := bytes.NewBuffer(out)
	buf.Grow(sizeHint(in, maxOut))
	n, err := buf.ReadFrom(io.LimitReader(zr, maxOut+1))
	out = buf.Bytes()
	if err != nil {
		return out, fmt.Errorf("gunzip: %w", err)
	}
	if n > maxOut {
		return out, fmt.Errorf("object decompresses to more than %d bytes: %w", maxOut, ErrTooLarge)
	}
	return out, nil
}
