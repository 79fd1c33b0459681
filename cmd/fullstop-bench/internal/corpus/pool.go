// Package corpus generates a benchmark corpus of CloudTrail log files by
// resampling real records: every record gets a fresh event id, an event
// time inside its file's day, and the account and region of the key it is
// delivered under. Files follow CloudTrail's key layout and are gzipped.
// Generation is deterministic: the same Config and source records give the
// same bytes, however many goroutines write them.
package corpus

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/etl/event"
)

// slot is a value filled in per generated record.
type slot uint8

const (
	slotEventID slot = iota
	slotEventTime
	slotRegion
	slotRecipient
	slotIdentityAccount
	numSlots
)

// sentinels are the JSON strings a template carries where a slot goes.
var sentinels = [numSlots]string{
	slotEventID:         `"@@fullstop-bench:eventID@@"`,
	slotEventTime:       `"@@fullstop-bench:eventTime@@"`,
	slotRegion:          `"@@fullstop-bench:awsRegion@@"`,
	slotRecipient:       `"@@fullstop-bench:recipientAccountId@@"`,
	slotIdentityAccount: `"@@fullstop-bench:userIdentity.accountId@@"`,
}

// template is one source record, split around its slots: parts[i] comes
// before slots[i], and parts has one more element than slots.
type template struct {
	parts [][]byte
	slots []slot
}

// Pool is the set of real CloudTrail records a corpus is resampled from.
type Pool struct {
	templates []template
	// Sources counts the records taken from each source folder.
	Sources map[string]int
	digest  string
}

// Len returns the number of records in the pool.
func (p *Pool) Len() int { return len(p.templates) }

// Digest identifies the pool's content; a cached corpus made from another
// pool is stale.
func (p *Pool) Digest() string { return p.digest }

// LoadPool reads the real records under dir (testdata/cloudtrail): the
// .json.gz logs of invictus/, the JSON arrays of stratus/ and the
// {"Records":[...]} documents of fullstop-fixtures/. Files that are not
// CloudTrail (user-data YAML, account lists) are left out, and so is any
// record the project's decoder would skip.
func LoadPool(dir string) (*Pool, error) {
	p := &Pool{Sources: map[string]int{}}
	h := sha256.New()
	for _, src := range []string{"invictus", "stratus", "fullstop-fixtures"} {
		root := filepath.Join(dir, src)
		var files []string
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && (strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".json.gz")) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load records: walk %s: %w", root, err)
		}
		slices.Sort(files)
		for _, f := range files {
			recs, err := readRecords(f)
			if err != nil {
				return nil, err
			}
			for _, raw := range recs {
				t, ok, err := newTemplate(raw)
				if err != nil {
					return nil, fmt.Errorf("load records: %s: %w", f, err)
				}
				if !ok {
					continue
				}
				p.templates = append(p.templates, t)
				p.Sources[src]++
				for i, part := range t.parts {
					h.Write(part)
					if i < len(t.slots) {
						h.Write([]byte{0, byte(t.slots[i])})
					}
				}
			}
		}
	}
	if len(p.templates) == 0 {
		return nil, fmt.Errorf("load records: no CloudTrail records under %s", dir)
	}
	p.digest = hex.EncodeToString(h.Sum(nil)[:8])
	return p, nil
}

// readRecords returns the records of a file: the elements of a top-level
// array or of a "Records" member whose elements are all objects. Other
// documents give no records.
func readRecords(path string) ([]json.RawMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load records: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("load records: gunzip %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("load records: read %s: %w", path, err)
	}
	data = bytes.TrimSpace(data)
	var recs []json.RawMessage
	switch {
	case bytes.HasPrefix(data, []byte("[")):
		err = json.Unmarshal(data, &recs)
	case bytes.HasPrefix(data, []byte("{")):
		var doc struct {
			Records []json.RawMessage `json:"Records"`
		}
		err = json.Unmarshal(data, &doc)
		recs = doc.Records
	}
	if err != nil {
		return nil, fmt.Errorf("load records: parse %s: %w", path, err)
	}
	for _, r := range recs {
		if !bytes.HasPrefix(bytes.TrimSpace(r), []byte("{")) {
			return nil, nil // an array of something else: not CloudTrail
		}
	}
	return recs, nil
}

// newTemplate turns a record into a template. ok is false when the record
// is not one the decoder accepts once its slots are filled.
func newTemplate(raw json.RawMessage) (t template, ok bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return template{}, false, fmt.Errorf("parse record: %w", err)
	}
	unquote := func(s slot) string { return strings.Trim(sentinels[s], `"`) }
	m["eventID"] = unquote(slotEventID)
	m["eventTime"] = unquote(slotEventTime)
	m["awsRegion"] = unquote(slotRegion)
	m["recipientAccountId"] = unquote(slotRecipient)
	if ui, ok := m["userIdentity"].(map[string]any); ok {
		if _, has := ui["accountId"]; has {
			ui["accountId"] = unquote(slotIdentityAccount)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return template{}, false, fmt.Errorf("encode record: %w", err)
	}
	rest := bytes.TrimSpace(buf.Bytes())
	for {
		at, which := -1, slot(0)
		for s := range numSlots {
			if i := bytes.Index(rest, []byte(sentinels[s])); i >= 0 && (at < 0 || i < at) {
				at, which = i, s
			}
		}
		if at < 0 {
			t.parts = append(t.parts, bytes.Clone(rest))
			break
		}
		t.parts = append(t.parts, bytes.Clone(rest[:at]))
		t.slots = append(t.slots, which)
		rest = rest[at+len(sentinels[which]):]
	}
	return t, t.decodes(), nil
}

// decodes reports whether the template, filled with sample values, is a
// record the project's decoder accepts.
func (t template) decodes() bool {
	vals := slotValues{
		eventID: "00000000-0000-4000-8000-000000000000",
		time:    time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		region:  "us-east-1",
		account: "123456789012",
	}
	doc := append([]byte(`{"Records":[`), t.append(nil, &vals)...)
	doc = append(doc, "]}"...)
	d := event.NewDecoder(nil, 0)
	defer d.Release()
	res, err := d.Decode(bytes.NewReader(doc), event.Origin{Key: "sample"})
	if err != nil {
		return false
	}
	defer res.Release()
	return res.Events == 1 && res.Skipped == 0
}

// slotValues are the values of one generated record.
type slotValues struct {
	eventID string
	time    time.Time
	region  string
	account string
}

// append appends the record with its slots filled to b.
func (t template) append(b []byte, v *slotValues) []byte {
	for i, part := range t.parts {
		b = append(b, part...)
		if i == len(t.slots) {
			break
		}
		b = append(b, '"')
		switch t.slots[i] {
		case slotEventID:
			b = append(b, v.eventID...)
		case slotEventTime:
			b = v.time.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
		case slotRegion:
			b = append(b, v.region...)
		case slotRecipient, slotIdentityAccount:
			b = append(b, v.account...)
		}
		b = append(b, '"')
	}
	return b
}

// errEmptyPool is returned when a corpus is asked of a pool without records.
var errEmptyPool = errors.New("corpus: empty record pool")
