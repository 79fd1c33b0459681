package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Saved is a saved audit query: a file sql/queries/<name>.sql whose header
// of "-- key: value" comment lines gives its name, a description and its
// parameters, followed by one statement that uses them as $name.
//
//	-- name: actions-by-access-key
//	-- description: Every call made with one access key, oldest first.
//	-- param: access_key_id: the access key id (AKIA… or ASIA…)
//	-- param: limit: the most rows returned (default: 1000)
type Saved struct {
	Name        string
	Description string
	Params      []Param
	SQL         string // the whole file, header included
}

// Param is a parameter of a saved query.
type Param struct {
	Name        string
	Description string
	Default     string
	HasDefault  bool
}

var (
	savedName    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	paramDefault = regexp.MustCompile(`\s*\(default: ([^)]*)\)\s*$`)
)

// ParseSaved parses one saved query file; file is its name, for errors.
func ParseSaved(file, text string) (Saved, error) {
	s := Saved{SQL: text}
	var last *string // the value a continuation line extends
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		if !strings.HasPrefix(l, "--") {
			break
		}
		body := strings.TrimPrefix(l, "--")
		if strings.HasPrefix(body, "   ") && last != nil { // continuation
			*last += " " + strings.TrimSpace(body)
			continue
		}
		key, value, ok := strings.Cut(strings.TrimSpace(body), ":")
		if !ok || strings.Contains(key, " ") {
			last = nil
			continue
		}
		value = strings.TrimSpace(value)
		switch key {
		case "name":
			s.Name, last = value, &s.Name
		case "description":
			s.Description, last = value, &s.Description
		case "param":
			name, desc, _ := strings.Cut(value, ":")
			s.Params = append(s.Params, Param{Name: strings.TrimSpace(name), Description: strings.TrimSpace(desc)})
			last = &s.Params[len(s.Params)-1].Description
		default:
			last = nil
		}
	}
	for i := range s.Params {
		p := &s.Params[i]
		if m := paramDefault.FindStringSubmatch(p.Description); m != nil {
			p.Default, p.HasDefault = m[1], true
			p.Description = strings.TrimSpace(p.Description[:len(p.Description)-len(m[0])])
		}
	}
	switch {
	case s.Name == "":
		return s, fmt.Errorf("saved query %s: no -- name: line", file)
	case !savedName.MatchString(s.Name):
		return s, fmt.Errorf("saved query %s: name %q: want lower-case letters, digits and dashes", file, s.Name)
	case s.Description == "":
		return s, fmt.Errorf("saved query %s: no -- description: line", file)
	case strings.TrimSuffix(path.Base(file), ".sql") != s.Name:
		return s, fmt.Errorf("saved query %s: the file is not named after the query (%s.sql)", file, s.Name)
	}
	used := Params(s.SQL)
	var declared []string
	for _, p := range s.Params {
		if p.Name == "" || p.Description == "" {
			return s, fmt.Errorf("saved query %s: a param line wants NAME: description", file)
		}
		if !slices.Contains(used, p.Name) {
			return s, fmt.Errorf("saved query %s: parameter %s is declared but not used", file, p.Name)
		}
		declared = append(declared, p.Name)
	}
	for _, u := range used {
		if !slices.Contains(declared, u) {
			return s, fmt.Errorf("saved query %s: $%s is used but not declared with a -- param: line", file, u)
		}
	}
	return s, nil
}

// LoadSaved parses every *.sql file of fsys, sorted by name.
func LoadSaved(fsys fs.FS) ([]Saved, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []Saved
	var errs []error
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, err := ParseSaved(n, string(b))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

// Bind checks the values given for a statement's parameters against those
// it uses (and, for a saved query, those it declares): a parameter that is
// used but has no value and no default is an error naming it, and so is a
// value for a parameter the statement does not use. It returns the value
// of every used parameter.
func Bind(q string, declared []Param, given map[string]string) (map[string]string, error) {
	used := Params(q)
	out := map[string]string{}
	var missing []string
	for _, u := range used {
		v, ok := given[u]
		if !ok {
			i := slices.IndexFunc(declared, func(p Param) bool { return p.Name == u })
			if i >= 0 && declared[i].HasDefault {
				v, ok = declared[i].Default, true
			}
		}
		if !ok {
			desc := ""
			if i := slices.IndexFunc(declared, func(p Param) bool { return p.Name == u }); i >= 0 {
				desc = ": " + declared[i].Description
			}
			missing = append(missing, fmt.Sprintf("missing parameter %s (--param %s=VALUE)%s", u, u, desc))
			continue
		}
		out[u] = v
	}
	if len(missing) > 0 {
		return nil, errors.New(strings.Join(missing, "; "))
	}
	var unknown []string
	for g := range given {
		if !slices.Contains(used, g) {
			unknown = append(unknown, g)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		takes := "no parameters"
		if len(used) > 0 {
			takes = "only " + strings.Join(used, ", ")
		}
		return nil, fmt.Errorf("unknown parameter %s: the query takes %s", strings.Join(unknown, ", "), takes)
	}
	return out, nil
}
