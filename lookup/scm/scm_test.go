package scm

import (
	"errors"
	"strings"
	"testing"
)

func mustHosts(t *testing.T, s string) Hosts {
	t.Helper()
	h, err := ParseHosts(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var fullstop = Repository{"github.com", "zalando-stups", "fullstop"}

func TestParse(t *testing.T) {
	github := mustHosts(t, "github.com=^.+$")
	two := mustHosts(t, "github.com=^.+$,git.my.company.com=^.+$")
	for _, tc := range []struct {
		hosts Hosts
		url   string
		want  Repository // zero: rejected
	}{
		// The reference's RepositoriesTest.
		{github, "https://github.com/zalando-stups/fullstop", fullstop},
		{github, "https://GitHub.com/zAlAnDo-STUPS/FULLstop", fullstop},
		{github, "https://github.com:443/zalando-stups/fullstop", fullstop},
		{github, "git:https://github.com/zalando-stups/fullstop", fullstop},
		{github, "http://github.com/zalando-stups/fullstop", fullstop},
		{github, "https://github.com/zalando-stups/fullstop.git", fullstop},
		{github, "https://github.com/zalando-stups/fullstop.git/src", fullstop},
		{github, "https://github.com/zalando-stups/fullstop/tree/master/src", fullstop},
		{github, "git@github.com:zalando-stups/fullstop", fullstop},
		{github, "git@github.com:zalando-stups/fullstop.git", fullstop},
		{github, "git:git@github.com:zalando-stups/fullstop.git", fullstop},
		{two, "https://github.com/zalando-stups/fullstop", fullstop},
		{two, "https://git.my.company.com/zalando-stups/fullstop", Repository{"git.my.company.com", "zalando-stups", "fullstop"}},
		{github, "https://git.my.company.com/zalando-stups/fullstop", Repository{}},
		{github, "https://github.com/zalando-stups", Repository{}},
		{github, "https://github.com", Repository{}},
		// More accepted forms.
		{github, "github.com/o/r", Repository{"github.com", "o", "r"}},
		{github, "github.com:o/r", Repository{"github.com", "o", "r"}},
		{github, "HTTPS://GITHUB.COM/O/R.GIT", Repository{"github.com", "o", "r"}},
		{github, "git@github.com:O/R.git", Repository{"github.com", "o", "r"}},
		{github, "git:git@github.com:o/r", Repository{"github.com", "o", "r"}},
		{github, "  https://github.com/o/r\n", Repository{"github.com", "o", "r"}},
		{github, "https://github.com/o/r/", Repository{"github.com", "o", "r"}},
		{github, "https://github.com/o/r.git/", Repository{"github.com", "o", "r"}},
		{github, "https://github.com/o/my.repo", Repository{"github.com", "o", "my.repo"}},
		{github, "https://github.com/o/o.github.io.git", Repository{"github.com", "o", "o.github.io"}},
		{github, "https://github.com/group/sub/repo", Repository{"github.com", "group", "sub"}}, // as the reference
		// More rejected forms.
		{github, "", Repository{}},
		{github, "   ", Repository{}},
		{github, "https://github.com/", Repository{}},
		{github, "https://github.com/o", Repository{}},
		{github, "https://github.com/o/", Repository{}},
		{github, "https://github.com//r", Repository{}},
		{github, "https://gitlab.com/o/r", Repository{}},
		{github, "https://github.com.evil.org/o/r", Repository{}},
		{github, "https://evil.org/github.com/o/r", Repository{}},
		{github, "https://user@github.com/o/r", Repository{}}, // no user info, as the reference
		{github, "ssh://git@github.com/o/r", Repository{}},    // as the reference
		{github, "https://githubXcom/o/r", Repository{}},      // the host is quoted
		{github, "https://github.com/o/r\nx", Repository{}},
		{Hosts{}, "https://github.com/o/r", Repository{}},
		{nil, "https://github.com/o/r", Repository{}},
	} {
		got, err := tc.hosts.Parse(tc.url)
		if tc.want == (Repository{}) {
			var e *Error
			if !errors.As(err, &e) || e.URL != tc.url {
				t.Errorf("Parse(%q) = %+v, %v; want an *Error", tc.url, got, err)
			}
			if got != (Repository{}) {
				t.Errorf("Parse(%q) = %+v with an error", tc.url, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.url, got, err, tc.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := mustHosts(t, "github.com=^.+$").Parse("https://GitLab.com/o/r")
	if want := "'https://GitLab.com/o/r' does not look like a valid git repository"; err == nil || err.Error() != want {
		t.Errorf("error = %v; want %q", err, want)
	}
}

func TestParseHostPrefix(t *testing.T) {
	// A host that is a prefix of another: the longer one must win where
	// both could match.
	h := mustHosts(t, "git.co=^.+$,git.co.uk=^.+$,github.com=^.+$")
	for url, want := range map[string]Repository{
		"https://git.co/o/r":       {"git.co", "o", "r"},
		"https://git.co.uk/o/r":    {"git.co.uk", "o", "r"},
		"git@git.co.uk:o/r.git":    {"git.co.uk", "o", "r"},
		"https://github.com/o/r":   {"github.com", "o", "r"},
		"https://git.co:8443/o/r":  {"git.co", "o", "r"},
		"https://git.co.uk:80/o/r": {"git.co.uk", "o", "r"},
	} {
		for range 20 { // map order must not matter
			if got, err := h.Parse(url); err != nil || got != want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", url, got, err, want)
			}
		}
	}
}

func TestString(t *testing.T) {
	h := mustHosts(t, "github.com=^.+$")
	for _, url := range []string{
		"git:git@github.com:Zalando-Stups/Fullstop.git",
		"https://github.com:443/zalando-stups/fullstop/tree/master/src",
		"http://github.com/zalando-stups/fullstop.git/",
	} {
		r, err := h.Parse(url)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := r.String(), "https://github.com/zalando-stups/fullstop"; got != want {
			t.Errorf("Parse(%q).String() = %q; want %q", url, got, want)
		}
		// The normalised form parses back to the same repository.
		if again, err := h.Parse(r.String()); err != nil || again != r {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", r.String(), again, err, r)
		}
	}
}

// TestSameRepository is the SCM_URL_NOT_MATCH_WITH_KIO comparison: the
// scm-source.json URL and the Kio scm_url name the same repository when
// host, owner and name are equal.
func TestSameRepository(t *testing.T) {
	h := mustHosts(t, "github.com=^.+$,git.my.company.com=^.+$")
	for _, tc := range []struct {
		scmSource, kio string
		same           bool
	}{
		{"git@github.com:zalando-stups/fullstop.git", "https://github.com/zalando-stups/fullstop", true},
		{"https://github.com:443/Zalando-Stups/Fullstop/tree/master", "git:git@github.com:zalando-stups/fullstop", true},
		{"https://github.com/zalando-stups/fullstop", "https://github.com/zalando-stups/fullstop-cli", false},
		{"https://github.com/zalando-stups/fullstop", "https://github.com/zalando-incubator/fullstop", false},
		{"https://github.com/zalando-stups/fullstop", "https://git.my.company.com/zalando-stups/fullstop", false},
	} {
		a, err := h.Parse(tc.scmSource)
		if err != nil {
			t.Fatal(err)
		}
		b, err := h.Parse(tc.kio)
		if err != nil {
			t.Fatal(err)
		}
		if got := a == b; got != tc.same {
			t.Errorf("%q == %q: %v; want %v", tc.scmSource, tc.kio, got, tc.same)
		}
	}
}

func TestOwnerAllowed(t *testing.T) {
	h := mustHosts(t, `github.com=^zalando-stups|zalando-incubator$, github.my.company.com=^.+$, git.example.org=team-[a-z]+, bad.example.org=a\,b`)
	for _, tc := range []struct {
		repo    Repository
		ok      bool
		pattern string
	}{
		{Repository{"github.com", "zalando-stups", "r"}, true, "^zalando-stups|zalando-incubator$"},
		{Repository{"github.com", "zalando-incubator", "r"}, true, "^zalando-stups|zalando-incubator$"},
		// Java matches(): the whole owner must match one alternative.
		{Repository{"github.com", "zalando-stups-fork", "r"}, false, "^zalando-stups|zalando-incubator$"},
		{Repository{"github.com", "my-zalando-incubator", "r"}, false, "^zalando-stups|zalando-incubator$"},
		{Repository{"github.com", "zalando", "r"}, false, "^zalando-stups|zalando-incubator$"},
		{Repository{"github.com", "someone", "r"}, false, "^zalando-stups|zalando-incubator$"},
		{Repository{"github.my.company.com", "anyone", "r"}, true, "^.+$"},
		{Repository{"git.example.org", "team-abc", "r"}, true, "team-[a-z]+"},                       // anchored without ^ and $
		{Repository{"git.example.org", "team-abc-x", "r"}, false, "team-[a-z]+"},                    // not a partial match
		{Repository{"git.example.org", "x-team-abc", "r"}, false, "team-[a-z]+"},                    // not a partial match
		{Repository{"bad.example.org", "a,b", "r"}, true, "a,b"},                                    // escaped comma
		{Repository{"gitlab.com", "zalando-stups", "r"}, false, ""},                                 // host not configured
		{Repository{"GitHub.com", "zalando-stups", "r"}, true, "^zalando-stups|zalando-incubator$"}, // host case
	} {
		ok, pattern := h.OwnerAllowed(tc.repo)
		if ok != tc.ok || pattern != tc.pattern {
			t.Errorf("OwnerAllowed(%+v) = %v, %q; want %v, %q", tc.repo, ok, pattern, tc.ok, tc.pattern)
		}
	}
	// Parsed URLs are lower-case, so the owner is checked lower-case.
	r, err := h.Parse("https://GitHub.com/Zalando-Stups/Fullstop")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := h.OwnerAllowed(r); !ok {
		t.Errorf("OwnerAllowed(%+v) = false", r)
	}
}

func TestParseHosts(t *testing.T) {
	h := mustHosts(t, " github.com = ^zalando-stups|zalando-incubator$ ,GitHub.My.Company.com=^.+$,, x.org=a\\,b{1\\,2}=c ,y.org=\\d+\\\\")
	want := map[string]string{
		"github.com":            "^zalando-stups|zalando-incubator$",
		"github.my.company.com": "^.+$",
		"x.org":                 "a,b{1,2}=c",
		"y.org":                 `\d+\\`,
	}
	if len(h) != len(want) {
		t.Fatalf("ParseHosts = %v; want %v", h, want)
	}
	for host, expr := range want {
		if re, ok := h[host]; !ok || re.String() != expr {
			t.Errorf("host %q: %v; want %q", host, re, expr)
		}
	}
	// An escaped backslash before a comma ends the entry.
	h = mustHosts(t, `a.org=x\\,b.org=y`)
	if len(h) != 2 || h["a.org"].String() != `x\\` || h["b.org"].String() != "y" {
		t.Errorf(`ParseHosts("a.org=x\\,b.org=y") = %v`, h)
	}
	for _, s := range []string{"", " ", ",", " , ,"} {
		if h, err := ParseHosts(s); err != nil || len(h) != 0 {
			t.Errorf("ParseHosts(%q) = %v, %v; want empty", s, h, err)
		}
	}
}

func TestParseHostsErrors(t *testing.T) {
	for _, tc := range []struct {
		in, mention string
	}{
		{"github.com", "github.com"},
		{"github.com=^.+$,gitlab.com", "gitlab.com"},
		{"=^.+$", "empty host"},
		{"  =^.+$", "empty host"},
		{"github.com=", "github.com"},
		{"github.com=  ", "github.com"},
		{"github.com=^(unclosed$", "github.com"},
		{"github.com=^.+$,git.example.org=[", "git.example.org"},
		{"github.com=(?=lookahead)", "github.com"},
		{"github.com=^.+$,GitHub.com=^x$", "github.com"},
		{"git hub.com=^.+$", "git hub.com"},
		{"github.com/o=^.+$", "github.com/o"},
	} {
		h, err := ParseHosts(tc.in)
		if err == nil {
			t.Errorf("ParseHosts(%q) = %v; want an error", tc.in, h)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("ParseHosts(%q) error %q does not mention %q", tc.in, err, tc.mention)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"https://github.com/zalando-stups/fullstop", "git:git@github.com:o/r.git",
		"https://github.com:443/o/r/tree/master", "https://github.com/o", "",
	} {
		f.Add(s)
	}
	h, err := ParseHosts("github.com=^.+$,git.co=^o$,git.co.uk=x")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, url string) {
		r, err := h.Parse(url)
		if err != nil {
			return
		}
		if _, ok := h[r.Host]; !ok || r.Owner == "" || r.Name == "" {
			t.Fatalf("Parse(%q) = %+v", url, r)
		}
		h.OwnerAllowed(r)
		if n := r.String(); strings.TrimSpace(n) != n {
			return // a name with trailing white space is trimmed away
		}
		// The normalised form names the same host and owner; normalising
		// is idempotent (a name ending in ".git" may lose it once).
		again, err := h.Parse(r.String())
		if err != nil || again.Host != r.Host || again.Owner != r.Owner ||
			(again.Name != r.Name && again.Name+".git" != r.Name) {
			t.Fatalf("Parse(%q) = %+v; normalised %q parses to %+v, %v", url, r, r.String(), again, err)
		}
		if third, err := h.Parse(again.String()); err != nil || third != again {
			t.Fatalf("normalising %+v is not idempotent: %+v, %v", again, third, err)
		}
	})
}
