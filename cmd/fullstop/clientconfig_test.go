package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// envOf is a getenv over a map.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestClientConfigPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/fullstop/fullstop.yaml"},
		{map[string]string{"HOME": "/h"}, "/h/.config/fullstop/fullstop.yaml"},
	} {
		got, err := clientConfigPath(envOf(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("clientConfigPath(%v) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}

func TestClientConfigLoadAndSave(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, text string
		want       clientConfig
		bad        bool
	}{
		{"string.yaml", "url: https://fullstop.example.org\naccounts: '123456789012, 210987654321'\n", clientConfig{"https://fullstop.example.org", "123456789012,210987654321"}, false},
		{"list.yaml", "url: http://localhost:8080\naccounts: [123456789012, '210987654321']\n", clientConfig{"http://localhost:8080", "123456789012,210987654321"}, false},
		{"number.yaml", "accounts: 123456789012\n", clientConfig{"", "123456789012"}, false},
		{"empty.yaml", "", clientConfig{}, false},
		{"bad.yaml", "url: [\n", clientConfig{}, true},
		{"map.yaml", "accounts: {a: b}\n", clientConfig{}, true},
	} {
		got, err := loadClientConfig(write(tc.name, tc.text))
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v (error %v)", tc.name, got, err, tc.want, tc.bad)
		}
	}
	missing, err := loadClientConfig(filepath.Join(dir, "none.yaml"))
	if err != nil || missing != (clientConfig{}) {
		t.Errorf("missing file: %+v, %v", missing, err)
	}
	p := filepath.Join(dir, "new", "fullstop", "fullstop.yaml")
	want := clientConfig{URL: "https://f.example.org", Accounts: "123456789012"}
	if err := saveClientConfig(p, want); err != nil {
		t.Fatal(err)
	}
	if got, err := loadClientConfig(p); err != nil || got != want {
		t.Errorf("saved and loaded %+v, %v; want %+v", got, err, want)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestNormalizeClientURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"fullstop.example.org":         "https://fullstop.example.org",
		" http://localhost:8080/ ":     "http://localhost:8080",
		"https://f.example.org/base/":  "https://f.example.org/base",
		"ftp://f.example.org":          "",
		"":                             "",
		"https://":                     "",
		"http://127.0.0.1:8080/api/..": "http://127.0.0.1:8080/api/..",
	} {
		got, err := normalizeClientURL(in)
		if want == "" {
			if err == nil {
				t.Errorf("normalizeClientURL(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("normalizeClientURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestResolveClientSettings: a flag wins over the environment, which wins
// over the file.
func TestResolveClientSettings(t *testing.T) {
	t.Parallel()
	file := clientConfig{URL: "file.example.org", Accounts: "111111111111"}
	env := map[string]string{"FULLSTOP_URL": "http://env.example.org", "FULLSTOP_ACCOUNTS": "222222222222,333333333333"}
	for _, tc := range []struct {
		name             string
		file             clientConfig
		env              map[string]string
		flagURL, flagAcc string
		urlSet, accSet   bool
		wantURL          string
		wantAccounts     []string
	}{
		{"file only", file, nil, "", "", false, false, "https://file.example.org", []string{"111111111111"}},
		{"environment over file", file, env, "", "", false, false, "http://env.example.org", []string{"222222222222", "333333333333"}},
		{"flags over both", file, env, "flag.example.org", "444444444444", true, true, "https://flag.example.org", []string{"444444444444"}},
		{"an empty accounts flag clears them", file, env, "", "", false, true, "http://env.example.org", nil},
	} {
		got, err := resolveClientSettings(tc.file, envOf(tc.env), tc.flagURL, tc.urlSet, tc.flagAcc, tc.accSet)
		if err != nil || got.URL != tc.wantURL || !slices.Equal(got.Accounts, tc.wantAccounts) {
			t.Errorf("%s: %+v, %v; want %s %v", tc.name, got, err, tc.wantURL, tc.wantAccounts)
		}
	}
	_, err := resolveClientSettings(clientConfig{}, envOf(nil), "", false, "", false)
	if !errors.Is(err, errMissingURL) || !strings.Contains(err.Error(), "fullstop configure") || exitCode(err) != 2 {
		t.Errorf("no URL: %v (exit %d), want the reference's message and a usage error", err, exitCode(err))
	}
	if _, err := resolveClientSettings(clientConfig{URL: "ftp://x"}, envOf(nil), "", false, "", false); exitCode(err) != 2 {
		t.Errorf("bad URL: %v, want a usage error", err)
	}
}

func TestClientToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		env       map[string]string
		tokenFile string
		want      string
		bad       bool
	}{
		{"none", nil, "", "", false},
		{"environment first", map[string]string{"FULLSTOP_TOKEN": "env-token", "FULLSTOP_TOKEN_COMMAND": "echo cmd"}, file, "env-token", false},
		{"file before command", map[string]string{"FULLSTOP_TOKEN_COMMAND": "echo cmd"}, file, "file-token", false},
		{"command", map[string]string{"FULLSTOP_TOKEN_COMMAND": "printf 'cmd-token\\n'"}, "", "cmd-token", false},
		{"command fails", map[string]string{"FULLSTOP_TOKEN_COMMAND": "echo no >&2; exit 3"}, "", "", true},
		{"command prints two lines", map[string]string{"FULLSTOP_TOKEN_COMMAND": "printf 'a\\nb\\n'"}, "", "", true},
		{"command prints nothing", map[string]string{"FULLSTOP_TOKEN_COMMAND": "true"}, "", "", true},
		{"file missing", nil, filepath.Join(dir, "nope"), "", true},
		{"file empty", nil, empty, "", true},
	} {
		got, err := clientToken(ctx, envOf(tc.env), tc.tokenFile)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("%s: %q, %v; want %q (error %v)", tc.name, got, err, tc.want, tc.bad)
		}
		if err != nil && exitCode(err) != 2 {
			t.Errorf("%s: exit %d, want 2", tc.name, exitCode(err))
		}
	}
}
