package event

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// TestDecode_readers decodes a real document through readers that return
// it in pieces, without Len, or with io.EOF on the last piece: the result
// is the same as from a bytes.Reader.
func TestDecode_readers(t *testing.T) {
	t.Parallel()
	var data []byte
	for _, b := range invictusFiles(t) {
		if len(b) > len(data) {
			data = b
		}
	}
	want := decodeRows(t, bytes.NewReader(data))
	readers := map[string]io.Reader{
		"one byte at a time": iotest.OneByteReader(bytes.NewReader(data)),
		"half reads":         iotest.HalfReader(bytes.NewReader(data)),
		"EOF with the data":  iotest.DataErrReader(bytes.NewReader(data)),
		"no Len":             io.MultiReader(bytes.NewReader(data[:1000]), bytes.NewReader(data[1000:])),
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := decodeRows(t, r)
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			for i := range got {
				compareRow(t, name, got[i], want[i])
			}
		})
	}
}

func decodeRows(t *testing.T, r io.Reader) []map[string]any {
	t.Helper()
	d := newTestDecoder(t, 0)
	res, err := d.Decode(r, Origin{Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(res.Release)
	rows := rowsOf(t, res, defaultBatchSize)
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	return rows
}
