// The module's import rules, checked on the code itself: which package may
// import which (docs/architecture.md), and no import back into a folder
// that imports the importer.
package fullstop_test

import (
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/fullstop-audit/fullstop"

// mayImport is the table of docs/architecture.md: for each package of the
// module (a trailing "/..." matches the folder and everything below it),
// the packages of the module it may import. A package of the module that
// the table does not name fails the test: add it here and to the
// architecture document.
var mayImport = map[string][]string{
	"cmd/...":            {"..."}, // wiring: flags fill each package's Config
	"api/...":            {"api/...", "store", "rules", "jobs", "etl/instancedata", "lookup/taupage"},
	"etl/instancedata":   {"rules"},
	"jobs/...":           {"jobs/...", "rules", "lookup/..."},
	"store":              {"etl", "rules", "migrations", "sql"},
	"store/pgtest":       {},
	"etl":                {"etl/event", "rules"},
	"etl/file":           {"etl"},
	"etl/s3":             {"etl"},
	"etl/s3/s3test":      {},
	"etl/sourcetest":     {"etl"},
	"etl/lake":           {"etl", "etl/event", "rules"},
	"etl/event":          {},
	"rules/duckdb":       {"rules", "sql"},
	"rules/duckdb/audit": {"sql"},
	"rules":              {},
	"rules/fixture":      {"rules"},
	"rules/sigma":        {"rules"},
	"lookup":             {"lookup/aws", "lookup/iamrole", "lookup/kio", "lookup/pierone", "lookup/scm", "lookup/taupage"},
	"lookup/kio":         {"lookup/httpjson"},
	"lookup/pierone":     {"lookup/httpjson"},
	"lookup/teamservice": {"lookup/httpjson"},
	"lookup/...":         {},
	"sql":                {},
	"migrations":         {},
}

// tagSets are the build configurations the rules must hold in: a plain
// `go build` and the one the Makefile uses.
var tagSets = [][]string{nil, {"duckdb_arrow", "libdeflate"}}

// modulePackages returns the module's packages (paths relative to the
// module, "" for the root) with the module packages each imports, outside
// tests, built with tags.
func modulePackages(t *testing.T, tags []string) map[string][]string {
	t.Helper()
	ctx := build.Default
	ctx.BuildTags = tags
	pkgs := map[string][]string{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); p != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "bin") {
			return filepath.SkipDir
		}
		bp, err := ctx.ImportDir(p, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(p)
		if rel == "." {
			rel = ""
		}
		var imports []string
		for _, imp := range bp.Imports {
			if r, ok := strings.CutPrefix(imp, module+"/"); ok {
				imports = append(imports, r)
			}
		}
		pkgs[rel] = imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("found %d packages; is the test running in the module root?", len(pkgs))
	}
	return pkgs
}

// matches reports whether pkg matches pattern ("a/b" or "a/...").
func matches(pattern, pkg string) bool {
	if pattern == "..." {
		return true
	}
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == dir || strings.HasPrefix(pkg, dir+"/")
	}
	return pkg == pattern
}

// inside reports whether pkg is the folder dir or below it.
func inside(pkg, dir string) bool {
	return pkg == dir || strings.HasPrefix(pkg, dir+"/")
}

// TestImports_followTheArchitecture checks every import of the module's
// packages against mayImport.
func TestImports_followTheArchitecture(t *testing.T) {
	t.Parallel()
	for _, tags := range tagSets {
		for pkg, imports := range modulePackages(t, tags) {
			if pkg == "" {
				continue // this test
			}
			var allowed []string
			named := false
			for pattern, list := range mayImport {
				if matches(pattern, pkg) {
					named = true
					allowed = append(allowed, list...)
				}
			}
			if !named {
				t.Errorf("package %s is not in the import table (imports_test.go, docs/architecture.md)", pkg)
				continue
			}
			for _, imp := range imports {
				if !slices.ContainsFunc(allowed, func(p string) bool { return matches(p, imp) }) {
					t.Errorf("tags %q: %s imports %s; it may import only %q", tags, pkg, imp, allowed)
				}
			}
		}
	}
}

// importsBack returns the imports that break the one-way rule: P imports
// Q, and a package in a folder holding Q (but not P) imports P.
func importsBack(pkgs map[string][]string) []string {
	var out []string
	for p, imports := range pkgs {
		for _, q := range imports {
			for dir := q; dir != "." && dir != ""; dir = path.Dir(dir) {
				if inside(p, dir) {
					break
				}
				for r, rImports := range pkgs {
					if inside(r, dir) && slices.Contains(rImports, p) {
						out = append(out, p+" imports "+q+", but "+r+" (in folder "+dir+"/) imports "+p+" back")
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestImports_runOneWay checks that no package imports a package inside a
// folder that imports it back.
func TestImports_runOneWay(t *testing.T) {
	t.Parallel()
	for _, tags := range tagSets {
		for _, v := range importsBack(modulePackages(t, tags)) {
			t.Errorf("tags %q: %s", tags, v)
		}
	}
}

// TestImportsBack checks the one-way rule itself on small graphs, among
// them the module as it was before the rule (rules imported etl/event for
// the event schema while etl imported rules).
func TestImportsBack(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		pkgs map[string][]string
		want []string
	}{
		{"one way", map[string][]string{
			"cmd/fullstop": {"etl", "store", "rules/duckdb"}, "store": {"etl", "rules"}, "etl": {"etl/event", "rules"},
			"etl/s3": {"etl"}, "etl/event": nil, "rules/duckdb": {"rules", "sql"}, "rules": nil, "sql": nil,
		}, nil},
		{"rules reads the schema of etl/event", map[string][]string{
			"etl": {"etl/event", "rules"}, "etl/event": nil, "rules": {"etl/event"},
		}, []string{"rules imports etl/event, but etl (in folder etl/) imports rules back"}},
		{"a sibling imports back", map[string][]string{
			"store": {"etl"}, "etl": nil, "etl/lake": {"store"},
		}, []string{"store imports etl, but etl/lake (in folder etl/) imports store back"}},
		{"a direct cycle", map[string][]string{"a": {"b"}, "b": {"a"}}, []string{
			"a imports b, but b (in folder b/) imports a back", "b imports a, but a (in folder a/) imports b back",
		}},
	} {
		if got := importsBack(tt.pkgs); !slices.Equal(got, tt.want) {
			t.Errorf("%s: importsBack = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestImports_tableMatchesArchitectureDoc checks that docs/architecture.md
// names every package pattern of the table.
func TestImports_tableMatchesArchitectureDoc(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	for pattern := range mayImport {
		if !strings.Contains(string(doc), "`"+pattern+"`") {
			t.Errorf("docs/architecture.md does not name `%s`", pattern)
		}
	}
}
