package taupage

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// MaxDecompressed bounds the size of gzip-compressed user data once
// decompressed; larger payloads are treated as no user data.
const MaxDecompressed = 1 << 20

// The keys of the Taupage user data fullstop reads (exact, lower-case).
const (
	keyApplicationID      = "application_id"
	keyApplicationVersion = "application_version"
	keyRuntime            = "runtime"
	keySource             = "source"
)

// UserData is what fullstop reads from an instance's Taupage user data.
type UserData struct {
	// ApplicationID, ApplicationVersion, Runtime and Source are the values
	// of application_id, application_version, runtime and source, trimmed;
	// "" when absent, null, blank or not a scalar.
	ApplicationID, ApplicationVersion, Runtime, Source string
}

// Parse parses raw user data (already base64-decoded). ok is false when the
// bytes are not a YAML mapping (empty, a comment only, a scalar, a list,
// invalid YAML, not UTF-8, binary): the reference treats that as "no user
// data" (MISSING_USER_DATA). Values YAML would read as numbers or booleans
// come back as their text (application_version: 5 gives "5"); unknown keys
// are ignored. Parse never panics.
func Parse(raw []byte) (u UserData, ok bool) {
	defer func() {
		if recover() != nil { // a YAML library bug must not stop the caller
			u, ok = UserData{}, false
		}
	}()
	if len(bytes.TrimSpace(raw)) == 0 || !utf8.Valid(raw) {
		return UserData{}, false
	}
	var doc yaml.Node
	if err := yaml.Load(raw, &doc, yaml.WithSingleDocument(), yaml.WithUniqueKeys(false)); err != nil {
		return UserData{}, false
	}
	m := &doc
	if m.Kind == yaml.DocumentNode {
		if len(m.Content) != 1 {
			return UserData{}, false
		}
		m = m.Content[0]
	}
	if m.Kind != yaml.MappingNode {
		return UserData{}, false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		var field *string
		switch k.Value {
		case keyApplicationID:
			field = &u.ApplicationID
		case keyApplicationVersion:
			field = &u.ApplicationVersion
		case keyRuntime:
			field = &u.Runtime
		case keySource:
			field = &u.Source
		default:
			continue
		}
		*field = scalarText(m.Content[i+1])
	}
	return u, true
}

// scalarText is the trimmed text of a scalar node (following one alias),
// "" for null and for anything that is not a scalar.
func scalarText(n *yaml.Node) string {
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return ""
	}
	s := strings.TrimSpace(n.Value)
	if !utf8.ValidString(s) {
		return ""
	}
	return s
}

// Decode base64-decodes user data as DescribeInstanceAttribute returns it
// (standard alphabet; white space anywhere and missing or extra padding are
// tolerated), gunzips it when it starts with the gzip magic bytes 1f 8b (at
// most MaxDecompressed bytes once decompressed), then calls Parse. ok is
// false for empty or undecodable input.
func Decode(b64 string) (u UserData, ok bool) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			return -1
		}
		return r
	}, b64)
	s = strings.TrimRight(s, "=")
	if s == "" {
		return UserData{}, false
	}
	raw, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return UserData{}, false
	}
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		if raw, ok = gunzip(raw); !ok {
			return UserData{}, false
		}
	}
	return Parse(raw)
}

// gunzip decompresses a gzip payload of at most MaxDecompressed bytes.
func gunzip(b []byte) ([]byte, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, false
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, MaxDecompressed+1))
	if err != nil || len(out) > MaxDecompressed {
		return nil, false
	}
	return out, true
}

// Image is a docker image reference as the reference's Pier One lookup
// splits a Taupage source.
type Image struct{ Registry, Team, Artifact, Tag string }

// sourcePattern is the reference's split of source (§3.4, "Pier One tag"):
// the first group is greedy, so the registry takes every path segment but
// the last two (a/b/team/app:tag gives registry "a/b").
var sourcePattern = regexp.MustCompile(`^(.*)/(.+)/(.+):(.+)$`)

// ParseSource splits a Taupage source such as
// "registry.opensource.zalan.do/stups/fullstop:5" with the reference's
// regular expression ^(.*)/(.+)/(.+):(.+)$. ok is false when it does not
// match (no tag, fewer than two '/', an empty team, artifact or tag). The
// registry may be empty ("/team/app:1"), as in the reference; callers match
// it against the configured Pier One hosts, so it then matches none.
func ParseSource(source string) (Image, bool) {
	m := sourcePattern.FindStringSubmatch(source)
	if m == nil {
		return Image{}, false
	}
	return Image{Registry: m[1], Team: m[2], Artifact: m[3], Tag: m[4]}, true
}
