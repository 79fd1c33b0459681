package instancedata

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/rules"
)

func TestParseBootFolder(t *testing.T) {
	t.Parallel()
	boot := time.Date(2016, 1, 15, 15, 59, 54, 0, time.UTC)
	tests := []struct {
		name     string
		instance string
		boot     time.Time
		ok       bool
	}{
		{"i-023d5bf6c26aa18d5-2016-01-15T15:59:54.000Z", "i-023d5bf6c26aa18d5", boot, true},
		{"123456789012/eu-west-1/2016/01/15/i-023d5bf6c26aa18d5-2016-01-15T15:59:54.000Z/", "i-023d5bf6c26aa18d5", boot, true},
		{"i-abc-2016-01-15T16:59:54.5+01:00", "i-abc", boot.Add(500 * time.Millisecond), true},
		{"i-abc-20150522T1329Z", "", time.Time{}, false}, // not ISO 8601 as the API writes it
		{"i-abc", "", time.Time{}, false},
		{"i--2016-01-15T15:59:54.000Z", "", time.Time{}, false},
		{"", "", time.Time{}, false},
	}
	for _, tt := range tests {
		id, at, ok := ParseBootFolder(tt.name)
		if id != tt.instance || !at.Equal(tt.boot) || ok != tt.ok {
			t.Errorf("ParseBootFolder(%q) = %q, %v, %v; want %q, %v, %v", tt.name, id, at, ok, tt.instance, tt.boot, tt.ok)
		}
	}
	if got := BootFolder("123456789012", "eu-west-1", "i-1", boot.In(time.FixedZone("x", 3600))); got != "123456789012/eu-west-1/2016/01/15/i-1-2016-01-15T15:59:54.000Z" {
		t.Errorf("BootFolder = %q", got)
	}
}

// memBucket is an instance-data bucket in memory: a pure stand-in for
// the S3 bucket, whose own tests run against MinIO.
type memBucket struct {
	objects map[string][]byte
	lists   int
	failPut error
}

func (b *memBucket) Folders(_ context.Context, prefix string) ([]string, error) {
	b.lists++
	seen := map[string]bool{}
	for k := range b.objects {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			if i := strings.Index(rest, "/"); i >= 0 {
				seen[prefix+rest[:i+1]] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

func (b *memBucket) Put(_ context.Context, key string, data []byte) error {
	if b.failPut != nil {
		return b.failPut
	}
	b.objects[key] = data
	return nil
}

func TestWriteSnapshots(t *testing.T) {
	t.Parallel()
	launch := time.Date(2015, 6, 18, 8, 31, 46, 0, time.UTC)
	day := "123456789111/eu-west-1/2015/06/18/"
	b := &memBucket{objects: map[string][]byte{
		day + "i-abc-2015-06-18T08:33:00.000Z/taupage.yaml":                              nil, // the boot right after the launch
		day + "i-abc-2015-06-18T20:00:00.000Z/taupage.yaml":                              nil, // a later reboot: the reference's signed difference picked it
		day + "i-abc12-2015-06-18T08:32:00.000Z/taupage.yaml":                            nil, // another instance whose id starts the same
		"123456789111/eu-west-1/2015/06/19/i-late-2015-06-19T00:01:00.000Z/taupage.yaml": nil,
	}}
	snap := func(instance string, at time.Time) rules.Snapshot {
		return rules.Snapshot{EventID: "ev", EventTime: launch, AccountID: "123456789111", Region: "eu-west-1",
			InstanceID: instance, LaunchTime: at, SecurityGroups: `{"securityGroups":[]}`, ObjectKey: "k"}
	}
	w := &Snapshots{Bucket: b}
	n, err := w.WriteSnapshots(context.Background(), []rules.Snapshot{
		snap("i-abc", launch),
		snap("i-none", launch), // no boot folder: skipped
		snap("i-late", time.Date(2015, 6, 18, 23, 59, 0, 0, time.UTC)), // booted after midnight
	})
	if err != nil || n != 2 {
		t.Fatalf("WriteSnapshots = %d, %v; want 2 written", n, err)
	}
	want := []string{
		day + "i-abc-2015-06-18T08:33:00.000Z/i-abcsecurity-groups-2015-06-18T08:31:46.000Z.json",
		"123456789111/eu-west-1/2015/06/19/i-late-2015-06-19T00:01:00.000Z/i-latesecurity-groups-2015-06-18T08:31:46.000Z.json",
	}
	for _, k := range want {
		if string(b.objects[k]) != `{"securityGroups":[]}` {
			t.Errorf("object %s = %q, want the snapshot", k, b.objects[k])
		}
	}
	if len(b.objects) != 4+2 {
		t.Errorf("%d objects, want the 4 folders' and 2 snapshots: %v", len(b.objects), slices.Sorted(maps.Keys(b.objects)))
	}
	if b.lists != 2 {
		t.Errorf("%d listings, want one per day (2)", b.lists)
	}
	// Writing the same event again writes the same objects.
	if n, err := w.WriteSnapshots(context.Background(), []rules.Snapshot{snap("i-abc", launch)}); err != nil || n != 1 || len(b.objects) != 6 {
		t.Errorf("again: %d, %v, %d objects; want 1 written over the same object", n, err, len(b.objects))
	}
	// A bucket that fails fails the call.
	b.failPut = errors.New("bucket down")
	if _, err := w.WriteSnapshots(context.Background(), []rules.Snapshot{snap("i-abc", launch)}); err == nil || !strings.Contains(err.Error(), "bucket down") {
		t.Errorf("failing bucket: error = %v", err)
	}
}
