//go:build libdeflate

package etl

/*
#cgo LDFLAGS: -l:libdeflate.a
#include <libdeflate.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// inflater decompresses with libdeflate.
type inflater struct {
	d *C.struct_libdeflate_decompressor
}

func newInflater() inflater {
	return inflater{d: C.libdeflate_alloc_decompressor()}
}

func (z inflater) close() {
	if z.d != nil {
		C.libdeflate_free_decompressor(z.d)
	}
}

// gunzip appends the decompressed members of in to out. libdeflate needs
// the whole output buffer up front: it is sized from the trailer and grown
// when too small, up to maxOut.
func (z inflater) gunzip(out, in []byte, maxOut int64) ([]byte, error) {
	if z.d == nil {
		return out, errors.New("gunzip: libdeflate: no decompressor (out of memory)")
	}
	for len(in) > 0 {
		want := max(sizeHint(in, maxOut-int64(len(out))), 1)
		for {
			if cap(out)-len(out) < want {
				grown := make([]byte, len(out), len(out)+want)
				copy(grown, out)
				out = grown
			}
			var inUsed, outUsed C.size_t
			free := out[len(out):cap(out)]
			res := C.libdeflate_gzip_decompress_ex(z.d,
				unsafe.Pointer(&in[0]), C.size_t(len(in)),
				unsafe.Pointer(&free[0]), C.size_t(len(free)),
				&inUsed, &outUsed)
			switch res {
			case C.LIBDEFLATE_SUCCESS:
				out = out[:len(out)+int(outUsed)]
				in = in[int(inUsed):]
			case C.LIBDEFLATE_INSUFFICIENT_SPACE:
				if int64(len(out))+int64(len(free)) > maxOut {
					return out, fmt.Errorf("object decompresses to more than %d bytes: %w", maxOut, ErrTooLarge)
				}
				want = int(min(int64(len(free))*2, maxOut-int64(len(out))+1))
				continue
			default:
				return out, fmt.Errorf("gunzip: corrupt or truncated gzip data (libdeflate result %d)", int(res))
			}
			break
		}
		if int64(len(out)) > maxOut {
			return out, fmt.Errorf("object decompresses to more than %d bytes: %w", maxOut, ErrTooLarge)
		}
	}
	return out, nil
}
