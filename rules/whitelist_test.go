package rules

import (
	"errors"
	"strings"
	"testing"
)

// A candidate that every criterion of fullRule holds for.
var fullCandidate = WhitelistCandidate{
	AccountID:   "123456789012",
	Region:      "eu-west-1",
	Type:        "WRONG_AMI",
	MetaInfo:    `{"ami_name":"ubuntu-22.04","ami_owner_id":"099720109477","user_name":"ses.ci-master-42"}`,
	Application: "kio",
	Version:     "1.0",
}

var fullRule = WhitelistRule{
	ID:                 1,
	AccountID:          "123456789012",
	Region:             "eu-west-1",
	Type:               "WRONG_AMI",
	ImageName:          "ubuntu-.*",
	ImageOwner:         "099720109477",
	ApplicationID:      "kio",
	ApplicationVersion: "1.0",
	MetaInfoJSONPath:   "$.[?(@.user_name =~ /ses\\.ci-master-.+/)]",
	Reason:             "CI",
}

func mustCompile(t testing.TB, r WhitelistRule) *CompiledWhitelistRule {
	t.Helper()
	c, err := CompileWhitelistRule(r)
	if err != nil {
		t.Fatalf("CompileWhitelistRule(%+v): %v", r, err)
	}
	return c
}

func TestWhitelistCriteria(t *testing.T) {
	with := func(f func(*WhitelistCandidate)) WhitelistCandidate {
		c := fullCandidate
		f(&c)
		return c
	}
	tests := []struct {
		name string
		rule WhitelistRule
		c    WhitelistCandidate
		want bool
	}{
		{"account holds", WhitelistRule{AccountID: "123456789012"}, fullCandidate, true},
		{"account differs", WhitelistRule{AccountID: "123456789013"}, fullCandidate, false},
		{"account is exact", WhitelistRule{AccountID: "12345678901"}, fullCandidate, false},
		{"region holds", WhitelistRule{Region: "eu-west-1"}, fullCandidate, true},
		{"region differs", WhitelistRule{Region: "eu-central-1"}, fullCandidate, false},
		{"region is case sensitive", WhitelistRule{Region: "EU-WEST-1"}, fullCandidate, false},
		{"type holds", WhitelistRule{Type: "WRONG_AMI"}, fullCandidate, true},
		{"type differs", WhitelistRule{Type: "WRONG_REGION"}, fullCandidate, false},
		{"image name holds", WhitelistRule{ImageName: "ubuntu-.*"}, fullCandidate, true},
		{"image name differs", WhitelistRule{ImageName: "debian-.*"}, fullCandidate, false},
		{"image name without ami_name", WhitelistRule{ImageName: ".*"}, with(func(c *WhitelistCandidate) { c.MetaInfo = `{"x":1}` }), false},
		{"image name on a number ami_name", WhitelistRule{ImageName: ".*"}, with(func(c *WhitelistCandidate) { c.MetaInfo = `{"ami_name":1}` }), false},
		{"image name on array meta", WhitelistRule{ImageName: ".*"}, with(func(c *WhitelistCandidate) { c.MetaInfo = `[{"ami_name":"x"}]` }), false},
		{"image owner holds", WhitelistRule{ImageOwner: "099720109477"}, fullCandidate, true},
		{"image owner differs", WhitelistRule{ImageOwner: "099720109478"}, fullCandidate, false},
		{"image owner as a JSON number", WhitelistRule{ImageOwner: "99720109477"}, with(func(c *WhitelistCandidate) { c.MetaInfo = `{"ami_owner_id":99720109477}` }), true},
		{"image owner as a JSON number, other text", WhitelistRule{ImageOwner: "99720109477"}, with(func(c *WhitelistCandidate) { c.MetaInfo = `{"ami_owner_id":99720109477.0}` }), false},
		{"image owner missing", WhitelistRule{ImageOwner: "099720109477"}, with(func(c *WhitelistCandidate) { c.MetaInfo = `{"x":1}` }), false},
		{"image owner on array meta", WhitelistRule{ImageOwner: "099720109477"}, with(func(c *WhitelistCandidate) { c.MetaInfo = `[{"ami_owner_id":"099720109477"}]` }), false},
		{"image owner on string meta", WhitelistRule{ImageOwner: "099720109477"}, with(func(c *WhitelistCandidate) { c.MetaInfo = `"099720109477"` }), false},
		{"image owner on non-JSON meta", WhitelistRule{ImageOwner: "099720109477"}, with(func(c *WhitelistCandidate) { c.MetaInfo = `{"ami_owner_id":"099720109477"` }), false},
		{"image owner on empty meta", WhitelistRule{ImageOwner: "099720109477"}, with(func(c *WhitelistCandidate) { c.MetaInfo = "" }), false},
		{"application holds", WhitelistRule{ApplicationID: "kio"}, fullCandidate, true},
		{"application differs", WhitelistRule{ApplicationID: "pierone"}, fullCandidate, false},
		{"application absent", WhitelistRule{ApplicationID: "kio"}, with(func(c *WhitelistCandidate) { c.Application = "" }), false},
		{"version holds", WhitelistRule{ApplicationVersion: "1.0"}, fullCandidate, true},
		{"version differs", WhitelistRule{ApplicationVersion: "1.1"}, fullCandidate, false},
		{"version absent", WhitelistRule{ApplicationVersion: "1.0"}, with(func(c *WhitelistCandidate) { c.Version = "" }), false},
		{"json path holds", WhitelistRule{MetaInfoJSONPath: "$.ami_name"}, fullCandidate, true},
		{"json path selects nothing", WhitelistRule{MetaInfoJSONPath: "$.nope"}, fullCandidate, false},

		{"blank criteria are not checked", WhitelistRule{AccountID: "", Region: " ", Type: "\t", ImageName: " \n", ImageOwner: "  ",
			ApplicationID: "", ApplicationVersion: " ", MetaInfoJSONPath: " ", Reason: "r"}, fullCandidate, false},
		{"whitespace-only criteria beside one that holds", WhitelistRule{AccountID: "123456789012", Region: " ", Type: "\t",
			ImageName: " ", ImageOwner: " ", ApplicationID: " ", ApplicationVersion: " ", MetaInfoJSONPath: " "},
			with(func(c *WhitelistCandidate) { c.MetaInfo = "not json"; c.Application = ""; c.Version = "" }), true},
		{"criteria are trimmed", WhitelistRule{AccountID: " 123456789012\t", Region: " eu-west-1 ", Type: " WRONG_AMI ",
			ImageName: " ubuntu-.* ", ImageOwner: " 099720109477 ", ApplicationID: " kio ", ApplicationVersion: " 1.0 ",
			MetaInfoJSONPath: " $.user_name "}, fullCandidate, true},
		{"candidate values are not trimmed", WhitelistRule{AccountID: "123456789012"},
			with(func(c *WhitelistCandidate) { c.AccountID = " 123456789012" }), false},
		{"no criterion never matches", WhitelistRule{ID: 7, Reason: "everything"}, fullCandidate, false},
		{"no criterion never matches an empty candidate", WhitelistRule{}, WhitelistCandidate{}, false},
		{"empty criterion does not match an empty field", WhitelistRule{ApplicationID: " "}, WhitelistCandidate{}, false},

		{"all criteria hold", fullRule, fullCandidate, true},
		{"all but account", fullRule, with(func(c *WhitelistCandidate) { c.AccountID = "1" }), false},
		{"all but region", fullRule, with(func(c *WhitelistCandidate) { c.Region = "us-east-1" }), false},
		{"all but type", fullRule, with(func(c *WhitelistCandidate) { c.Type = "X" }), false},
		{"all but image name", fullRule, with(func(c *WhitelistCandidate) {
			c.MetaInfo = `{"ami_name":"debian","ami_owner_id":"099720109477","user_name":"ses.ci-master-42"}`
		}), false},
		{"all but image owner", fullRule, with(func(c *WhitelistCandidate) {
			c.MetaInfo = `{"ami_name":"ubuntu-22.04","ami_owner_id":"1","user_name":"ses.ci-master-42"}`
		}), false},
		{"all but json path", fullRule, with(func(c *WhitelistCandidate) {
			c.MetaInfo = `{"ami_name":"ubuntu-22.04","ami_owner_id":"099720109477","user_name":"someone"}`
		}), false},
		{"all but application", fullRule, with(func(c *WhitelistCandidate) { c.Application = "other" }), false},
		{"all but version", fullRule, with(func(c *WhitelistCandidate) { c.Version = "2.0" }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustCompile(t, tt.rule)
			if got := r.Matches(tt.c); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
			if got := (Whitelist{r}).Match(tt.c) != nil; got != tt.want {
				t.Errorf("Whitelist.Match found = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWhitelistImageNameFullMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"ubuntu", "ubuntu-22.04", false}, // a partial match is no match
		{"ubuntu.*", "ubuntu-22.04", true},
		{"22\\.04", "ubuntu-22.04", false},
		{".*22\\.04", "ubuntu-22.04", true},
		{"ubuntu-22.04|debian", "ubuntu-22.04", true},
		{"debian|ubuntu", "ubuntu-22.04", false}, // the alternation is anchored as a whole
		{"Taupage-AMI-\\d+-\\d+", "Taupage-AMI-20160201-123456", true},
		{"(?i)UBUNTU.*", "ubuntu-22.04", true},
		{"ubuntu.*", "ubuntu-22.04\n", false},
		{"ubuntu.*", "", false},
		{"", "", false}, // blank: not a criterion, the rule has none
	}
	for _, tt := range tests {
		r := mustCompile(t, WhitelistRule{ImageName: tt.pattern})
		c := WhitelistCandidate{MetaInfo: `{"ami_name":` + quoteJSON(tt.name) + `}`}
		if got := r.Matches(c); got != tt.want {
			t.Errorf("image_name %q on %q = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func quoteJSON(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

const (
	granteesPath = "$.[?(@.grantees == ['arn:aws:iam::999888777666:root'])]"
	userNamePath = `$.[?(@.user_name =~ /ses\.ci-master-.+/)]`
)

func TestWhitelistJSONPath(t *testing.T) {
	tests := []struct {
		path, meta string
		want       bool
	}{
		// The reference's two forms.
		{granteesPath, `{"grantees":["arn:aws:iam::999888777666:root"], "x":1}`, true},
		{granteesPath, `{"grantees":["arn:aws:iam::111:root"]}`, false},
		{granteesPath, `{"grantees":["arn:aws:iam::999888777666:root","other"]}`, false},
		{granteesPath, `{"grantees":[]}`, false},
		{granteesPath, `{"grantees":"arn:aws:iam::999888777666:root"}`, false},
		{granteesPath, `{"x":1}`, false},
		{userNamePath, `{"user_name":"ses.ci-master-42"}`, true},
		{userNamePath, `{"user_name":"sesXci-master-42"}`, false},
		{userNamePath, `{"user_name":"xses.ci-master-42"}`, false}, // =~ is a full match, as Jayway's
		{userNamePath, `{"user_name":"ses.ci-master-"}`, false},
		{userNamePath, `{"user_name":42}`, false},
		{userNamePath, `{"other":"ses.ci-master-42"}`, false},
		// The same forms without the dot, and on meta that is an array:
		// the filter then tests the elements.
		{"$[?(@.grantees == ['arn:aws:iam::999888777666:root'])]", `{"grantees":["arn:aws:iam::999888777666:root"]}`, true},
		{userNamePath, `[{"user_name":"nobody"},{"user_name":"ses.ci-master-42"}]`, true},
		{userNamePath, `[{"user_name":"nobody"},{"user_name":"sesXci-master-42"}]`, false},
		{userNamePath, `[]`, false},
		{granteesPath, `[{"grantees":["arn:aws:iam::999888777666:root"]}]`, true},
		{granteesPath, `[["arn:aws:iam::999888777666:root"]]`, false},
		// Plain paths.
		{"$.ami_name", `{"ami_name":"x"}`, true},
		{"$.ami_name", `{"ami_name":null}`, true}, // selects a null
		{"$.ami_name", `{"ami":"x"}`, false},
		{"$.ami_name", `["ami_name"]`, false},
		{"ami_name", `{"ami_name":"x"}`, true}, // Jayway reads it as $.ami_name
		{"$['ami_name']", `{"ami_name":"x"}`, true},
		{"$.größe", `{"größe":"x"}`, true},
		{"$[?(@.größe == 'groß')]", `{"größe":"groß"}`, true},
		{"$[?(@.a =~ /gr(ö|oe)ße/)]", `{"a":"größe"}`, true},
		{"$.['ami_name']", `{"ami_name":"x"}`, true},
		{"$.grantees[0]", `{"grantees":["a"]}`, true},
		{"$.grantees.[0]", `{"grantees":["a"]}`, true},
		{"$.grantees[0]", `{"grantees":[]}`, false},
		{"$.grantees[-1]", `{"grantees":["a","b"]}`, true},
		{"$.grantees[2]", `{"grantees":["a","b"]}`, false},
		{"$.grantees[0]", `{"grantees":{"0":"a"}}`, false},
		{"$[0].user_name", `[{"user_name":"u"}]`, true},
		{"$..user_name", `{"a":{"b":[{"user_name":"u"}]}}`, true},
		{"$..user_name", `[{"user_name":"u"}]`, true},
		{"$..user_name", `{"a":{"b":[{"name":"u"}]}}`, false},
		{"$.*", `{"a":1}`, true},
		{"$.*", `{}`, false},
		{"$[*]", `[]`, false},
		{"$[*]", `[1]`, true},
		{"$..*", `{"a":{}}`, true},
		{"$['a','b']", `{"b":1}`, true},
		{"$['a','b']", `{"c":1}`, false},
		{"$[0,2]", `[1]`, true},
		{"$[1:]", `[1]`, false},
		{"$[1:]", `[1,2]`, true},
		{"$[-2:]", `[1]`, true},
		{"$[:1]", `[]`, false},
		{"$", `{}`, true},
		// Jayway: a filter below the top tests an object itself too.
		{"$.user[?(@.name == 'x')]", `{"user":{"name":"x"}}`, true},
		{"$.user[?(@.name == 'x')]", `{"user":{"name":"y"}}`, false},
		{"$.users[?(@.name == 'x')]", `{"users":[{"name":"y"},{"name":"x"}]}`, true},
		{"$.users[?(@.name == 'x')].id", `{"users":[{"name":"x"}]}`, false},
		{"$.users[?(@.name == 'x')].id", `{"users":[{"name":"x","id":1}]}`, true},
		{"$.grantees[?(@ == 'a')]", `{"grantees":["b","a"]}`, true},
		{"$.grantees[?(@ == 'a')]", `{"grantees":"a"}`, false},
		{"$..[?(@.name == 'x')]", `{"a":[{"b":{"name":"x"}}]}`, true},
		{"$..[?(@.name == 'x')]", `{"a":[{"b":{"name":"y"}}]}`, false},
		{"$..[?(@.name == 'x')]", `{"name":"x"}`, true},
		// Comparisons.
		{"$[?(@.a != 'x')]", `{"a":"y"}`, true},
		{"$[?(@.a != 'x')]", `{"a":"x"}`, false},
		{"$[?(@.a != 'x')]", `{}`, true}, // as Jayway: nothing is not 'x'
		{"$[?(@.a == 'x')]", `{}`, false},
		{"$[?(@.a == null)]", `{"a":null}`, true},
		{"$[?(@.a == null)]", `{}`, false},
		{"$[?(@.a == true)]", `{"a":true}`, true},
		{"$[?(@.a == 1)]", `{"a":1.0}`, true},
		{"$[?(@.a == 1)]", `{"a":"1"}`, true}, // Jayway compares a number and a numeric string as numbers
		{"$[?(@.a == '1')]", `{"a":1}`, true},
		{"$[?(@.a == 1)]", `{"a":"one"}`, false},
		{"$[?(@.a == 123456789012345678)]", `{"a":123456789012345678}`, true},
		{"$[?(@.a == 123456789012345678)]", `{"a":123456789012345679}`, false},
		{"$[?(@.a > 1)]", `{"a":2}`, true},
		{"$[?(@.a > 1)]", `{"a":1}`, false},
		{"$[?(@.a >= 1)]", `{"a":1}`, true},
		{"$[?(@.a < 1.5)]", `{"a":1}`, true},
		{"$[?(@.a <= 'b')]", `{"a":"a"}`, true},
		{"$[?(@.a < 1)]", `{"a":"0"}`, false},
		{"$[?(@.a in ['x','y'])]", `{"a":"y"}`, true},
		{"$[?(@.a in ['x','y'])]", `{"a":"z"}`, false},
		{"$[?(@.a in [['x']])]", `{"a":["x"]}`, true},
		{"$[?(@.a == @.b)]", `{"a":{"x":[1]},"b":{"x":[1]}}`, true},
		{"$[?(@.a == @.b)]", `{"a":{"x":[1]},"b":{"x":[2]}}`, false},
		{"$[?(@.a == $.b)]", `{"a":1,"b":1}`, true},
		{"$.items[?(@.id == $.wanted)]", `{"wanted":2,"items":[{"id":1},{"id":2}]}`, true},
		{"$.items[?(@.id == $.wanted)]", `{"wanted":3,"items":[{"id":1},{"id":2}]}`, false},
		{"$[?(@.a && !@.b)]", `{"a":false}`, true}, // a lone path tests that it exists
		{"$[?(@.a && !@.b)]", `{"a":1,"b":2}`, false},
		{"$[?(@.a == 'x' || @.b == 'y')]", `{"b":"y"}`, true},
		{"$[?((@.a == 'x' || @.b == 'y') && @.c)]", `{"b":"y"}`, false},
		{"$[?(@.a exists true)]", `{"a":null}`, true},
		{"$[?(@.a exists false)]", `{"a":null}`, false},
		{"$[?(@.a empty true)]", `{"a":""}`, true},
		{"$[?(@.a empty true)]", `{"a":[]}`, true},
		{"$[?(@.a empty false)]", `{"a":[1]}`, true},
		{"$[?(@.a empty true)]", `{}`, false},
		{"$[?(@.tags[*] == ['a','b'])]", `{"tags":["a","b"]}`, true},
		{"$[?(@.tags[*])]", `{"tags":[]}`, false},
		{"$[?(@.tags[*])]", `{"tags":[1]}`, true},
		{"$[?(@.a[?(@.b == 1)])]", `{"a":[{"b":1}]}`, true},
		{"$[?(@.a[?(@.b == 1)])]", `{"a":[{"b":2}]}`, false},
		// Precedence as Jayway's: ! binds to its operand, && before ||.
		{"$[?(!@.a && @.b)]", `{}`, false},
		{"$[?(!@.a && @.b)]", `{"b":1}`, true},
		{"$[?(!@.a && @.b)]", `{"a":1,"b":1}`, false},
		{"$[?(!(@.a == 1) && @.b)]", `{"a":2,"b":1}`, true},
		{"$[?(!(@.a == 1) && @.b)]", `{"a":1,"b":1}`, false},
		{"$[?(!(@.a == 1) && @.b)]", `{"a":2}`, false},
		{"$[?(! @['a'][0] && @.b)]", `{"a":[],"b":1}`, true},
		{"$[?(!!@.a)]", `{"a":1}`, true},
		{"$[?(!!@.a)]", `{}`, false},
		{"$[?(@.a || @.b && @.c)]", `{"a":1}`, true},
		{"$[?(@.a || @.b && @.c)]", `{"b":1}`, false},
		{"$[?(@.a || @.b && @.c)]", `{"b":1,"c":1}`, true},
		{"$[?(@.a == 'x' || @.b == 'y' && @.c == 'z')]", `{"a":"x"}`, true},
		{"$[?(@.a && @.b || @.c && @.d)]", `{"c":1,"d":1}`, true},
		{"$[?(@.a && @.b || @.c && @.d)]", `{"a":1,"c":1}`, false},
		{"$[?(@.a != 'x' && @.b)]", `{"a":"y","b":1}`, true},
		{"$[?(@.a == '!x && y || z')]", `{"a":"!x && y || z"}`, true},
		{"$.items[?(!@.a && @.b)]", `{"items":[{"a":1,"b":1},{"b":2}]}`, true},
		{"$.items[?(!@.a && @.b)]", `{"items":[{"a":1,"b":1},{}]}`, false},
		{"$[?(@.items[?(@.a || @.b && @.c)])]", `{"items":[{"a":1}]}`, true},
		// Regexes.
		{"$[?(@.a =~ /x.*/i)]", `{"a":"XYZ"}`, true},
		{"$[?(@.a =~ /x.*/)]", `{"a":"XYZ"}`, false},
		{"$[?(@.a =~ /a.b/s)]", `{"a":"a\nb"}`, true},
		{"$[?(@.a =~ /a.b/)]", `{"a":"a\nb"}`, false},
		{"$[?(@.a =~ /^a$/m)]", `{"a":"a\nb"}`, false}, // still a full match
		{"$[?(@.a =~ /a\\/b/)]", `{"a":"a/b"}`, true},
		{"$[?(@.a =~ /a.[b]/)]", `{"a":"ax[b]"}`, false}, // the regex is left alone
		{"$[?(@.a =~ /a.[b]/)]", `{"a":"axb"}`, true},
		{"$[?(@.a =~ /1\\d+/)]", `{"a":123}`, true},
		{"$[?(@.a =~ /true/)]", `{"a":true}`, true},
		{"$[?(@.a =~ /.*/)]", `{}`, false},
		{"$[?(@.a =~ /.*/)]", `{"a":null}`, false},
		{"$[?(/x+/ =~ @.a)]", `{"a":"xx"}`, true},
		{"$[?(@['a.[b'] == 'c')]", `{"a.[b":"c"}`, true}, // strings are left alone
		// Meta that is not JSON, empty or null.
		{"$.a", `{"a":1`, false},
		{"$.a", `{"a":1} {"a":2}`, false},
		{"$.a", `{"a":1} x`, false},
		{"$", ``, false},
		{"$", `   `, false},
		{"$", `null`, false},
		{"$..*", `nope`, false},
		{"$", `"text"`, true},
		{"$", ` {"a":1} `, true},
	}
	for _, tt := range tests {
		r, err := CompileWhitelistRule(WhitelistRule{MetaInfoJSONPath: tt.path})
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if got := r.Matches(WhitelistCandidate{MetaInfo: tt.meta}); got != tt.want {
			t.Errorf("%s on %s = %v, want %v", tt.path, tt.meta, got, tt.want)
		}
	}
}

func TestWhitelistNormalizeJaywayPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"$.a", "$.a"},
		{"$.[0]", "$[0]"},
		{"$..[0]", "$..[0]"},
		{"$.a.['b']", "$.a['b']"},
		{"$['.[x']", "$['.[x']"},
		{`$[?(@.a =~ /.[x/i)]`, `$[?(!(!((@.a =~ /(?i).[x/))))]`},
		{`$[?(@.a =~ /x/imsu)]`, `$[?(!(!((@.a =~ /(?ims)x/))))]`},
		{`$[?(@.a =~ /a\/b/)]`, `$[?(!(!((@.a =~ /a\/b/))))]`},
		{"$[?(!@.a && @.b)]", "$[?(!(!(((!@.a) && @.b))))]"},
		{"$[?(!@.a[?(@.b)] == 1)]", "$[?(!(!(((!@.a[?(!(!((@.b))))]) == 1))))]"},
		{"$[?(!(@.a) || !!@.b)]", "$[?(!(!(((!(@.a)) || (!(!@.b))))))]"},
		{"$[?(@.a != 1)]", "$[?(!(!((@.a != 1))))]"},
		{"$[?(@.a || @.b && @.c)]", "$[?(!(!((@.a ||( @.b && @.c)))))]"},
		{"$[?(@.a && @.b || @.c)]", "$[?(!(!(((@.a && @.b )|| @.c))))]"},
		{"$[?(@.a && (@.b || @.c && @.d))]", "$[?(!(!((@.a && (@.b ||( @.c && @.d))))))]"},
		{"$..[0][?(@)]", "$..[0][?(!(!((@))))]"},
		{"$[?(@.a == '&& ||')]", "$[?(!(!((@.a == '&& ||'))))]"},
	}
	for _, tt := range tests {
		got, err := normalizeJaywayPath(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("normalizeJaywayPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestWhitelistFirstMatchWins(t *testing.T) {
	c := fullCandidate
	w := Whitelist{
		mustCompile(t, WhitelistRule{ID: 1, AccountID: "999", Reason: "other account"}),
		mustCompile(t, WhitelistRule{ID: 2, MetaInfoJSONPath: "$.nope", Reason: "no path"}),
		mustCompile(t, WhitelistRule{ID: 3, Reason: "no criterion"}),
		mustCompile(t, WhitelistRule{ID: 4, Region: "eu-west-1", Reason: "region"}),
		mustCompile(t, WhitelistRule{ID: 5, ImageName: "ubuntu.*", Reason: "image"}),
	}
	got := w.Match(c)
	if got == nil || got.Rule().ID != 4 {
		t.Fatalf("Match = %v, want rule 4", got)
	}
	if got := w[4:].Match(c); got == nil || got.Rule().ID != 5 {
		t.Errorf("Match of the last rule = %v, want rule 5", got)
	}
	if got := w[:3].Match(c); got != nil {
		t.Errorf("Match without matching rules = %v, want nil", got.Rule())
	}
	if got := (Whitelist{}).Match(c); got != nil {
		t.Errorf("empty Whitelist matched %v", got.Rule())
	}
	if got := (Whitelist{nil, w[3]}).Match(c); got != w[3] {
		t.Errorf("Match skipping a nil rule = %v", got)
	}
}

func TestWhitelistParsesMetaOnce(t *testing.T) {
	metaRules := Whitelist{
		mustCompile(t, WhitelistRule{MetaInfoJSONPath: "$.nope"}),
		mustCompile(t, WhitelistRule{ImageName: "debian.*"}),
		mustCompile(t, WhitelistRule{ImageOwner: "1"}),
		mustCompile(t, WhitelistRule{MetaInfoJSONPath: userNamePath, Region: "eu-west-1"}),
	}
	cheapRules := Whitelist{
		mustCompile(t, WhitelistRule{AccountID: "1"}),
		mustCompile(t, WhitelistRule{AccountID: "2", ImageName: ".*"}), // the account fails first
		mustCompile(t, WhitelistRule{Region: "us-east-1", MetaInfoJSONPath: "$"}),
	}
	tests := []struct {
		name   string
		w      Whitelist
		parses int
		match  bool
	}{
		{"rules that read meta_info", metaRules, 1, true},
		{"rules that do not get to meta_info", cheapRules, 0, false},
		{"both", append(cheapRules, metaRules...), 1, true},
	}
	for _, tt := range tests {
		meta := metaInfo{text: fullCandidate.MetaInfo}
		var found *CompiledWhitelistRule
		for _, r := range tt.w {
			if r.matches(&fullCandidate, &meta) {
				found = r
				break
			}
		}
		if meta.parses != tt.parses {
			t.Errorf("%s: meta_info parsed %d times, want %d", tt.name, meta.parses, tt.parses)
		}
		if (found != nil) != tt.match || tt.w.Match(fullCandidate) != found {
			t.Errorf("%s: found %v", tt.name, found)
		}
	}
	// Not JSON: parsed (and refused) once too.
	meta := metaInfo{text: "{"}
	for _, r := range metaRules {
		r.matches(&fullCandidate, &meta)
	}
	if meta.parses != 1 {
		t.Errorf("bad meta_info parsed %d times", meta.parses)
	}
}

func TestCompileWhitelistRuleErrors(t *testing.T) {
	tests := []struct {
		name  string
		rule  WhitelistRule
		field string
	}{
		{"regex syntax", WhitelistRule{ImageName: "ubuntu-("}, FieldImageName},
		{"unbalanced regex", WhitelistRule{ImageName: "a)|(b"}, FieldImageName},
		{"backreference", WhitelistRule{ImageName: `(a)\1`}, FieldImageName},
		{"lookahead", WhitelistRule{ImageName: `ubuntu(?=-22)`}, FieldImageName},
		{"lookbehind", WhitelistRule{ImageName: `(?<!x)ubuntu`}, FieldImageName},
		{"possessive", WhitelistRule{ImageName: `a*+`}, FieldImageName},
		{"path syntax", WhitelistRule{MetaInfoJSONPath: "$["}, FieldMetaInfoJSONPath},
		{"path ends with ..", WhitelistRule{MetaInfoJSONPath: "$.a.."}, FieldMetaInfoJSONPath},
		{"unterminated string", WhitelistRule{MetaInfoJSONPath: "$['a"}, FieldMetaInfoJSONPath},
		{"unterminated filter", WhitelistRule{MetaInfoJSONPath: "$[?(@.a == 1"}, FieldMetaInfoJSONPath},
		{"unterminated regex", WhitelistRule{MetaInfoJSONPath: "$[?(@.a =~ /x)]"}, FieldMetaInfoJSONPath},
		{"regex in path", WhitelistRule{MetaInfoJSONPath: `$[?(@.a =~ /(a)\1/)]`}, FieldMetaInfoJSONPath},
		{"lookahead in path", WhitelistRule{MetaInfoJSONPath: `$[?(@.a =~ /a(?=b)/)]`}, FieldMetaInfoJSONPath},
		{"regex flag", WhitelistRule{MetaInfoJSONPath: `$[?(@.a =~ /a/x)]`}, FieldMetaInfoJSONPath},
		{"regex on a path", WhitelistRule{MetaInfoJSONPath: `$[?(@.a =~ @.b)]`}, FieldMetaInfoJSONPath},
		{"regex outside =~", WhitelistRule{MetaInfoJSONPath: `$[?(@.a == /a/)]`}, FieldMetaInfoJSONPath},
		{"Jayway's nin", WhitelistRule{MetaInfoJSONPath: "$[?(@.a nin ['x'])]"}, FieldMetaInfoJSONPath},
		{"Jayway's size", WhitelistRule{MetaInfoJSONPath: "$[?(@.a size 1)]"}, FieldMetaInfoJSONPath},
		{"Jayway's length()", WhitelistRule{MetaInfoJSONPath: "$.a.length()"}, FieldMetaInfoJSONPath},
		{"object literal", WhitelistRule{MetaInfoJSONPath: `$[?(@.a == {"x":1})]`}, FieldMetaInfoJSONPath},
		{"arithmetic", WhitelistRule{MetaInfoJSONPath: "$[?(@.a + 1 == 2)]"}, FieldMetaInfoJSONPath},
		{"ojg function", WhitelistRule{MetaInfoJSONPath: "$[?(length(@.a) == 2)]"}, FieldMetaInfoJSONPath},
		{"constant filter", WhitelistRule{MetaInfoJSONPath: "$[?(true)]"}, FieldMetaInfoJSONPath},
		{"in without a list", WhitelistRule{MetaInfoJSONPath: "$[?(@.a in 'x')]"}, FieldMetaInfoJSONPath},
		{"empty without a boolean", WhitelistRule{MetaInfoJSONPath: "$[?(@.a empty 1)]"}, FieldMetaInfoJSONPath},
		{"slice step", WhitelistRule{MetaInfoJSONPath: "$[0:4:2]"}, FieldMetaInfoJSONPath},
		{"too long", WhitelistRule{MetaInfoJSONPath: "$." + strings.Repeat("a", maxJSONPathLen)}, FieldMetaInfoJSONPath},
		{"too deep", WhitelistRule{MetaInfoJSONPath: "$[?(" + strings.Repeat("(", 100) + "@.a" + strings.Repeat(")", 100) + ")]"}, FieldMetaInfoJSONPath},
		{"path beside a bad regex", WhitelistRule{AccountID: "1", ImageName: "(", MetaInfoJSONPath: "$.a"}, FieldImageName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CompileWhitelistRule(tt.rule)
			if err == nil || c != nil {
				t.Fatalf("CompileWhitelistRule = %v, %v; want an error", c, err)
			}
			var re *WhitelistRuleError
			if !errors.As(err, &re) || re.Field != tt.field {
				t.Fatalf("error %v (%T), want a *WhitelistRuleError on %s", err, err, tt.field)
			}
			if re.Unwrap() == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s or wraps nothing", err, tt.field)
			}
			if verr := tt.rule.Validate(); !errors.As(verr, &re) || re.Field != tt.field {
				t.Errorf("Validate = %v", verr)
			}
		})
	}
}

func TestWhitelistRuleValidate(t *testing.T) {
	for _, r := range []WhitelistRule{
		{},
		{ID: 3, Reason: "because"},
		{AccountID: " ", Region: "\t", Type: "\n", ImageName: " ", ImageOwner: " ", ApplicationID: " ",
			ApplicationVersion: " ", MetaInfoJSONPath: " "},
	} {
		if err := r.Validate(); !errors.Is(err, ErrNoCriterion) {
			t.Errorf("Validate(%+v) = %v, want ErrNoCriterion", r, err)
		}
		c, err := CompileWhitelistRule(r)
		if err != nil {
			t.Errorf("CompileWhitelistRule(%+v) = %v, want a rule that never matches", r, err)
		} else if c.Matches(fullCandidate) || c.Matches(WhitelistCandidate{}) {
			t.Errorf("a rule with no criterion matched")
		}
	}
	for _, r := range []WhitelistRule{
		fullRule,
		{AccountID: "1"}, {Region: "r"}, {Type: "T"}, {ImageName: "x"}, {ImageOwner: "o"},
		{ApplicationID: "a"}, {ApplicationVersion: "v"}, {MetaInfoJSONPath: granteesPath},
	} {
		if err := r.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", r, err)
		}
	}
}

func TestWhitelistRuleKeepsTheRule(t *testing.T) {
	r := WhitelistRule{ID: 42, AccountID: " 1 ", ImageName: " x ", Reason: " why "}
	if got := mustCompile(t, r).Rule(); got != r {
		t.Errorf("Rule() = %+v, want %+v", got, r)
	}
}

func TestWhitelistComment(t *testing.T) {
	if got, want := WhitelistComment("CI account"), "Whitelisted automatically because of:CI account"; got != want {
		t.Errorf("WhitelistComment = %q, want %q", got, want)
	}
}

func TestWhitelistDeepAndHugeMeta(t *testing.T) {
	paths := []string{"$..x", "$..[?(@.x == 1)]", "$..*", "$[?(@ == $)]"}
	var rules Whitelist
	for _, p := range paths {
		rules = append(rules, mustCompile(t, WhitelistRule{MetaInfoJSONPath: p}))
	}
	rules = append(rules, mustCompile(t, WhitelistRule{ImageName: "(a|b)*c"}))
	deep := strings.Repeat(`{"a":[`, 4000) + `{"x":1}` + strings.Repeat(`]}`, 4000)
	tooDeep := strings.Repeat(`[`, 200000) + strings.Repeat(`]`, 200000)
	huge := `{"ami_name":"` + strings.Repeat("ab", 1<<20) + `"}`
	for _, meta := range []string{deep, tooDeep, huge, strings.Repeat("{", 100000)} {
		for _, r := range rules {
			r.Matches(WhitelistCandidate{MetaInfo: meta})
		}
	}
	if !rules[0].Matches(WhitelistCandidate{MetaInfo: deep}) || !rules[1].Matches(WhitelistCandidate{MetaInfo: deep}) {
		t.Errorf("deep scan missed the deep member")
	}
	if rules[0].Matches(WhitelistCandidate{MetaInfo: tooDeep}) {
		t.Errorf("matched meta_info nested beyond the JSON decoder's limit")
	}

	// A path whose work grows as the cube of the document gives up.
	wide := "[" + strings.Repeat(`{"a":1,"b":[2,3]},`, 300) + "{}]"
	blowUp := mustCompile(t, WhitelistRule{MetaInfoJSONPath: "$..*..*..*.nope"})
	if blowUp.Matches(WhitelistCandidate{MetaInfo: wide}) {
		t.Errorf("matched")
	}
	if !mustCompile(t, WhitelistRule{MetaInfoJSONPath: "$..*..*..*"}).Matches(WhitelistCandidate{MetaInfo: wide}) {
		t.Errorf("a path that selects something early did not match")
	}
}

// BenchmarkWhitelistMatch matches a typical meta_info against 100 rules,
// none of which matches. In "meta" every rule gets to its meta_info
// criterion (the account matches); in "no-meta" no rule does.
func BenchmarkWhitelistMatch(b *testing.B) {
	const meta = `{"ami_id":"ami-0123456789abcdef0","ami_name":"Taupage-AMI-20160201-123456",` +
		`"ami_owner_id":"123456789012","instance_id":"i-0123456789abcdef0",` +
		`"grantees":["arn:aws:iam::111122223333:root"],"user_name":"deploy-bot",` +
		`"event_name":"RunInstances","source_ip":"10.0.0.1","tags":{"team":"platform","env":"prod"}}`
	c := WhitelistCandidate{AccountID: "123456789012", Region: "eu-west-1", Type: "WRONG_AMI",
		MetaInfo: meta, Application: "kio", Version: "1.0"}
	metaRules := func(account string) Whitelist {
		var w Whitelist
		for i := range 100 {
			r := WhitelistRule{ID: int64(i), AccountID: account}
			switch i % 5 {
			case 0:
				r.ImageName = `Ubuntu-\d+\.\d+-.*`
			case 1:
				r.ImageOwner = "999988887777"
			case 2:
				r.MetaInfoJSONPath = granteesPath
			case 3:
				r.MetaInfoJSONPath = userNamePath
			case 4:
				r.MetaInfoJSONPath = "$.tags[?(@.team == 'security')]"
			}
			w = append(w, mustCompile(b, r))
		}
		return w
	}
	for _, bb := range []struct {
		name string
		w    Whitelist
	}{
		{"meta", metaRules("123456789012")},
		{"no-meta", metaRules("210987654321")},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if bb.w.Match(c) != nil {
					b.Fatal("matched")
				}
			}
		})
	}
}
