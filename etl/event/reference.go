package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// This file holds the reference path: the document walked with a
// json.Decoder. Decode uses it only for a document the scanner rejected,
// to report the error encoding/json finds, as the decoder always has:
// *json.SyntaxError, io.ErrUnexpectedEOF, "data after the document" or
// ErrNotCloudTrail. Each record goes through the same record.read as on the
// fast path, so that if the reference path decodes a document, the result
// is the same.

// zeros pads a record for the scanner.
var zeros [padLen]byte

// decodeReference decodes the document in r with a json.Decoder.
func (d *Decoder) decodeReference(r io.Reader, o Origin, res *Result) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err == io.EOF {
		return fmt.Errorf("read document: empty: %w", ErrNotCloudTrail)
	}
	if err != nil {
		return fmt.Errorf("read document: %w", err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("read document: a JSON %s, want an object: %w", tokenKind(tok), ErrNotCloudTrail)
	}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("read document: %w", unexpectedEOF(err))
		}
		if tok != "Records" {
			if err := dec.Decode(&d.raw); err != nil {
				return fmt.Errorf("read document: %w", unexpectedEOF(err))
			}
			continue
		}
		if found {
			return fmt.Errorf("read document: two Records members: %w", ErrNotCloudTrail)
		}
		found = true
		if err := d.decodeRecordsReference(dec, o, res); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return fmt.Errorf("read document: %w", unexpectedEOF(err))
	}
	switch _, err := dec.Token(); {
	case err == io.EOF:
	case err == nil:
		return errors.New("read document: data after the document")
	default:
		return fmt.Errorf("read document end: %w", err)
	}
	if !found {
		return fmt.Errorf("read document: no Records: %w", ErrNotCloudTrail)
	}
	return nil
}

func (d *Decoder) decodeRecordsReference(dec *json.Decoder, o Origin, res *Result) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("read Records: %w", unexpectedEOF(err))
	}
	switch tok {
	case nil: // "Records": null, a document without events
		return nil
	case json.Delim('['):
	default:
		return fmt.Errorf("read Records: a JSON %s, want an array: %w", tokenKind(tok), ErrNotCloudTrail)
	}
	for i := 0; dec.More(); i++ {
		if err := dec.Decode(&d.raw); err != nil {
			return fmt.Errorf("read record %d: %w", i, unexpectedEOF(err))
		}
		n := len(d.raw)
		p := append(d.raw, zeros[:]...)
		d.raw = p[:n]
		end, rerr := d.rec.read(p, 0, d.maxRecordBytes)
		if end != n {
			return fmt.Errorf("read record %d: the scanner rejects what encoding/json accepts", i)
		}
		d.add(o, i, rerr, res)
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return fmt.Errorf("read Records: %w", unexpectedEOF(err))
	}
	return nil
}

// unexpectedEOF turns the end of input inside a document into
// io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// tokenKind names the JSON type a json.Decoder token starts.
func tokenKind(tok json.Token) string {
	switch tok {
	case json.Delim('{'):
		return "object"
	case json.Delim('['):
		return "array"
	case nil:
		return "null"
	}
	switch tok.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	default:
		return "number"
	}
}
