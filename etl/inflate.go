package etl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is returned by Inflater.Inflate for an object larger than
// its compressed or decompressed limit.
var ErrTooLarge = errors.New("object too large")

// gzipMagic starts every gzip member.
var gzipMagic = []byte{0x1f, 0x8b}

// Inflater turns a whole log object into its plain JSON: gunzipped when it
// starts with the gzip magic bytes (concatenated members too), as it is
// otherwise. It keeps its buffers between objects; the bytes Inflate
// returns are valid until its next call. An Inflater is not safe for
// concurrent use: use one per worker, and Close it.
//
// Built with the tag libdeflate, it decompresses with libdeflate through
// cgo (about twice as fast as klauspost/compress, which is used otherwise).
type Inflater struct {
	in  bytes.Buffer
	out []byte
	z   inflater
}

// NewInflater returns an Inflater.
func NewInflater() *Inflater { return &Inflater{z: newInflater()} }

// Close frees the inflater's native resources.
func (f *Inflater) Close() { f.z.close() }

// Inflate reads r to its end and returns the plain bytes. More than maxIn
// bytes read or more than maxOut bytes decompressed fail with ErrTooLarge.
func (f *Inflater) Inflate(r io.Reader, maxIn, maxOut int64) ([]byte, error) {
	f.in.Reset()
	n, err := f.in.ReadFrom(io.LimitReader(r, maxIn+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if n > maxIn {
		return nil, fmt.Errorf("object is more than %d bytes: %w", maxIn, ErrTooLarge)
	}
	return f.InflateBytes(f.in.Bytes(), maxOut)
}

// InflateBytes is Inflate over an object already in memory. The result may
// share in's memory when in is not compressed.
func (f *Inflater) InflateBytes(in []byte, maxOut int64) ([]byte, error) {
	if !bytes.HasPrefix(in, gzipMagic) {
		if int64(len(in)) > maxOut {
			return nil, fmt.Errorf("object is more than %d bytes: %w", maxOut, ErrTooLarge)
		}
		return in, nil
	}
	out, err := f.z.gunzip(f.out[:0], in, maxOut)
	if cap(out) > cap(f.out) {
		f.out = out[:0]
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sizeHint guesses the decompressed size of a gzip member from its trailer
// (ISIZE, the size modulo 2^32 of the last member) and the compressed size.
func sizeHint(in []byte, maxOut int64) int {
	hint := int64(len(in)) * 8
	if len(in) >= 18 {
		t := in[len(in)-4:]
		if isize := int64(t[0]) | int64(t[1])<<8 | int64(t[2])<<16 | int64(t[3])<<24; isize > hint {
			hint = isize
		}
	}
	return int(min(hint+1, maxOut+1))
}
