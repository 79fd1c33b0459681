package pierone

import (
	"strings"
	"testing"
)

func TestNewValidatesURLs(t *testing.T) {
	tests := []struct {
		name    string
		urls    []string
		wantErr string // "" means no error
	}{
		{"none", nil, ""},
		{"blank entries skipped", []string{"", " ", "https://a.example.org "}, ""},
		{"two hosts", []string{"https://a.example.org", "http://b.example.org:8080/base/"}, ""},
		{"relative", []string{"a.example.org"}, "base URL #1"},
		{"other scheme", []string{"https://a.example.org", "ftp://b.example.org"}, "base URL #2: \"ftp://b.example.org\": the scheme"},
		{"no host", []string{"https:///x"}, "no host"},
		{"query", []string{"https://a.example.org/?x=1"}, "no query"},
		{"duplicate host", []string{"https://a.example.org", "http://A.example.org:8080"}, "same host \"a.example.org\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{URLs: tt.urls})
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New(%q) = %v, %v", tt.urls, c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "pierone: ") {
				t.Fatalf("New(%q) error %v; want one containing %q", tt.urls, err, tt.wantErr)
			}
		})
	}
}

func TestNewDefaultClient(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.http.HTTP == nil || c.http.HTTP.Timeout != DefaultTimeout || c.http.HTTP.Transport == nil {
		t.Fatalf("default client = %+v; want a timeout of %v and a transport", c.http.HTTP, DefaultTimeout)
	}
}

func TestRegistry(t *testing.T) {
	c, err := New(Config{URLs: []string{
		"https://registry.opensource.zalan.do",
		"https://PierOne.Example.org:8443/base",
		"http://[::1]:5000",
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		registry string
		want     bool
	}{
		{"registry.opensource.zalan.do", true},
		{"REGISTRY.opensource.zalan.do", true},
		{"registry.opensource.zalan.do:443", true},
		{"registry.opensource.zalan.do:", true},
		{"pierone.example.org", true},
		{"pierone.example.org:443", true},
		{"pierone.example.org:8443", true},
		{"[::1]", true},
		{"[::1]:5000", true},
		{"pierone.example.org:https", false},
		{"https://pierone.example.org", false},
		{"pierone.example.org/base", false},
		{"user@pierone.example.org", false},
		{" pierone.example.org", false},
		{"example.org", false},
		{"other.example.org", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := c.Registry(tt.registry); got != tt.want {
			t.Errorf("Registry(%q) = %v; want %v", tt.registry, got, tt.want)
		}
	}
	empty, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if empty.Registry("registry.opensource.zalan.do") {
		t.Error("a registry is known with no URL configured")
	}
}
