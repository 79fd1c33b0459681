package kio

import (
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/lookup/httpjson"
)

func TestNewValidatesBaseURL(t *testing.T) {
	tests := []struct {
		name, url string
		ok        bool
	}{
		{"https", "https://kio.example.org", true},
		{"http with path", "http://kio.example.org:8080/base/", true},
		{"empty", "", false},
		{"relative", "kio.example.org/apps", false},
		{"other scheme", "ftp://kio.example.org", false},
		{"no host", "https:///apps", false},
		{"query", "https://kio.example.org?x=1", false},
		{"fragment", "https://kio.example.org#x", false},
		{"unparsable", "https://kio example.org:x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{BaseURL: tt.url})
			if (err == nil) != tt.ok {
				t.Fatalf("New(%q) = %v, %v; want ok=%v", tt.url, c, err, tt.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "kio: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestNewDefaultClient(t *testing.T) {
	c, err := New(Config{BaseURL: "https://kio.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if c.http.HTTP == nil || c.http.HTTP.Timeout != DefaultTimeout || c.http.HTTP.Transport == nil {
		t.Fatalf("default client = %+v; want a timeout of %v and a transport", c.http.HTTP, DefaultTimeout)
	}
}

func TestJoinPath(t *testing.T) {
	c, err := New(Config{BaseURL: "https://user:pw@kio.example.org/base/"})
	if err != nil {
		t.Fatal(err)
	}
	got := httpjson.JoinPath(c.base, "apps", "a/b c?%").String()
	want := "https://user:pw@kio.example.org/base/apps/a%2Fb%20c%3F%25"
	if got != want {
		t.Errorf("joinPath = %q; want %q", got, want)
	}
}
