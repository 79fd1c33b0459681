package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
)

func lifecycle(event, instance, typ, object string) rules.Lifecycle {
	return rules.Lifecycle{EventID: event, EventType: typ, EventDate: t0, AccountID: "123456789012", Region: "eu-west-1",
		InstanceID: instance, ImageID: "ami-1", ImageName: "Taupage-AMI-1", Application: "kio", Version: "1.0", ObjectKey: object}
}

func commitFindings(t *testing.T, st *Store, objs []etl.ObjectDone, f rules.Findings) etl.GroupResult {
	t.Helper()
	res, err := st.ViolationCommitGroup(context.Background(), "test", objs, f)
	if err != nil {
		t.Fatalf("commit group: %v", err)
	}
	return res
}

func lifecyclePage(t *testing.T, st *Store, f LifecycleFilter, sorts []Sort, offset, limit int) ([]Lifecycle, int64) {
	t.Helper()
	ls, total, err := st.LifecyclePage(context.Background(), f, sorts, offset, limit)
	if err != nil {
		t.Fatalf("lifecycle page: %v", err)
	}
	return ls, total
}

// Lifecycle rows are stored once per event, instance and event type,
// however often their object is processed, with their application and
// version; rows without either are not stored.
func TestViolationCommitGroup_lifecycles(t *testing.T) {
	t.Parallel()
	st := setup(t)
	obj := object("a")
	run := lifecycle("e1", "i-1", "RunInstances", "a")
	run.EventDate = t0.Add(90 * time.Second) // a launch time: kept to the second
	stop := lifecycle("e2", "i-1", "StopInstances", "a")
	stop.Version = "2.0"
	stop.ImageID, stop.ImageName = "", ""
	noVersion := lifecycle("e3", "i-2", "RunInstances", "a")
	noVersion.Version = ""
	f := rules.Findings{Violations: []rules.Violation{violation("v1")}, Lifecycles: []rules.Lifecycle{run, stop, noVersion, run}}
	if res := commitFindings(t, st, []etl.ObjectDone{obj}, f); res != (etl.GroupResult{Objects: 1, New: 1, Lifecycles: 2}) {
		t.Fatalf("first commit = %+v, want 1 violation and 2 lifecycle rows new", res)
	}
	obj.Reprocess = true
	if res := commitFindings(t, st, []etl.ObjectDone{obj}, f); res != (etl.GroupResult{Objects: 1, SeenAgain: 1}) {
		t.Fatalf("reprocess commit = %+v, want no lifecycle row new", res)
	}
	ls, total := lifecyclePage(t, st, LifecycleFilter{Application: "kio"}, nil, 0, 10)
	if total != 2 || len(ls) != 2 {
		t.Fatalf("rows of kio = %d (%d on the page), want 2", total, len(ls))
	}
	got := ls[0]
	if got.Application != "kio" || got.Version != "1.0" || *got.EventID != "e1" || *got.EventType != "RunInstances" ||
		!got.EventDate.Equal(t0.Add(90*time.Second)) || *got.InstanceID != "i-1" || *got.ImageID != "ami-1" ||
		*got.ImageName != "Taupage-AMI-1" || *got.AccountID != "123456789012" || *got.Region != "eu-west-1" ||
		got.InstanceBootTime != nil || got.UserdataPath != nil {
		t.Errorf("first row = %+v", got)
	}
	if ls[1].Version != "2.0" || ls[1].ImageID != nil || ls[1].ImageName != nil {
		t.Errorf("second row = %+v, want version 2.0 without image", ls[1])
	}
	var versions int
	if err := st.pool.QueryRow(context.Background(), `SELECT count(*) FROM fullstop_data.app_version v
		JOIN fullstop_data.application_version_entities e ON e.version_entities_id = v.id
		JOIN fullstop_data.application a ON a.id = e.application_entities_id WHERE a.name = 'kio'`).Scan(&versions); err != nil || versions != 2 {
		t.Errorf("linked versions of kio = %d, %v; want 2", versions, err)
	}
	// An object another batch committed first: its rows are dropped
	// with its violations.
	late := lifecycle("e4", "i-3", "StartInstances", "a")
	if res := commitFindings(t, st, []etl.ObjectDone{object("a")}, rules.Findings{Lifecycles: []rules.Lifecycle{late}}); res.Lifecycles != 0 {
		t.Errorf("commit of an object done meanwhile stored %d lifecycle rows, want 0", res.Lifecycles)
	}
}

func TestLifecyclePage(t *testing.T) {
	t.Parallel()
	st := setup(t)
	var ls []rules.Lifecycle
	for i, typ := range []string{"RunInstances", "StopInstances", "StartInstances", "TerminateInstances"} {
		l := lifecycle("e"+string(rune('a'+i)), "i-1", typ, "a")
		l.EventDate = t0.Add(time.Duration(i) * time.Hour)
		if i%2 == 1 {
			l.Version = "2.0"
		}
		ls = append(ls, l)
	}
	other := lifecycle("ex", "i-9", "RunInstances", "a")
	other.Application = "other"
	commitFindings(t, st, []etl.ObjectDone{object("a")}, rules.Findings{Lifecycles: append(ls, other)})

	page, total := lifecyclePage(t, st, LifecycleFilter{Application: "kio", Version: "2.0"}, nil, 0, 10)
	if total != 2 || len(page) != 2 || *page[0].EventType != "StopInstances" || *page[1].EventType != "TerminateInstances" {
		t.Errorf("version 2.0 = %d rows: %+v", total, page)
	}
	page, total = lifecyclePage(t, st, LifecycleFilter{Application: "kio"}, []Sort{{Property: "eventDate", Desc: true}}, 1, 2)
	if total != 4 || len(page) != 2 || *page[0].EventType != "StartInstances" || *page[1].EventType != "StopInstances" {
		t.Errorf("page 1 of 2 by eventDate desc = %d rows: %+v", total, page)
	}
	if page, total = lifecyclePage(t, st, LifecycleFilter{Application: "kio"}, nil, 10, 2); total != 4 || len(page) != 0 {
		t.Errorf("beyond the last page = %d rows of %d, want none of 4", len(page), total)
	}
	if page, total = lifecyclePage(t, st, LifecycleFilter{Application: "nobody"}, nil, 0, 10); total != 0 || len(page) != 0 {
		t.Errorf("unknown application = %d rows, want none", total)
	}
	if _, _, err := st.LifecyclePage(context.Background(), LifecycleFilter{Application: "kio"}, []Sort{{Property: "meta"}}, 0, 10); !errors.Is(err, ErrBadSort) {
		t.Errorf("sort by an unknown property: error = %v, want ErrBadSort", err)
	}
}
