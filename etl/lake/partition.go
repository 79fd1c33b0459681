package lake

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/etl"
)

// dateLayout is the format of the date= partition value.
const dateLayout = "2006-01-02"

// Partition is one hive partition of the lake: the day, account and
// region of the source objects' keys.
type Partition struct {
	Date    time.Time // UTC midnight
	Account string
	Region  string
}

// PartitionOf returns the partition of a source object: its key's day
// folder, account and region.
func PartitionOf(c etl.Candidate) Partition {
	return Partition{Date: c.Key.Day.UTC().Truncate(24 * time.Hour), Account: c.Key.Account, Region: c.Key.Region}
}

// Dir returns the partition's folder, date=YYYY-MM-DD/account=ID/region=NAME.
func (p Partition) Dir() string {
	return "date=" + p.Date.Format(dateLayout) + "/account=" + escape(p.Account) + "/region=" + escape(p.Region)
}

// String is Dir.
func (p Partition) String() string { return p.Dir() }

// parseDir parses a partition folder (Dir's form).
func parseDir(dir string) (Partition, error) {
	parts := strings.Split(strings.Trim(dir, "/"), "/")
	if len(parts) != 3 {
		return Partition{}, fmt.Errorf("partition %q: want date=/account=/region=", dir)
	}
	var p Partition
	for i, name := range []string{"date", "account", "region"} {
		v, ok := strings.CutPrefix(parts[i], name+"=")
		if !ok {
			return Partition{}, fmt.Errorf("partition %q: element %d is not %s=", dir, i+1, name)
		}
		u, err := url.PathUnescape(v)
		if err != nil {
			return Partition{}, fmt.Errorf("partition %q: %w", dir, err)
		}
		switch i {
		case 0:
			d, err := time.Parse(dateLayout, u)
			if err != nil {
				return Partition{}, fmt.Errorf("partition %q: %w", dir, err)
			}
			p.Date = d
		case 1:
			p.Account = u
		case 2:
			p.Region = u
		}
	}
	return p, nil
}

// escape escapes a partition value the way Hive does: every byte outside
// [A-Za-z0-9._-] becomes %XX, so that no value holds a "/" or "=", and an
// empty value is __HIVE_DEFAULT_PARTITION__.
func escape(v string) string {
	if v == "" {
		return "__HIVE_DEFAULT_PARTITION__"
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
