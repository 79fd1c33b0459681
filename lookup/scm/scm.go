package scm

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Hosts maps a host name (lower-case) to the regular expression an owner on
// that host must fully match, as configured by FULLSTOP_SCM_HOSTS (see
// ParseHosts). The regular expression is kept as configured; OwnerAllowed
// anchors it.
type Hosts map[string]*regexp.Regexp

// ParseHosts parses a host list such as
//
//	github.com=^zalando-stups|zalando-incubator$,github.my.company.com=^.+$
//
// Entries are separated by ','; a regular expression may contain a ',' only
// escaped as '\,' (any other backslash pair, '\\' included, is kept as it
// is, so "x\\,y=z" ends the first entry after "x\\"). Each entry is
// host=regex, split at its first '='; white space around entries, hosts and
// regular expressions is trimmed; empty entries are skipped; host names are
// lower-cased. An entry without '=', an empty host, a host with white space
// or '/', a host given twice, or an empty or invalid regular expression is
// an error naming the entry's host. An empty s gives empty Hosts.
func ParseHosts(s string) (Hosts, error) {
	h := Hosts{}
	for _, entry := range splitEntries(s) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		host, expr, found := strings.Cut(entry, "=")
		host = strings.ToLower(strings.TrimSpace(host))
		expr = strings.TrimSpace(expr)
		switch {
		case !found:
			return nil, fmt.Errorf("scm hosts: entry %q is not host=regex", entry)
		case host == "":
			return nil, fmt.Errorf("scm hosts: entry %q has an empty host", entry)
		case strings.ContainsAny(host, " \t\r\n\v\f/"):
			return nil, fmt.Errorf("scm hosts: host %q is not a host name", host)
		case expr == "":
			return nil, fmt.Errorf("scm hosts: host %q has an empty owner regex", host)
		}
		if _, dup := h[host]; dup {
			return nil, fmt.Errorf("scm hosts: host %q given twice", host)
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("scm hosts: host %q: invalid owner regex %q: %w", host, expr, err)
		}
		h[host] = re
	}
	return h, nil
}

// splitEntries splits s at the commas that are not escaped as "\,", turning
// "\," into ",".
func splitEntries(s string) []string {
	var entries []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && s[i+1] == ',':
			b.WriteByte(',')
			i++
		case c == '\\' && i+1 < len(s):
			b.WriteString(s[i : i+2])
			i++
		case c == ',':
			entries = append(entries, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(entries, b.String())
}

// Repository is an SCM repository: host, owner and name, lower-case. Two
// URLs name the same repository when their Repository values are equal
// (==), the SCM_URL_NOT_MATCH_WITH_KIO comparison.
type Repository struct{ Host, Owner, Name string }

// String is the normalised form https://{host}/{owner}/{name}.
func (r Repository) String() string {
	return "https://" + r.Host + "/" + r.Owner + "/" + r.Name
}

// Error is the error of Parse for a URL that is not a repository on a
// configured host. Its message is the reference's error_message.
type Error struct{ URL string }

func (e *Error) Error() string {
	return fmt.Sprintf("'%s' does not look like a valid git repository", e.URL)
}

// Parse lower-cases url (after trimming white space) and matches it fully
// against
//
//	^(git:)?(git@|https?://)?(<host>)(:\d+)?(:|/)(<owner>.+?)/(<name>.+?)(\.git)?(/.*)?$
//
// where <host> is the alternation of the configured hosts, regex-quoted,
// longest first. Accepted are for instance https://github.com/o/r,
// http://github.com/o/r, https://github.com:443/o/r,
// git:https://github.com/o/r, .../r.git, .../r.git/src,
// .../r/tree/master/src, git@github.com:o/r(.git) and
// git:git@github.com:o/r.git. A URL on an unknown host, without a
// repository name, or empty gives an *Error.
func (h Hosts) Parse(url string) (Repository, error) {
	re := h.pattern()
	if re == nil {
		return Repository{}, &Error{URL: url}
	}
	m := re.FindStringSubmatch(strings.ToLower(strings.TrimSpace(url)))
	if m == nil {
		return Repository{}, &Error{URL: url}
	}
	return Repository{Host: m[1], Owner: m[2], Name: m[3]}, nil
}

// OwnerAllowed reports whether r.Owner fully matches the regular expression
// configured for r.Host (as Java's String.matches did in the reference: the
// expression is anchored as ^(?:regex)$, so "^zalando-stups|zalando-incubator$"
// allows exactly the owners zalando-stups and zalando-incubator), and
// returns the expression as configured, for the violation's allowed_owners.
// A host that is not configured gives false and "".
func (h Hosts) OwnerAllowed(r Repository) (ok bool, pattern string) {
	re, found := h[r.Host]
	if !found {
		for host, x := range h {
			if strings.EqualFold(host, r.Host) {
				re, found = x, true
				break
			}
		}
	}
	if !found || re == nil {
		return false, ""
	}
	pattern = re.String()
	full, err := anchored(pattern)
	if err != nil {
		return false, pattern
	}
	return full.MatchString(r.Owner), pattern
}

// The compiled patterns are cached by their source: Hosts is a plain map
// built once from configuration, so the caches stay small. They stop
// growing at maxCached entries.
const maxCached = 256

var (
	mu       sync.Mutex
	urlRes   = map[string]*regexp.Regexp{}
	ownerRes = map[string]*regexp.Regexp{}
)

// The URL pattern around the alternation of hosts (§4.8); the groups are
// host, owner and name.
const (
	urlPrefix = `^(?:git:)?(?:git@|https?://)?(`
	urlSuffix = `)(?::\d+)?(?::|/)(.+?)/(.+?)(?:\.git)?(?:/.*)?$`
)

// pattern is the URL pattern for the configured hosts, nil if none is.
func (h Hosts) pattern() *regexp.Regexp {
	hosts := make([]string, 0, len(h))
	for host := range h {
		if host = strings.ToLower(host); host != "" {
			hosts = append(hosts, host)
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	// Longest first, so that a host that is a prefix of another one does
	// not win; then alphabetically, so that the pattern is deterministic.
	slices.SortFunc(hosts, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b))
	})
	hosts = slices.Compact(hosts)
	for i, host := range hosts {
		hosts[i] = regexp.QuoteMeta(host)
	}
	src := urlPrefix + strings.Join(hosts, "|") + urlSuffix
	re, _ := cached(urlRes, src) // quoted hosts always compile
	return re
}

// anchored compiles ^(?:expr)$.
func anchored(expr string) (*regexp.Regexp, error) {
	return cached(ownerRes, `^(?:`+expr+`)$`)
}

func cached(cache map[string]*regexp.Regexp, src string) (*regexp.Regexp, error) {
	mu.Lock()
	re, ok := cache[src]
	mu.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	if len(cache) < maxCached {
		cache[src] = re
	}
	mu.Unlock()
	return re, nil
}
