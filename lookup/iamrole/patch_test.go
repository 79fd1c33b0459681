package iamrole

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// This file holds a small RFC 6902 applier, for tests only: it checks that
// the patches Check writes turn one document into the other.

type testOp struct {
	Op    string          `json:"op"`
	From  *string         `json:"from"`
	Path  *string         `json:"path"`
	Value json.RawMessage `json:"value"`
}

// applyPatch applies the RFC 6902 patch to doc (a tree from parse, which it
// may modify) and returns the result.
func applyPatch(doc any, patch []byte) (any, error) {
	var ops []testOp
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ops); err != nil {
		return nil, fmt.Errorf("decode patch: %w", err)
	}
	if ops == nil {
		return nil, fmt.Errorf("patch is not an array: %s", patch)
	}
	for i, op := range ops {
		var err error
		doc, err = applyOp(doc, op)
		if err != nil {
			return nil, fmt.Errorf("operation %d (%s): %w", i, op.Op, err)
		}
	}
	return doc, nil
}

func applyOp(doc any, op testOp) (any, error) {
	if op.Path == nil {
		return nil, fmt.Errorf("no path")
	}
	path, err := pointer(*op.Path)
	if err != nil {
		return nil, err
	}
	value := func() (any, error) {
		if op.Value == nil {
			return nil, fmt.Errorf("no value")
		}
		return parse(op.Value)
	}
	from := func() ([]string, error) {
		if op.From == nil {
			return nil, fmt.Errorf("no from")
		}
		return pointer(*op.From)
	}
	switch op.Op {
	case "add":
		v, err := value()
		if err != nil {
			return nil, err
		}
		return addAt(doc, path, v)
	case "remove":
		if op.Value != nil {
			return nil, fmt.Errorf("remove with a value")
		}
		return removeAt(doc, path)
	case "replace":
		v, err := value()
		if err != nil {
			return nil, err
		}
		if _, err := getAt(doc, path); err != nil {
			return nil, err
		}
		return setAt(doc, path, v)
	case "move", "copy":
		f, err := from()
		if err != nil {
			return nil, err
		}
		v, err := getAt(doc, f)
		if err != nil {
			return nil, err
		}
		if op.Op == "move" {
			if doc, err = removeAt(doc, f); err != nil {
				return nil, err
			}
		} else {
			v = deepCopy(v)
		}
		return addAt(doc, path, v)
	case "test":
		v, err := value()
		if err != nil {
			return nil, err
		}
		got, err := getAt(doc, path)
		if err != nil {
			return nil, err
		}
		if !reflect.DeepEqual(got, v) {
			return nil, fmt.Errorf("test failed")
		}
		return doc, nil
	}
	return nil, fmt.Errorf("unknown op")
}

func pointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("bad pointer %q", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func index(tok string, n int, appendOK bool) (int, error) {
	if appendOK && tok == "-" {
		return n, nil
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || i > n || (!appendOK && i == n) || (tok != "0" && strings.HasPrefix(tok, "0")) {
		return 0, fmt.Errorf("bad index %q for length %d", tok, n)
	}
	return i, nil
}

func getAt(doc any, path []string) (any, error) {
	for _, tok := range path {
		switch c := doc.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
			doc = v
		case []any:
			i, err := index(tok, len(c), false)
			if err != nil {
				return nil, err
			}
			doc = c[i]
		default:
			return nil, fmt.Errorf("%q into a scalar", tok)
		}
	}
	return doc, nil
}

// setAt replaces the existing value (or object member) at path.
func setAt(doc any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := getAt(doc, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch c := parent.(type) {
	case map[string]any:
		c[last] = v
	case []any:
		i, err := index(last, len(c), false)
		if err != nil {
			return nil, err
		}
		c[i] = v
	default:
		return nil, fmt.Errorf("%q into a scalar", last)
	}
	return doc, nil
}

func addAt(doc any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := getAt(doc, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch c := parent.(type) {
	case map[string]any:
		c[last] = v
		return doc, nil
	case []any:
		i, err := index(last, len(c), true)
		if err != nil {
			return nil, err
		}
		return setAt(doc, path[:len(path)-1], slices.Insert(slices.Clone(c), i, v))
	}
	return nil, fmt.Errorf("%q into a scalar", last)
}

func removeAt(doc any, path []string) (any, error) {
	if len(path) == 0 {
		return nil, fmt.Errorf("remove the root")
	}
	parent, err := getAt(doc, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch c := parent.(type) {
	case map[string]any:
		if _, ok := c[last]; !ok {
			return nil, fmt.Errorf("no member %q", last)
		}
		delete(c, last)
		return doc, nil
	case []any:
		i, err := index(last, len(c), false)
		if err != nil {
			return nil, err
		}
		return setAt(doc, path[:len(path)-1], slices.Delete(slices.Clone(c), i, i+1))
	}
	return nil, fmt.Errorf("%q into a scalar", last)
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}
