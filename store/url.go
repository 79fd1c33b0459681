package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// jdbcParams maps the JDBC driver parameters that have a libpq equivalent
// to its name; "" drops a parameter that only tunes the Java driver.
var jdbcParams = map[string]string{
	"user":                          "user",
	"password":                      "password",
	"sslmode":                       "sslmode",
	"sslcert":                       "sslcert",
	"sslkey":                        "sslkey",
	"sslrootcert":                   "sslrootcert",
	"sslpassword":                   "sslpassword",
	"ApplicationName":               "application_name",
	"currentSchema":                 "search_path",
	"connectTimeout":                "connect_timeout",
	"options":                       "options",
	"loginTimeout":                  "",
	"socketTimeout":                 "",
	"tcpKeepAlive":                  "",
	"prepareThreshold":              "",
	"preparedStatementCacheQueries": "",
	"preparedStatementCacheSizeMiB": "",
	"defaultRowFetchSize":           "",
	"reWriteBatchedInserts":         "",
	"stringtype":                    "",
	"ssl":                           "", // handled below
	"sslfactory":                    "", // handled below
}

// NormalizeURL turns a database address into a postgres:// URL for pgx.
//
// It accepts postgres:// and postgresql:// URLs and the reference's JDBC
// form jdbc:postgresql://host:port/db?params (also jdbc:postgresql:db,
// which means localhost). JDBC parameters are translated to their libpq
// names (ApplicationName, currentSchema, connectTimeout; ssl=true means
// sslmode=verify-full, or require with the NonValidatingFactory), parameters
// that only tune the Java driver are dropped, and any other one is an error.
// A non-empty user or password (DATABASE_USER, DATABASE_PASSWORD) replaces
// the one in the address. Error messages never contain the password.
func NormalizeURL(raw, user, password string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("empty database url")
	}
	scheme, _, _ := strings.Cut(raw, ":")
	var (
		u   *url.URL
		err error
	)
	switch lower := strings.ToLower(raw); {
	case strings.HasPrefix(lower, "jdbc:postgresql:"):
		u, err = parseJDBC(raw[len("jdbc:postgresql:"):])
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		u, err = parseURL(raw)
	default:
		return "", fmt.Errorf("unsupported database url scheme %q: want postgres://, postgresql:// or jdbc:postgresql://", scheme)
	}
	if err != nil {
		return "", err
	}
	u.Scheme = "postgres"
	q := u.Query()
	if user != "" || password != "" {
		name := u.User.Username()
		pw, hasPW := u.User.Password()
		if user != "" {
			name = user
			q.Del("user")
		}
		if password != "" {
			pw, hasPW = password, true
			q.Del("password")
		}
		if hasPW {
			u.User = url.UserPassword(name, pw)
		} else {
			u.User = url.User(name)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// parseURL parses a postgres:// URL without echoing it in errors.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL, password included
		}
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if u.Opaque != "" {
		return nil, errors.New("parse database url: missing // after the scheme")
	}
	return u, nil
}

// parseJDBC parses what follows "jdbc:postgresql:".
func parseJDBC(rest string) (*url.URL, error) {
	if !strings.HasPrefix(rest, "//") {
		// jdbc:postgresql:database or jdbc:postgresql:/ : the local server.
		rest = "//localhost/" + strings.TrimPrefix(rest, "/")
	}
	u, err := parseURL("postgres:" + rest)
	if err != nil {
		return nil, fmt.Errorf("jdbc url: %w", err)
	}
	if u.Host == "" {
		u.Host = "localhost"
	}
	in := u.Query()
	out := url.Values{}
	for name, values := range in {
		to, known := jdbcParams[name]
		if !known {
			return nil, fmt.Errorf("jdbc url: unsupported parameter %q", name)
		}
		if to != "" {
			out[to] = values
		}
	}
	if in.Get("ssl") == "true" && out.Get("sslmode") == "" {
		mode := "verify-full"
		if strings.HasSuffix(in.Get("sslfactory"), ".NonValidatingFactory") {
			mode = "require"
		}
		out.Set("sslmode", mode)
	}
	if f := in.Get("sslfactory"); f != "" && !strings.HasSuffix(f, ".NonValidatingFactory") {
		return nil, fmt.Errorf("jdbc url: unsupported sslfactory %q", f)
	}
	u.RawQuery = out.Encode()
	return u, nil
}
