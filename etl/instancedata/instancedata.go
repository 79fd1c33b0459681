// Package instancedata holds the layout of the instance-data bucket
// (INSTANCE_LOGS_S3_BUCKET) and writes the security-group snapshots of
// launches into it (reference §4.13, §7.9).
//
// Taupage instances upload their user data and audit logs at boot (POST
// /api/instance-logs) into one folder per boot:
//
//	{account}/{region}/{yyyy}/{mm}/{dd}/{instance id}-{boot time}/
//
// with the date and the boot time (ISO 8601, UTC, milliseconds:
// 2016-01-15T15:59:54.000Z) of the boot. A launch's security groups are
// written into the folder of the instance's boot nearest its launch time.
package instancedata

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/rules"
)

// TimeLayout is how a boot folder and the files in it write times.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// DayPrefix is the folder of one day of an account and region, with a
// trailing slash: {account}/{region}/{yyyy}/{mm}/{dd}/.
func DayPrefix(account, region string, day time.Time) string {
	return path.Join(account, region, day.UTC().Format("2006/01/02")) + "/"
}

// BootFolder is the folder of one boot of an instance, without a trailing
// slash.
func BootFolder(account, region, instance string, boot time.Time) string {
	return DayPrefix(account, region, boot) + instance + "-" + boot.UTC().Format(TimeLayout)
}

// ParseBootFolder reads the name of a boot folder (its last segment, a
// trailing slash allowed): the instance id (the text up to the second
// "-", as the reference splits it) and the boot time.
func ParseBootFolder(name string) (instance string, boot time.Time, ok bool) {
	name = path.Base(strings.TrimSuffix(name, "/"))
	p1, rest, ok1 := strings.Cut(name, "-")
	p2, at, ok2 := strings.Cut(rest, "-")
	if !ok1 || !ok2 || p1 == "" || p2 == "" {
		return "", time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return "", time.Time{}, false
	}
	return p1 + "-" + p2, t.UTC(), true
}

// Bucket is the instance-data bucket as the snapshots need it.
type Bucket interface {
	// Folders returns the names of the folders directly below prefix
	// (which ends in "/"), each with its prefix and a trailing "/".
	Folders(ctx context.Context, prefix string) ([]string, error)
	// Put stores data under key, whole or not at all.
	Put(ctx context.Context, key string, data []byte) error
}

// Snapshots writes security-group snapshots into a Bucket.
type Snapshots struct {
	Bucket Bucket
	Log    *slog.Logger // default: discarded
}

// SnapshotKey is where a snapshot goes in the boot folder folder (no
// trailing slash). The name is the reference's,
// {instance}security-groups-{time}.json (with no separator after the
// instance id), but with the event's time instead of the time of writing,
// so that processing the event again writes the same object.
func SnapshotKey(folder string, s rules.Snapshot) string {
	return folder + "/" + s.InstanceID + "security-groups-" + s.EventTime.UTC().Format(TimeLayout) + ".json"
}

// WriteSnapshots writes each snapshot into the folder of its instance's
// boot nearest the launch time: a folder of the exact instance id (the
// reference matched a prefix, so i-abc12's folder could take i-abc's
// snapshot), on the launch's day or, for a launch in the last hour of a
// day, the next. An instance with no boot folder is skipped, as in the
// reference: it never uploaded its user data. An error listing or writing
// fails the call; the caller retries the snapshots' objects later, and
// writing one again is harmless.
func (w *Snapshots) WriteSnapshots(ctx context.Context, snaps []rules.Snapshot) (written int, err error) {
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	listed := map[string][]string{} // day prefix: folders
	folders := func(prefix string) ([]string, error) {
		if fs, ok := listed[prefix]; ok {
			return fs, nil
		}
		fs, err := w.Bucket.Folders(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("list the boot folders under %s: %w", prefix, err)
		}
		listed[prefix] = fs
		return fs, nil
	}
	for _, s := range snaps {
		launch := s.LaunchTime.UTC()
		days := []time.Time{launch}
		if launch.Hour() == 23 {
			days = append(days, launch.Add(time.Hour))
		}
		best, bestDiff := "", time.Duration(0)
		for _, d := range days {
			fs, err := folders(DayPrefix(s.AccountID, s.Region, d))
			if err != nil {
				return written, err
			}
			for _, f := range fs {
				id, boot, ok := ParseBootFolder(f)
				if !ok || id != s.InstanceID {
					continue
				}
				diff := launch.Sub(boot).Abs()
				if best == "" || diff < bestDiff {
					best, bestDiff = strings.TrimSuffix(f, "/"), diff
				}
			}
		}
		if best == "" {
			log.DebugContext(ctx, "no boot folder for the security-group snapshot", logInstance, s.InstanceID, logEvent, s.EventID)
			continue
		}
		key := SnapshotKey(best, s)
		if err := w.Bucket.Put(ctx, key, []byte(s.SecurityGroups)); err != nil {
			return written, fmt.Errorf("write the security-group snapshot of %s: %w", s.InstanceID, err)
		}
		written++
	}
	return written, nil
}
