package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// clientConfig is the client's configuration file, fullstop.yaml, as the
// reference's CLI writes it: the API's URL and the account ids a listing
// is limited to by default.
type clientConfig struct {
	URL      string `yaml:"url,omitempty"`
	Accounts string `yaml:"accounts,omitempty"` // comma-separated, as the reference stores them
}

// clientConfigPath is $XDG_CONFIG_HOME/fullstop/fullstop.yaml, else
// ~/.config/fullstop/fullstop.yaml.
func clientConfigPath(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "fullstop", "fullstop.yaml"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no configuration folder: set XDG_CONFIG_HOME or HOME: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".config", "fullstop", "fullstop.yaml"), nil
}

// loadClientConfig reads the file at path; a missing file is an empty
// configuration. accounts may be a string or a list in the file.
func loadClientConfig(path string) (clientConfig, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return clientConfig{}, nil
	}
	if err != nil {
		return clientConfig{}, fmt.Errorf("read configuration: %w", err)
	}
	var raw struct {
		URL      string    `yaml:"url"`
		Accounts yaml.Node `yaml:"accounts"`
	}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return clientConfig{}, fmt.Errorf("configuration %s: %w", path, err)
	}
	cfg := clientConfig{URL: strings.TrimSpace(raw.URL)}
	switch raw.Accounts.Kind {
	case 0:
	case yaml.ScalarNode:
		cfg.Accounts = strings.Join(splitList(raw.Accounts.Value), ",")
	case yaml.SequenceNode:
		var list []string
		if err := raw.Accounts.Decode(&list); err != nil {
			return clientConfig{}, fmt.Errorf("configuration %s: accounts: %w", path, err)
		}
		cfg.Accounts = strings.Join(splitList(strings.Join(list, ",")), ",")
	default:
		return clientConfig{}, fmt.Errorf("configuration %s: accounts must be a comma-separated string or a list", path)
	}
	return cfg, nil
}

// saveClientConfig writes cfg to path, creating its folder.
func saveClientConfig(path string, cfg clientConfig) error {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("store configuration: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store configuration: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("store configuration: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store configuration: %w", err)
	}
	return nil
}

// normalizeClientURL adds https:// to a URL without a scheme and allows
// only http and https, as the reference's configure.
func normalizeClientURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("the URL is empty")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("URL %q: only http and https are allowed", s)
	}
	if u.Host == "" {
		return "", fmt.Errorf("URL %q has no host", s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// clientSettings are the client's effective settings: a flag wins over
// the environment (FULLSTOP_URL, FULLSTOP_ACCOUNTS), which wins over the
// file.
type clientSettings struct {
	URL      string
	Accounts []string
}

// resolveClientSettings merges the flag values (flagURL, flagAccounts;
// set says whether each was given on the command line), the environment
// and the file.
func resolveClientSettings(file clientConfig, getenv func(string) string, flagURL string, urlSet bool, flagAccounts string, accountsSet bool) (clientSettings, error) {
	pick := func(flag string, set bool, env, fromFile string) string {
		switch {
		case set:
			return flag
		case getenv(env) != "":
			return getenv(env)
		}
		return fromFile
	}
	raw := pick(flagURL, urlSet, "FULLSTOP_URL", file.URL)
	if strings.TrimSpace(raw) == "" {
		return clientSettings{}, errMissingURL
	}
	u, err := normalizeClientURL(raw)
	if err != nil {
		return clientSettings{}, usagef("--url (FULLSTOP_URL): %v", err)
	}
	return clientSettings{URL: u, Accounts: splitList(pick(flagAccounts, accountsSet, "FULLSTOP_ACCOUNTS", file.Accounts))}, nil
}

// errMissingURL is the reference's message, pointing at our configure.
var errMissingURL = usagef(`Missing configuration URL. Please run "fullstop configure" (or set FULLSTOP_URL).`)

// tokenCommandTimeout bounds FULLSTOP_TOKEN_COMMAND.
const tokenCommandTimeout = 30 * time.Second

// clientToken returns the bearer token: FULLSTOP_TOKEN, else the file
// tokenFile, else the output of FULLSTOP_TOKEN_COMMAND run by the shell
// (once per invocation); "" when none is configured.
func clientToken(ctx context.Context, getenv func(string) string, tokenFile string) (string, error) {
	if t := strings.TrimSpace(getenv("FULLSTOP_TOKEN")); t != "" {
		return t, nil
	}
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", usagef("--token-file (FULLSTOP_TOKEN_FILE): %v", err)
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", usagef("--token-file (FULLSTOP_TOKEN_FILE): %s is empty", tokenFile)
		}
		return t, nil
	}
	command := strings.TrimSpace(getenv("FULLSTOP_TOKEN_COMMAND"))
	if command == "" {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, tokenCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return "", usagef("FULLSTOP_TOKEN_COMMAND %q failed: %v %s", command, err, msg)
	}
	t := strings.TrimSpace(string(out))
	switch {
	case t == "":
		return "", usagef("FULLSTOP_TOKEN_COMMAND %q printed no token", command)
	case strings.ContainsAny(t, "\n\r"):
		return "", usagef("FULLSTOP_TOKEN_COMMAND %q must print one token, it printed %d lines", command, strings.Count(t, "\n")+1)
	}
	return t, nil
}
