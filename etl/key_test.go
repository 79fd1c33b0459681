package etl

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseKey(t *testing.T) {
	t.Parallel()
	const (
		acct = "218007301253"
		name = acct + "_CloudTrail_us-east-1_20230710T1240Z_C1qUFaqvZS64BcIN.json.gz"
	)
	delivered := time.Date(2023, 7, 10, 12, 40, 0, 0, time.UTC)
	tests := []struct {
		name string
		key  string
		want Key
	}{
		{
			name: "plain",
			key:  "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/" + name,
			want: Key{Account: acct, Region: "us-east-1", Day: day(2023, 7, 10), Time: delivered, Name: name},
		},
		{
			name: "prefix",
			key:  "logs/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/" + name,
			want: Key{Prefix: "logs/", Account: acct, Region: "us-east-1", Day: day(2023, 7, 10), Time: delivered, Name: name},
		},
		{
			name: "deep prefix",
			key:  "a/b/c/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/" + name,
			want: Key{Prefix: "a/b/c/", Account: acct, Region: "us-east-1", Day: day(2023, 7, 10), Time: delivered, Name: name},
		},
		{
			name: "prefix named AWSLogs",
			key:  "AWSLogs/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/" + name,
			want: Key{Prefix: "AWSLogs/", Account: acct, Region: "us-east-1", Day: day(2023, 7, 10), Time: delivered, Name: name},
		},
		{
			name: "leading slash",
			key:  "/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/" + name,
			want: Key{Prefix: "/", Account: acct, Region: "us-east-1", Day: day(2023, 7, 10), Time: delivered, Name: name},
		},
		{
			name: "organization trail",
			key:  "AWSLogs/o-abcdef1234/218007301253/CloudTrail/eu-west-1/2024/02/29/" + name,
			want: Key{OrgID: "o-abcdef1234", Account: acct, Region: "eu-west-1", Day: day(2024, 2, 29), Time: day(2024, 2, 29), Name: name},
		},
		{
			name: "organization trail with prefix",
			key:  "trail/AWSLogs/o-abcdef1234/218007301253/CloudTrail/us-east-1/2023/07/10/" + name,
			want: Key{Prefix: "trail/", OrgID: "o-abcdef1234", Account: acct, Region: "us-east-1", Day: day(2023, 7, 10), Time: delivered, Name: name},
		},
		{
			name: "made-up region",
			key:  "AWSLogs/123456789012/CloudTrail/us-north-2r/2021/12/31/123456789012_CloudTrail_us-north-2r_20211231T2355Z_x.json.gz",
			want: Key{Account: "123456789012", Region: "us-north-2r", Day: day(2021, 12, 31), Time: time.Date(2021, 12, 31, 23, 55, 0, 0, time.UTC), Name: "123456789012_CloudTrail_us-north-2r_20211231T2355Z_x.json.gz"},
		},
		{
			name: "plain json",
			key:  "AWSLogs/123456789012/CloudTrail/global/2021/01/01/events.json",
			want: Key{Account: "123456789012", Region: "global", Day: day(2021, 1, 1), Time: day(2021, 1, 1), Name: "events.json"},
		},
		{
			name: "file time on another day falls back to the folder day",
			key:  "AWSLogs/123456789012/CloudTrail/us-east-1/2021/01/01/123456789012_CloudTrail_us-east-1_20210102T0005Z_x.json.gz",
			want: Key{Account: "123456789012", Region: "us-east-1", Day: day(2021, 1, 1), Time: day(2021, 1, 1), Name: "123456789012_CloudTrail_us-east-1_20210102T0005Z_x.json.gz"},
		},
		{
			name: "unparseable file time",
			key:  "AWSLogs/123456789012/CloudTrail/us-east-1/2021/01/01/123456789012_CloudTrail_us-east-1_2021-01-01_x.json.gz",
			want: Key{Account: "123456789012", Region: "us-east-1", Day: day(2021, 1, 1), Time: day(2021, 1, 1), Name: "123456789012_CloudTrail_us-east-1_2021-01-01_x.json.gz"},
		},
		{
			name: "impossible file time",
			key:  "AWSLogs/123456789012/CloudTrail/us-east-1/2021/01/01/123456789012_CloudTrail_us-east-1_20210101T2561Z_x.json.gz",
			want: Key{Account: "123456789012", Region: "us-east-1", Day: day(2021, 1, 1), Time: day(2021, 1, 1), Name: "123456789012_CloudTrail_us-east-1_20210101T2561Z_x.json.gz"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKey(tt.key)
			if err != nil {
				t.Fatalf("ParseKey(%q): %v", tt.key, err)
			}
			if !keysEqual(got, tt.want) {
				t.Errorf("ParseKey(%q)\n got %+v\nwant %+v", tt.key, got, tt.want)
			}
			if s := got.String(); s != tt.key {
				t.Errorf("String() = %q, want %q", s, tt.key)
			}
		})
	}
}

func TestParseKey_notLogKey(t *testing.T) {
	t.Parallel()
	const ok = "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1240Z_x.json.gz"
	if _, err := ParseKey(ok); err != nil {
		t.Fatalf("control key: %v", err)
	}
	tests := []struct {
		name string
		key  string
	}{
		{"empty", ""},
		{"slash", "/"},
		{"AWSLogs only", "AWSLogs/"},
		{"day folder placeholder", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/"},
		{"region folder placeholder", "AWSLogs/123456789012/CloudTrail/us-east-1/"},
		{"digest", "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2023/07/10/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20230710T124012Z.json.gz"},
		{"insight", "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2023/07/10/123456789012_CloudTrail-Insight_us-east-1_20230710T1240Z_x.json.gz"},
		{"other service", "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2023/07/10/x.json.gz"},
		{"lowercase service", "AWSLogs/123456789012/cloudtrail/us-east-1/2023/07/10/x.json.gz"},
		{"digest in org trail", "AWSLogs/o-abcdef1234/123456789012/CloudTrail-Digest/us-east-1/2023/07/10/x.json.gz"},
		{"text file", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/README.txt"},
		{"gz not json", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/x.gz"},
		{"json.gz.tmp", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/x.json.gz.tmp"},
		{"extension only", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/.json.gz"},
		{"json extension only", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/.json"},
		{"access test file", "AWSLogs/123456789012/CloudTrail-Digest/"},
		{"ConfigWritabilityCheckFile", "AWSLogs/123456789012/Config/ConfigWritabilityCheckFile"},
		{"short account", "AWSLogs/12345678901/CloudTrail/us-east-1/2023/07/10/x.json.gz"},
		{"long account", "AWSLogs/1234567890123/CloudTrail/us-east-1/2023/07/10/x.json.gz"},
		{"letters in account", "AWSLogs/12345678901a/CloudTrail/us-east-1/2023/07/10/x.json.gz"},
		{"no AWSLogs", "logs/123456789012/CloudTrail/us-east-1/2023/07/10/x.json.gz"},
		{"bad org id", "AWSLogs/o-ABCDEF1234/123456789012/CloudTrail/us-east-1/2023/07/10/x.json.gz"},
		{"short org id", "AWSLogs/o-abc/123456789012/CloudTrail/us-east-1/2023/07/10/x.json.gz"},
		{"org id without AWSLogs", "o-abcdef1234/123456789012/CloudTrail/us-east-1/2023/07/10/x.json.gz"},
		{"two levels between AWSLogs and account", "AWSLogs/x/y/123456789012/CloudTrail/us-east-1/2023/07/10/x.json.gz"},
		{"empty region", "AWSLogs/123456789012/CloudTrail//2023/07/10/x.json.gz"},
		{"missing region", "AWSLogs/123456789012/CloudTrail/2023/07/10/x.json.gz"},
		{"extra folder in day", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/sub/x.json.gz"},
		{"month 13", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/13/10/x.json.gz"},
		{"month 00", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/00/10/x.json.gz"},
		{"day 00", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/00/x.json.gz"},
		{"day 32", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/32/x.json.gz"},
		{"february 30", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/02/30/x.json.gz"},
		{"february 29 of a common year", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/02/29/x.json.gz"},
		{"one-digit month", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/7/10/x.json.gz"},
		{"two-digit year", "AWSLogs/123456789012/CloudTrail/us-east-1/23/07/10/x.json.gz"},
		{"signed day", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/+1/x.json.gz"},
		{"dashed date", "AWSLogs/123456789012/CloudTrail/us-east-1/2023-07-10/x.json.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseKey(tt.key)
			if err == nil {
				t.Fatalf("ParseKey(%q) = %+v, want an error", tt.key, k)
			}
			if !errors.Is(err, ErrNotLogKey) {
				t.Errorf("ParseKey(%q) error %v does not wrap ErrNotLogKey", tt.key, err)
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q does not name the key", err)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	t.Parallel()
	d := time.Date(2023, 7, 10, 15, 4, 5, 0, time.FixedZone("x", 3600*10)) // 2023-07-10 05:04 UTC
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"logs no prefix", LogsPrefix(""), "AWSLogs/"},
		{"logs prefix", LogsPrefix("p"), "p/AWSLogs/"},
		{"logs prefix with slash", LogsPrefix("p/"), "p/AWSLogs/"},
		{"account", AccountPrefix("", "", "123456789012"), "AWSLogs/123456789012/CloudTrail/"},
		{"account in org", AccountPrefix("p/q", "o-abcdef1234", "123456789012"), "p/q/AWSLogs/o-abcdef1234/123456789012/CloudTrail/"},
		{"region", RegionPrefix("", "", "123456789012", "eu-west-1"), "AWSLogs/123456789012/CloudTrail/eu-west-1/"},
		{"day in UTC", DayPrefix("", "", "123456789012", "eu-west-1", d), "AWSLogs/123456789012/CloudTrail/eu-west-1/2023/07/10/"},
		{"day padded", DayPrefix("x", "", "123456789012", "r", day(987, 1, 2)), "x/AWSLogs/123456789012/CloudTrail/r/0987/01/02/"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestIsOrgID(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"o-abcdef1234":                        true,
		"o-" + strings.Repeat("a", 32):        true,
		"o-" + strings.Repeat("a", 33):        false,
		"o-abcdef123":                         false,
		"o-abcdeF1234":                        false,
		"x-abcdef1234":                        false,
		"o_abcdef1234":                        false,
		"":                                    false,
		"123456789012":                        false,
		"o-abcdef-234":                        false,
		"o-" + strings.Repeat("0", 10) + "\n": false,
	} {
		if got := IsOrgID(s); got != want {
			t.Errorf("IsOrgID(%q) = %v, want %v", s, got, want)
		}
	}
}

func keysEqual(a, b Key) bool {
	return a.Prefix == b.Prefix && a.OrgID == b.OrgID && a.Account == b.Account && a.Region == b.Region &&
		a.Day.Equal(b.Day) && a.Time.Equal(b.Time) && a.Name == b.Name &&
		a.Day.Location() == time.UTC && a.Time.Location() == time.UTC
}

// FuzzParseKey checks that ParseKey never panics, that a parsed key prints
// back as the same string, and that a key built from fields by the layout
// functions parses back to the same fields.
func FuzzParseKey(f *testing.F) {
	f.Add("AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1240Z_C1qUFaqvZS64BcIN.json.gz",
		"", "", "218007301253", "us-east-1", int64(1688947200), "x.json.gz")
	f.Add("p/AWSLogs/o-abcdef1234/218007301253/CloudTrail/x/2024/02/29/a.json",
		"p/", "o-abcdef1234", "123456789012", "us-north-2r", int64(0), "1_CloudTrail_r_19700101T0000Z_u.json.gz")
	f.Add("AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/x.json.gz",
		"/", "", "000000000000", "r", int64(-62135596800), "a.json")
	f.Add("//AWSLogs//", "a//", "o-0123456789", "999999999999", "ü", int64(253402300799), "_20230710T1240Z_.json")
	f.Fuzz(func(t *testing.T, key, prefix, org, account, region string, sec int64, name string) {
		k, err := ParseKey(key)
		if err == nil {
			if s := k.String(); s != key {
				t.Fatalf("ParseKey(%q).String() = %q", key, s)
			}
			if k.Time.Before(k.Day) || !k.Time.Before(k.Day.AddDate(0, 0, 1)) {
				t.Fatalf("ParseKey(%q): time %v not on day %v", key, k.Time, k.Day)
			}
		} else if !errors.Is(err, ErrNotLogKey) {
			t.Fatalf("ParseKey(%q): error %v does not wrap ErrNotLogKey", key, err)
		}

		// Build a key from fields; only valid fields must round-trip.
		d := time.Unix(sec, 0).UTC()
		d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		if (prefix != "" && !strings.HasSuffix(prefix, "/")) || (org != "" && !IsOrgID(org)) || !IsAccountID(account) ||
			region == "" || strings.Contains(region, "/") || d.Year() < 0 || d.Year() > 9999 ||
			!hasLogExt(name) || strings.Contains(name, "/") {
			return
		}
		built := DayPrefix(prefix, org, account, region, d) + name
		got, err := ParseKey(built)
		if err != nil {
			t.Fatalf("ParseKey(%q) of a built key: %v", built, err)
		}
		if got.Prefix != prefix || got.OrgID != org || got.Account != account || got.Region != region ||
			!got.Day.Equal(d) || got.Name != name {
			t.Fatalf("ParseKey(%q) = %+v, want fields %q %q %q %q %v %q", built, got, prefix, org, account, region, d, name)
		}
	})
}
