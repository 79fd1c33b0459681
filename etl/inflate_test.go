package etl

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func gzipMembers(t *testing.T, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts {
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestInflater_Inflate(t *testing.T) {
	t.Parallel()
	rnd := make([]byte, 100_000)
	rand.Read(rnd)
	big := hex.EncodeToString(rnd) // 200 kB that compresses to about half
	doc := `{"Records":[]}`
	one := gzipMembers(t, big)
	lying := append(bytes.Clone(one[:len(one)-4]), 1, 0, 0, 0) // ISIZE says 1 byte
	tests := []struct {
		name          string
		in            []byte
		maxIn, maxOut int64
		want          string
		wantErr       string
		tooLarge      bool
	}{
		{name: "plain JSON", in: []byte(doc), maxIn: 100, maxOut: 100, want: doc},
		{name: "empty", in: nil, maxIn: 100, maxOut: 100, want: ""},
		{name: "gzip", in: gzipMembers(t, doc), maxIn: 100, maxOut: 100, want: doc},
		{name: "two members", in: gzipMembers(t, `{"Rec`, `ords":[]}`), maxIn: 100, maxOut: 100, want: doc},
		{name: "large member", in: one, maxIn: 1 << 20, maxOut: 1 << 20, want: big},
		{name: "trailer size lies", in: lying, maxIn: 1 << 20, maxOut: 1 << 20, wantErr: "gunzip"},
		{name: "exactly the limit", in: gzipMembers(t, doc), maxIn: 100, maxOut: int64(len(doc)), want: doc},
		{name: "one byte over the limit", in: gzipMembers(t, doc), maxIn: 100, maxOut: int64(len(doc)) - 1, tooLarge: true},
		{name: "bomb", in: gzipMembers(t, strings.Repeat(" ", 1<<20)), maxIn: 1 << 20, maxOut: 1000, tooLarge: true},
		{name: "compressed too large", in: one, maxIn: 1000, maxOut: 1 << 20, tooLarge: true},
		{name: "plain too large", in: []byte(doc), maxIn: 100, maxOut: 5, tooLarge: true},
		{name: "corrupt", in: append(bytes.Clone(one[:20]), "garbage garbage garbage"...), maxIn: 1 << 20, maxOut: 1 << 20, wantErr: "gunzip"},
		{name: "truncated", in: one[:len(one)/2], maxIn: 1 << 20, maxOut: 1 << 20, wantErr: "gunzip"},
		{name: "magic only", in: []byte{0x1f, 0x8b}, maxIn: 100, maxOut: 100, wantErr: "gunzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inf := NewInflater()
			defer inf.Close()
			for round := range 2 { // the second call reuses the buffers
				got, err := inf.Inflate(bytes.NewReader(tt.in), tt.maxIn, tt.maxOut)
				switch {
				case tt.tooLarge:
					if !errors.Is(err, ErrTooLarge) {
						t.Fatalf("round %d: error %v, want ErrTooLarge", round, err)
					}
				case tt.wantErr != "":
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, ErrTooLarge) {
						t.Fatalf("round %d: error %v, want one containing %q", round, err, tt.wantErr)
					}
				case err != nil:
					t.Fatalf("round %d: %v", round, err)
				case string(got) != tt.want:
					t.Fatalf("round %d: got %d bytes %.40q, want %d bytes", round, len(got), got, len(tt.want))
				}
			}
		})
	}
}

func BenchmarkInflater(b *testing.B) {
	rnd := make([]byte, 1<<20)
	rand.Read(rnd)
	in := gzipMembers(&testing.T{}, strings.Repeat(`{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","id":"`+hex.EncodeToString(rnd[:8])+`"}`, 20_000))
	inf := NewInflater()
	defer inf.Close()
	b.ReportAllocs()
	for b.Loop() {
		out, err := inf.Inflate(bytes.NewReader(in), 1<<30, 1<<30)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}
