package etl

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotLogKey is wrapped by ParseKey's errors: the key is not a CloudTrail
// log file (a digest or insight file, a folder placeholder, another file).
var ErrNotLogKey = errors.New("not a CloudTrail log key")

// Names in CloudTrail's key layout.
const (
	logsFolder    = "AWSLogs"
	serviceFolder = "CloudTrail"
	fileTimeFmt   = "20060102T1504Z"
)

// Key is a parsed CloudTrail log object key:
//
//	[<prefix>/]AWSLogs/[<org id>/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<name>
type Key struct {
	// Prefix is everything before "AWSLogs/": "" or a string ending in "/".
	Prefix string
	// OrgID is the organization id of an organization trail ("o-..."),
	// else "".
	OrgID   string
	Account string // 12-digit AWS account id
	Region  string // any non-empty folder name
	// Day is UTC midnight of the folder date.
	Day time.Time
	// Time is the delivery time in the file name
	// (<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<unique>.json.gz) when
	// it parses and falls on Day, else Day. So a day folder holds exactly
	// the keys whose Time is on that day.
	Time time.Time
	Name string // the file name, the last path element
}

// String returns the object key k was parsed from.
func (k Key) String() string {
	return DayPrefix(k.Prefix, k.OrgID, k.Account, k.Region, k.Day) + k.Name
}

// ParseKey parses a CloudTrail log object key. Keys that are not log files
// (digest and insight files, folder placeholders, files not ending in .json
// or .json.gz, impossible dates) return an error wrapping ErrNotLogKey.
func ParseKey(key string) (Key, error) {
	notLog := func(why string) (Key, error) {
		return Key{}, fmt.Errorf("parse key %q: %s: %w", key, why, ErrNotLogKey)
	}
	parts := strings.Split(key, "/")
	// name, dd, mm, yyyy, region, CloudTrail, account, AWSLogs at least.
	n := len(parts)
	if n < 8 {
		return notLog("too few path elements")
	}
	name := parts[n-1]
	switch {
	case name == "":
		return notLog("folder, not a file")
	case !hasLogExt(name):
		return notLog("not a .json or .json.gz file")
	}
	day, ok := parseFolderDate(parts[n-4], parts[n-3], parts[n-2])
	if !ok {
		return notLog("bad date folders")
	}
	region := parts[n-5]
	if region == "" {
		return notLog("empty region")
	}
	if parts[n-6] != serviceFolder {
		return notLog(fmt.Sprintf("service folder %q", parts[n-6]))
	}
	account := parts[n-7]
	if !IsAccountID(account) {
		return notLog("bad account id")
	}
	k := Key{Account: account, Region: region, Day: day, Time: day, Name: name}
	i := n - 8 // index of AWSLogs
	if parts[i] != logsFolder {
		if !IsOrgID(parts[i]) || i == 0 || parts[i-1] != logsFolder {
			return notLog("no AWSLogs/<account> or AWSLogs/<org id>/<account> folders")
		}
		k.OrgID = parts[i]
		i--
	}
	if i > 0 {
		k.Prefix = strings.Join(parts[:i], "/") + "/"
	}
	if t, ok := fileTime(name); ok && !t.Before(day) && t.Before(day.AddDate(0, 0, 1)) {
		k.Time = t
	}
	return k, nil
}

// hasLogExt reports whether name is a non-empty name with a log file
// extension.
func hasLogExt(name string) bool {
	for _, ext := range []string{".json.gz", ".json"} {
		if base, ok := strings.CutSuffix(name, ext); ok {
			return base != ""
		}
	}
	return false
}

// parseFolderDate parses the yyyy/mm/dd folders into UTC midnight.
func parseFolderDate(y, m, d string) (time.Time, bool) {
	if len(y) != 4 || len(m) != 2 || len(d) != 2 {
		return time.Time{}, false
	}
	yy, ok1 := atoi(y)
	mm, ok2 := atoi(m)
	dd, ok3 := atoi(d)
	if !ok1 || !ok2 || !ok3 || mm < 1 || mm > 12 || dd < 1 || dd > 31 {
		return time.Time{}, false
	}
	t := time.Date(yy, time.Month(mm), dd, 0, 0, 0, 0, time.UTC)
	if t.Day() != dd { // e.g. 2023/02/30
		return time.Time{}, false
	}
	return t, true
}

// fileTime reads the delivery time from a log file name: the next-to-last
// "_"-separated field of the name without its extension.
func fileTime(name string) (time.Time, bool) {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".json")
	fields := strings.Split(base, "_")
	if len(fields) < 3 {
		return time.Time{}, false
	}
	f := fields[len(fields)-2]
	if len(f) != len(fileTimeFmt) {
		return time.Time{}, false
	}
	t, err := time.Parse(fileTimeFmt, f)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// atoi parses a string of ASCII digits.
func atoi(s string) (int, bool) {
	n := 0
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, s != ""
}

// IsAccountID reports whether s is a 12-digit AWS account id.
func IsAccountID(s string) bool {
	_, ok := atoi(s)
	return ok && len(s) == 12
}

// IsOrgID reports whether s is an AWS Organizations id: "o-" and 10 to 32
// lowercase letters or digits.
func IsOrgID(s string) bool {
	rest, ok := strings.CutPrefix(s, "o-")
	if !ok || len(rest) < 10 || len(rest) > 32 {
		return false
	}
	for i := range len(rest) {
		c := rest[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// normPrefix returns prefix ending in "/", or "" for no prefix. A prefix
// that already ends in "/" is kept as it is.
func normPrefix(prefix string) string {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return prefix
	}
	return prefix + "/"
}

// LogsPrefix returns the folder holding the accounts and organization ids:
// "<prefix>/AWSLogs/". A prefix may be given with or without its trailing
// "/".
func LogsPrefix(prefix string) string {
	return normPrefix(prefix) + logsFolder + "/"
}

// AccountPrefix returns the folder holding an account's regions:
// "<prefix>/AWSLogs/[<org>/]<account>/CloudTrail/".
func AccountPrefix(prefix, org, account string) string {
	p := LogsPrefix(prefix)
	if org != "" {
		p += org + "/"
	}
	return p + account + "/" + serviceFolder + "/"
}

// RegionPrefix returns the folder holding a region's years:
// ".../CloudTrail/<region>/".
func RegionPrefix(prefix, org, account, region string) string {
	return AccountPrefix(prefix, org, account) + region + "/"
}

// DayPrefix returns the folder holding one day's log files:
// ".../CloudTrail/<region>/<yyyy>/<mm>/<dd>/" of day's UTC date.
func DayPrefix(prefix, org, account, region string, day time.Time) string {
	return dayFolder(RegionPrefix(prefix, org, account, region), day.UTC())
}
