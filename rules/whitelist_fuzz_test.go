package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/ohler55/ojg/jp"
)

// FuzzWhitelistMatch compiles rules of random JSONPaths and regexes and
// matches them against random meta_info: compiling and matching must not
// panic, a rule that does not compile must be refused with the field at
// fault, and a rule that compiles must match as the conjunction of its
// criteria, the same way every time.
func FuzzWhitelistMatch(f *testing.F) {
	seeds := []struct{ path, regex, owner, meta string }{
		{granteesPath, "", "", `{"grantees":["arn:aws:iam::999888777666:root"], "x":1}`},
		{granteesPath, "", "", `{"grantees":["arn:aws:iam::999888777666:root","other"]}`},
		{userNamePath, "", "", `{"user_name":"ses.ci-master-42"}`},
		{userNamePath, "", "", `[{"user_name":"sesXci-master-42"}]`},
		{"$.ami_name", "ubuntu.*", "099720109477", `{"ami_name":"ubuntu-22.04","ami_owner_id":"099720109477"}`},
		{"$..user_name", "(a)\\1", "", `{"a":{"user_name":1}}`},
		{"$.grantees[0]", "", "1", `{"grantees":[],"ami_owner_id":1}`},
		{"$[?(!@.a && @.b || @.c)]", "", "", `{"b":1}`},
		{"$..[?(@ == $)]", "", "", `[[1],{"a":[1]}]`},
		{"$[?(@.a in [['x'], 1])]", "", "", `{"a":"1"}`},
		{"$[?(@.a =~ /x/i)]", "", "", `{"a":"X"}`},
		{"$[-2:][?(@.a empty false)]", "", "", `[{"a":""},{"a":[1]}]`},
		{"$['a','b'][*]", "", "", `{"a":[null],"b":{}}`},
		{"", "", "", "not json"},
		{"$[", "(", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.path, s.regex, s.owner, s.meta)
	}
	f.Fuzz(func(t *testing.T, path, regex, owner, meta string) {
		rule := WhitelistRule{AccountID: "1", ImageName: regex, ImageOwner: owner, MetaInfoJSONPath: path}
		r, err := CompileWhitelistRule(rule)
		if err != nil {
			var re *WhitelistRuleError
			if r != nil || !errors.As(err, &re) || re.Field != FieldImageName && re.Field != FieldMetaInfoJSONPath {
				t.Fatalf("CompileWhitelistRule = %v, %v", r, err)
			}
			if verr := rule.Validate(); !errors.As(verr, &re) {
				t.Fatalf("Validate = %v after %v", verr, err)
			}
			return
		}
		if err := rule.Validate(); err != nil {
			t.Fatalf("Validate = %v for a rule that compiles", err)
		}

		c := WhitelistCandidate{AccountID: "1", MetaInfo: meta}
		got := r.Matches(c)
		if again := r.Matches(c); again != got {
			t.Fatalf("Matches = %v, then %v", got, again)
		}
		if found := (Whitelist{r}).Match(c); (found == r) != got || found != nil && found != r {
			t.Fatalf("Whitelist.Match = %v, Matches = %v", found, got)
		}

		// Each criterion alone; the rule is their conjunction.
		want := true
		for _, single := range []WhitelistRule{
			{AccountID: "1"},
			{ImageName: regex},
			{ImageOwner: owner},
			{MetaInfoJSONPath: path},
		} {
			s, err := CompileWhitelistRule(single)
			if err != nil {
				t.Fatalf("CompileWhitelistRule(%+v) = %v, but the whole rule compiles", single, err)
			}
			if single.Validate() == nil && !s.Matches(c) {
				want = false
			}
		}
		if got != want {
			t.Fatalf("Matches = %v, the conjunction of the criteria %v", got, want)
		}

		// Spaces around the criteria do not change the rule.
		padded := rule
		padded.ImageName, padded.ImageOwner, padded.MetaInfoJSONPath = " "+regex+"\t", "\n"+owner+" ", " "+path+" "
		p, err := CompileWhitelistRule(padded)
		if err != nil || p.Matches(c) != got {
			t.Fatalf("padded rule: %v, %v; want a rule matching %v", p, err, got)
		}
		// Without filters Jayway and ojg select the same nodes.
		if doc, ok := parseJSON(meta); ok && r.metaPath != nil && !strings.Contains(path, "?") {
			norm, err := normalizeJaywayPath(strings.TrimSpace(path))
			if err != nil {
				t.Fatalf("normalizeJaywayPath: %v after the path compiled", err)
			}
			if x, err := jp.ParseString(norm); err == nil {
				if ojg := len(x.Get(doc)) > 0; r.metaPath.selects(doc) != ojg {
					t.Fatalf("%s selects %v, ojg's Get %v", norm, !ojg, ojg)
				}
			}
		}
		// Another account never matches.
		if c.AccountID = "2"; r.Matches(c) {
			t.Fatalf("matched another account")
		}
	})
}
