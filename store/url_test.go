package store

import (
	"strings"
	"testing"
)

func TestNormalizeURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		raw, user, pw  string
		want           string
		wantErr        string // part of the error; "" = no error
		secretNotInErr string
	}{
		{name: "postgres url unchanged", raw: "postgres://u:p@db:5432/fullstop?sslmode=disable",
			want: "postgres://u:p@db:5432/fullstop?sslmode=disable"},
		{name: "postgresql scheme", raw: "postgresql://db/fullstop", want: "postgres://db/fullstop"},
		{name: "upper case scheme", raw: "PostgreSQL://db/fullstop", want: "postgres://db/fullstop"},
		{name: "surrounding space", raw: "  postgres://db/fullstop\n", want: "postgres://db/fullstop"},
		{name: "reference default", raw: "jdbc:postgresql://localhost:5432/fullstop", user: "postgres", pw: "postgres",
			want: "postgres://postgres:postgres@localhost:5432/fullstop"},
		{name: "jdbc without port", raw: "jdbc:postgresql://db.example.org/fullstop",
			want: "postgres://db.example.org/fullstop"},
		{name: "jdbc database only", raw: "jdbc:postgresql:fullstop", want: "postgres://localhost/fullstop"},
		{name: "jdbc ipv6", raw: "jdbc:postgresql://[::1]:5433/fullstop", want: "postgres://[::1]:5433/fullstop"},
		{name: "jdbc multi host", raw: "jdbc:postgresql://a:5432,b:5433/fullstop", want: "postgres://a:5432,b:5433/fullstop"},
		{name: "jdbc user and password parameters", raw: "jdbc:postgresql://db/fullstop?user=u&password=p",
			want: "postgres://db/fullstop?password=p&user=u"},
		{name: "arguments replace jdbc parameters", raw: "jdbc:postgresql://db/fullstop?user=u&password=p", user: "v", pw: "q",
			want: "postgres://v:q@db/fullstop"},
		{name: "arguments replace url user", raw: "postgres://u:p@db/fullstop", user: "v", pw: "q",
			want: "postgres://v:q@db/fullstop"},
		{name: "user argument keeps url password", raw: "postgres://u:p@db/fullstop", user: "v",
			want: "postgres://v:p@db/fullstop"},
		{name: "password argument keeps url user", raw: "postgres://u@db/fullstop", pw: "q",
			want: "postgres://u:q@db/fullstop"},
		{name: "password with special characters", raw: "postgres://db/fullstop", user: "u", pw: "p@ss/w:rd?",
			want: "postgres://u:p%40ss%2Fw%3Ard%3F@db/fullstop"},
		{name: "jdbc ssl true", raw: "jdbc:postgresql://db/fullstop?ssl=true", want: "postgres://db/fullstop?sslmode=verify-full"},
		{name: "jdbc ssl non validating", raw: "jdbc:postgresql://db/fullstop?ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory",
			want: "postgres://db/fullstop?sslmode=require"},
		{name: "jdbc explicit sslmode wins", raw: "jdbc:postgresql://db/fullstop?ssl=true&sslmode=prefer",
			want: "postgres://db/fullstop?sslmode=prefer"},
		{name: "jdbc renamed parameters", raw: "jdbc:postgresql://db/fullstop?ApplicationName=fs&currentSchema=x&connectTimeout=5",
			want: "postgres://db/fullstop?application_name=fs&connect_timeout=5&search_path=x"},
		{name: "jdbc driver tuning dropped", raw: "jdbc:postgresql://db/fullstop?prepareThreshold=0&socketTimeout=30",
			want: "postgres://db/fullstop"},
		{name: "jdbc unknown parameter", raw: "jdbc:postgresql://db/fullstop?frobnicate=1", wantErr: `unsupported parameter "frobnicate"`},
		{name: "jdbc other ssl factory", raw: "jdbc:postgresql://db/fullstop?ssl=true&sslfactory=com.Custom", wantErr: "unsupported sslfactory"},
		{name: "empty", raw: " ", wantErr: "empty database url"},
		{name: "mysql", raw: "mysql://u:secret@db/x", wantErr: `unsupported database url scheme "mysql"`, secretNotInErr: "secret"},
		{name: "keyword form", raw: "host=db dbname=x", wantErr: "unsupported database url scheme"},
		{name: "bad url hides password", raw: "postgres://u:secret@db:port/x", wantErr: "parse database url", secretNotInErr: "secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeURL(tt.raw, tt.user, tt.pw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NormalizeURL(%q) error = %v, want one containing %q", tt.raw, err, tt.wantErr)
				}
				if tt.secretNotInErr != "" && strings.Contains(err.Error(), tt.secretNotInErr) {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizeURL(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("NormalizeURL(%q, %q, %q) = %q, want %q", tt.raw, tt.user, tt.pw, got, tt.want)
			}
		})
	}
}
