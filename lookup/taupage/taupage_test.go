package taupage

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

const fixtures = "../../testdata/cloudtrail/fullstop-fixtures"

// fixtureFiles are the reference's Taupage user data fixtures (§11).
var fixtureFiles = []string{
	"aws-userdata-support__taupage01.yaml",
	"aws-userdata-support__taupage-missing-app-version.yaml",
	"violation-jpa__userdata.yaml",
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	for _, tc := range []struct {
		file string
		want UserData
	}{
		{"aws-userdata-support__taupage01.yaml", UserData{
			ApplicationID: "fullstop", ApplicationVersion: "5", Runtime: "Docker",
			Source: "registry.opensource.zalan.do/stups/fullstop:5",
		}},
		{"aws-userdata-support__taupage-missing-app-version.yaml", UserData{
			ApplicationID: "fullstop", Runtime: "Docker",
			Source: "registry.opensource.zalan.do/stups/fullstop:5",
		}},
		{"violation-jpa__userdata.yaml", UserData{ApplicationID: "fullstop", ApplicationVersion: "0.22"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw := readFixture(t, tc.file)
			got, ok := Parse(raw)
			if !ok || got != tc.want {
				t.Errorf("Parse = %+v, %v; want %+v, true", got, ok, tc.want)
			}
			got, ok = Decode(base64.StdEncoding.EncodeToString(raw))
			if !ok || got != tc.want {
				t.Errorf("Decode = %+v, %v; want %+v, true", got, ok, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want UserData
		ok   bool
	}{
		{"empty", "", UserData{}, false},
		{"white space", " \n\t\n", UserData{}, false},
		{"comment only", "#taupage-ami-config\n", UserData{}, false},
		{"scalar", "just some text", UserData{}, false},
		{"number", "42", UserData{}, false},
		{"null document", "~\n", UserData{}, false},
		{"list", "- application_id: fullstop\n- source: x\n", UserData{}, false},
		{"invalid YAML", "application_id: [fullstop\nsource: x\n", UserData{}, false},
		{"invalid YAML tab indent", "a:\n\t- b\n", UserData{}, false},
		{"non-UTF-8", "application_id: caf\xe9\n", UserData{}, false},
		{"binary", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x00\x01\x02", UserData{}, false},
		{"NUL bytes", "application_id: a\x00b\n", UserData{}, false},
		{"mapping without known keys", "#taupage-ami-config\nfoo: bar\n", UserData{}, true},
		{"empty flow mapping", "{}", UserData{}, true},
		{"blank values", "application_id: '  '\napplication_version: \"\"\nruntime:\nsource: ~\n", UserData{}, true},
		{"null values", "application_id: null\nsource: Null\n", UserData{}, true},
		{"trimmed", "application_id: '  fullstop  '\nsource: \" reg/team/app:1 \"\n",
			UserData{ApplicationID: "fullstop", Source: "reg/team/app:1"}, true},
		{"numbers and booleans as text",
			"application_id: 123\napplication_version: 1.10\nruntime: true\nsource: 0x1F\n",
			UserData{ApplicationID: "123", ApplicationVersion: "1.10", Runtime: "true", Source: "0x1F"}, true},
		{"quoted number", "application_version: '0.22'\n", UserData{ApplicationVersion: "0.22"}, true},
		{"keys are exact", "Application_ID: x\nSOURCE: y\nruntime : Docker\n", UserData{Runtime: "Docker"}, true},
		{"non-scalar value leaves field absent",
			"application_id: {a: b}\nsource: [x]\nruntime: Docker\n", UserData{Runtime: "Docker"}, true},
		{"duplicate key takes last", "application_id: a\napplication_id: b\n", UserData{ApplicationID: "b"}, true},
		{"alias", "application_id: &x fullstop\nsource: *x\n", UserData{ApplicationID: "fullstop", Source: "fullstop"}, true},
		{"flow mapping", "{application_id: x, source: 'r/t/a:1'}", UserData{ApplicationID: "x", Source: "r/t/a:1"}, true},
		{"block scalar", "source: |\n  reg/team/app:1\n", UserData{Source: "reg/team/app:1"}, true},
		{"BOM", "\ufeffapplication_id: x\n", UserData{ApplicationID: "x"}, true},
		{"CRLF", "#taupage-ami-config\r\napplication_id: x\r\nruntime: Docker\r\n", UserData{ApplicationID: "x", Runtime: "Docker"}, true},
		{"first document of several", "application_id: a\n---\napplication_id: b\n", UserData{ApplicationID: "a"}, true},
		{"complex key ignored", "? [a]\n: b\napplication_id: x\n", UserData{ApplicationID: "x"}, true},
		{"unicode value", "application_id: café\n", UserData{ApplicationID: "café"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Parse([]byte(tc.in))
			if ok != tc.ok || got != tc.want {
				t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func gz(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecode(t *testing.T) {
	raw := readFixture(t, "aws-userdata-support__taupage01.yaml")
	want, _ := Parse(raw)
	small := "application_id: x\n" // 18 bytes: base64 with padding "=="
	enc := base64.StdEncoding.EncodeToString
	zipped := gz(t, raw)
	truncated := zipped[:len(zipped)-6]
	corrupt := bytes.Clone(zipped)
	corrupt[len(corrupt)-5] ^= 0xff // the CRC-32 trailer
	big := gz(t, append([]byte("application_id: x\nfoo: |\n"), bytes.Repeat([]byte("  aaaaaaaaaaaaaaa\n"), MaxDecompressed/18+1)...))
	atLimit := append([]byte("application_id: x\n#"), bytes.Repeat([]byte("a"), MaxDecompressed-19)...)
	for _, tc := range []struct {
		name string
		in   string
		want UserData
		ok   bool
	}{
		{"plain", enc(raw), want, true},
		{"surrounding white space", "  \n" + enc(raw) + "\r\n", want, true},
		{"line-wrapped", wrap(enc(raw), 76), want, true},
		{"padded", enc([]byte(small)), UserData{ApplicationID: "x"}, true},
		{"missing padding", strings.TrimRight(enc([]byte(small)), "="), UserData{ApplicationID: "x"}, true},
		{"gzip", enc(zipped), want, true},
		{"gzip at the size bound", enc(gz(t, atLimit)), UserData{ApplicationID: "x"}, true},
		{"gzip one byte above the bound", enc(gz(t, append(atLimit, 0x61))), UserData{}, false},
		{"gzip above the size bound", enc(big), UserData{}, false},
		{"gzip truncated", enc(truncated), UserData{}, false},
		{"gzip bad checksum", enc(corrupt), UserData{}, false},
		{"gzip magic only", enc([]byte{0x1f, 0x8b}), UserData{}, false},
		{"empty", "", UserData{}, false},
		{"blank", " \n ", UserData{}, false},
		{"padding only", "==", UserData{}, false},
		{"not base64", "application_id: x", UserData{}, false},
		{"URL alphabet rejected", "_-_-", UserData{}, false},
		{"base64 of a list", enc([]byte("- a\n- b\n")), UserData{}, false},
		{"base64 of binary", enc([]byte{0, 1, 2, 0xff, 0xfe}), UserData{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Decode(tc.in)
			if ok != tc.ok || got != tc.want {
				t.Errorf("Decode = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteString("\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Image
		ok   bool
	}{
		{"registry.opensource.zalan.do/stups/fullstop:5", Image{"registry.opensource.zalan.do", "stups", "fullstop", "5"}, true},
		{"reg.example.org:443/team/app:1.0", Image{"reg.example.org:443", "team", "app", "1.0"}, true},
		{"a/b/team/app:tag", Image{"a/b", "team", "app", "tag"}, true},
		{"pierone.example.org/team/app:1.0-SNAPSHOT", Image{"pierone.example.org", "team", "app", "1.0-SNAPSHOT"}, true},
		{"reg/team/app:1:2", Image{"reg", "team", "app:1", "2"}, true}, // greedy artifact, as the reference
		{"reg/team/app:v/1", Image{"reg", "team", "app", "v/1"}, true},
		{"/team/app:1", Image{"", "team", "app", "1"}, true}, // empty registry matches the regex; no Pier One host is ""
		{"reg/team/app", Image{}, false},                     // missing tag
		{"reg/team/app:", Image{}, false},                    // empty tag
		{"reg/team/:1", Image{}, false},                      // empty artifact
		{"reg//app:1", Image{}, false},                       // empty team
		{"team/app:1", Image{}, false},                       // no registry part
		{"app:1", Image{}, false},
		{"", Image{}, false},
		{"reg/team/app:1\n", Image{}, false},
	} {
		got, ok := ParseSource(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseSource(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// checkUserData holds for every result of Parse and Decode.
func checkUserData(t *testing.T, u UserData, ok bool) {
	if !ok && u != (UserData{}) {
		t.Fatalf("not ok but %+v", u)
	}
	for _, s := range []string{u.ApplicationID, u.ApplicationVersion, u.Runtime, u.Source} {
		if s != strings.TrimSpace(s) || !utf8.ValidString(s) {
			t.Fatalf("value %q not trimmed or not UTF-8", s)
		}
	}
}

func fuzzSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		nil, []byte("#taupage-ami-config\n"), []byte("- a\n"), []byte("a: [b"),
		[]byte("application_id: &a x\nsource: *a\n"), []byte("application_id: caf\xe9"),
		[]byte("{application_id: 1, source: r/t/a:1-SNAPSHOT}"),
	}
	for _, name := range fixtureFiles {
		seeds = append(seeds, readFixture(f, name))
	}
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		u, ok := Parse(raw)
		checkUserData(t, u, ok)
		if img, ok := ParseSource(u.Source); ok && img.Team == "" {
			t.Fatalf("ParseSource(%q) gave an empty team", u.Source)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(base64.StdEncoding.EncodeToString(s))
		f.Add(base64.StdEncoding.EncodeToString(gz(f, s)))
	}
	f.Add("==")
	f.Add(" YQ== \n")
	f.Fuzz(func(t *testing.T, b64 string) {
		u, ok := Decode(b64)
		checkUserData(t, u, ok)
	})
}
