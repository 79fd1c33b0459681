//go:build duckdb_arrow

package duckdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fixtureResolver answers lookups from a case's lookups.json:
//
//	{"ec2.image": [{"key": ["123", "eu-west-1", "ami-1"], "answer": {...}},
//	               {"key": [...], "answer": null},          // not found
//	               {"key": [...], "error": "throttled"}]}   // a transient failure
//
// A key the file does not name is an error, so a case names every lookup
// its events need. It counts the calls per kind and key.
type fixtureResolver struct {
	answers map[string]map[string]fixtureAnswer
	mu      sync.Mutex
	calls   map[string]int // kind + " " + key
}

type fixtureAnswer struct {
	Key    []string        `json:"key"`
	Answer json.RawMessage `json:"answer"`
	Error  string          `json:"error"`
}

// loadFixtureResolver reads dir/lookups.json; nil when there is none, so
// the rules that need lookups are disabled as in a fullstop without them.
func loadFixtureResolver(t testing.TB, dir string) *fixtureResolver {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "lookups.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var byKind map[string][]fixtureAnswer
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&byKind); err != nil {
		t.Fatalf("lookups.json: %v", err)
	}
	return newFixtureResolver(byKind)
}

func newFixtureResolver(byKind map[string][]fixtureAnswer) *fixtureResolver {
	r := &fixtureResolver{answers: map[string]map[string]fixtureAnswer{}, calls: map[string]int{}}
	for kind, as := range byKind {
		r.answers[kind] = map[string]fixtureAnswer{}
		for _, a := range as {
			r.answers[kind][strings.Join(a.Key, " ")] = a
		}
	}
	return r
}

func (r *fixtureResolver) LookupKinds() []string {
	var out []string
	for k := range r.answers {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (r *fixtureResolver) Lookup(ctx context.Context, kind string, key []string) (json.RawMessage, error) {
	k := strings.Join(key, " ")
	r.mu.Lock()
	r.calls[kind+" "+k]++
	r.mu.Unlock()
	a, ok := r.answers[kind][k]
	switch {
	case !ok:
		return nil, fmt.Errorf("lookups.json names no answer for %s %q", kind, k)
	case a.Error != "":
		return nil, errors.New(a.Error)
	case len(a.Answer) == 0 || string(a.Answer) == "null":
		return nil, nil
	}
	return a.Answer, nil
}

// callsTo returns how often kind was asked for key.
func (r *fixtureResolver) callsTo(kind string, key ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[kind+" "+strings.Join(key, " ")]
}
