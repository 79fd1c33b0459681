package api

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/file"
	"github.com/fullstop-audit/fullstop/rules"
)

// storeLifecycles commits lifecycle rows as the pipeline does.
func (e *env) storeLifecycles(t *testing.T, ls ...rules.Lifecycle) {
	t.Helper()
	key := "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/lifecycle.json.gz"
	for i := range ls {
		ls[i].ObjectKey = key
	}
	if _, err := e.st.ViolationCommitGroup(context.Background(), "test", []etl.ObjectDone{{Key: key, ETag: "e", Size: 1,
		StartedAt: time.Now(), FinishedAt: time.Now()}}, rules.Findings{Lifecycles: ls}); err != nil {
		t.Fatalf("commit group: %v", err)
	}
}

func TestListLifecycles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var ls []rules.Lifecycle
	for i, typ := range []string{"RunInstances", "StopInstances", "StartInstances", "TerminateInstances"} {
		l := rules.Lifecycle{EventID: "ev-" + typ, EventType: typ, EventDate: t0.Add(time.Duration(i) * time.Hour),
			AccountID: "123456789012", Region: "eu-west-1", InstanceID: "i-1", ImageID: "ami-1", ImageName: "Taupage-AMI-1",
			Application: "kio", Version: "1.0"}
		if i >= 2 {
			l.Version = "2.0"
		}
		ls = append(ls, l)
	}
	e.storeLifecycles(t, ls...)

	var p Page[Lifecycle]
	e.get(t, "/api/lifecycles/applications/kio/versions", http.StatusOK).decode(t, &p)
	if p.TotalElements != 4 || len(p.Content) != 4 || p.Size != 10 || !p.First || !p.Last {
		t.Fatalf("page = %+v, want all 4 rows on one page of 10", p)
	}
	first := p.Content[0]
	if first.Application != "kio" || *first.Version != "1.0" || *first.EventType != "RunInstances" ||
		time.Time(*first.EventDate) != t0 || *first.ImageID != "ami-1" || *first.ImageName != "Taupage-AMI-1" ||
		*first.Region != "eu-west-1" || *first.InstanceID != "i-1" || first.InstanceBootTime != nil {
		t.Errorf("first row = %+v", first)
	}
	if len(p.Sort) != 1 || p.Sort[0].Property != "created" || p.Sort[0].Direction != "ASC" {
		t.Errorf("sort = %+v, want created ASC by default", p.Sort)
	}
	// The JSON names of the reference.
	body := string(e.get(t, "/api/lifecycles/applications/kio/versions?size=1", http.StatusOK).body)
	for _, k := range []string{`"application":"kio"`, `"version":"1.0"`, `"event_date":"2024-05-01T10:00:00.000Z"`, `"image_id"`, `"image_name"`,
		`"region"`, `"instance_boot_time":null`, `"event_type":"RunInstances"`, `"instance_id":"i-1"`, `"created"`, `"total_pages":4`} {
		if !strings.Contains(body, k) {
			t.Errorf("body lacks %s: %s", k, body)
		}
	}

	e.get(t, "/api/lifecycles/applications/kio/versions/2.0?sort=eventDate,desc", http.StatusOK).decode(t, &p)
	if p.TotalElements != 2 || *p.Content[0].EventType != "TerminateInstances" || *p.Content[1].EventType != "StartInstances" {
		t.Errorf("version 2.0 by eventDate desc = %+v", p.Content)
	}
	e.get(t, "/api/lifecycles/applications/kio/versions?page=1&size=3", http.StatusOK).decode(t, &p)
	if p.TotalElements != 4 || len(p.Content) != 1 || p.First || !p.Last || p.TotalPages != 2 {
		t.Errorf("page 1 of size 3 = %+v", p)
	}
	e.get(t, "/api/lifecycles/applications/unknown/versions", http.StatusOK).decode(t, &p)
	if p.TotalElements != 0 || p.Content == nil || len(p.Content) != 0 {
		t.Errorf("unknown application = %+v, want an empty page", p)
	}
	if r := e.get(t, "/api/lifecycles/applications/kio/versions?sort=metaInfo", http.StatusBadRequest); !strings.Contains(r.problem(t).Detail, "eventDate") {
		t.Errorf("bad sort: %s, want the properties named", r.body)
	}
	e.get(t, "/api/lifecycles/applications/kio/versions?size=0", http.StatusBadRequest)
}

// failingBucket is an instance-data bucket that is down.
type failingBucket struct{}

func (failingBucket) Put(context.Context, string, []byte) error { return errors.New("bucket down") }

func TestCreateInstanceLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bucket, err := file.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) { c.InstanceData, c.InstanceDataName = bucket, "instance-data" })
	userData := "application_id: kio\napplication_version: \"3.1\"\nruntime: Docker\n"
	log := func(typ, data string) map[string]any {
		return map[string]any{"log_type": typ, "instance_id": "i-023d5bf6c26aa18d5", "account_id": "123456789012",
			"region": "eu-west-1", "instance_boot_time": "2016-01-15T15:59:54Z", "log_data": base64.StdEncoding.EncodeToString([]byte(data))}
	}
	folder := filepath.Join(dir, "123456789012/eu-west-1/2016/01/15/i-023d5bf6c26aa18d5-2016-01-15T15:59:54.000Z")

	// User data: stored as taupage.yaml, and the boot's lifecycle row
	// added, once however often the instance sends it.
	for range 2 {
		if r := e.do(t, http.MethodPost, "/api/instance-logs", log("USER_DATA", userData)); r.status != http.StatusCreated || len(r.body) != 0 {
			t.Fatalf("POST user data: %d %s, want 201 and no body", r.status, r.body)
		}
	}
	if b, err := os.ReadFile(filepath.Join(folder, "taupage.yaml")); err != nil || string(b) != userData {
		t.Fatalf("stored user data = %q, %v; want the decoded log_data", b, err)
	}
	var p Page[Lifecycle]
	e.get(t, "/api/lifecycles/applications/kio/versions/3.1", http.StatusOK).decode(t, &p)
	if p.TotalElements != 1 || p.Content[0].InstanceBootTime == nil ||
		!time.Time(*p.Content[0].InstanceBootTime).Equal(time.Date(2016, 1, 15, 15, 59, 54, 0, time.UTC)) ||
		*p.Content[0].InstanceID != "i-023d5bf6c26aa18d5" || p.Content[0].EventType != nil {
		t.Fatalf("lifecycle rows of kio 3.1 = %+v, want the one boot", p.Content)
	}
	var path string
	if err := e.db.QueryRow(context.Background(), `SELECT userdata_path FROM fullstop_data.lifecycle`).Scan(&path); err != nil ||
		path != "instance-data/123456789012/eu-west-1/2016/01/15/i-023d5bf6c26aa18d5-2016-01-15T15:59:54.000Z/taupage.yaml" {
		t.Errorf("userdata_path = %q, %v", path, err)
	}

	// An audit log, with the boot time in epoch milliseconds: stored as
	// audit-log-<now>.log.gz in the same folder; no lifecycle row.
	audit := log("AUDIT_LOG", "\x1f\x8bgzipped")
	audit["instance_boot_time"] = 1452873594000
	if r := e.do(t, http.MethodPost, "/api/instance-logs", audit); r.status != http.StatusCreated {
		t.Fatalf("POST audit log: %d %s", r.status, r.body)
	}
	logs, _ := filepath.Glob(filepath.Join(folder, "audit-log-*.log.gz"))
	if len(logs) != 1 {
		t.Fatalf("audit logs stored: %v, want one", logs)
	}
	if b, _ := os.ReadFile(logs[0]); string(b) != "\x1f\x8bgzipped" {
		t.Errorf("audit log = %q", b)
	}

	// User data without a version: stored, no row.
	noVersion := log("USER_DATA", "application_id: shop\n")
	noVersion["instance_id"] = "i-0b"
	if r := e.do(t, http.MethodPost, "/api/instance-logs", noVersion); r.status != http.StatusCreated {
		t.Fatalf("POST user data without a version: %d %s", r.status, r.body)
	}
	if n := countRows(t, e, `SELECT count(*) FROM fullstop_data.lifecycle`); n != 1 {
		t.Errorf("lifecycle rows = %d, want still 1", n)
	}

	// Bad bodies are 400s naming the field, never a 500.
	for _, tt := range []struct {
		name  string
		edit  func(map[string]any)
		field string
	}{
		{"no log_type", func(m map[string]any) { delete(m, "log_type") }, "log_type"},
		{"unknown log_type", func(m map[string]any) { m["log_type"] = "CORE_DUMP" }, "log_type"},
		{"instance id with a slash", func(m map[string]any) { m["instance_id"] = "i-1/../../x" }, "instance_id"},
		{"account id", func(m map[string]any) { m["account_id"] = "12" }, "account_id"},
		{"region", func(m map[string]any) { m["region"] = "../eu" }, "region"},
		{"no boot time", func(m map[string]any) { delete(m, "instance_boot_time") }, "instance_boot_time"},
		{"log_data not base64", func(m map[string]any) { m["log_data"] = "%%%" }, "log_data"},
	} {
		m := log("USER_DATA", userData)
		tt.edit(m)
		r := e.do(t, http.MethodPost, "/api/instance-logs", m)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", tt.name, r.status, r.body)
			continue
		}
		if p := r.problem(t); len(p.Errors) == 0 || p.Errors[0].Name != tt.field {
			t.Errorf("%s: problem %+v, want field %s", tt.name, p, tt.field)
		}
	}
	if r := e.do(t, http.MethodPost, "/api/instance-logs", []byte(`{"log_type":"USER_DATA","instance_boot_time":"yesterday"}`)); r.status != http.StatusBadRequest {
		t.Errorf("unreadable boot time: %d, want 400", r.status)
	}
}

// Without a bucket, or with one that fails, the upload is a 503 the
// instance can retry, and no lifecycle row is added.
func TestCreateInstanceLog_noBucket(t *testing.T) {
	t.Parallel()
	body := map[string]any{"log_type": "USER_DATA", "instance_id": "i-1", "account_id": "123456789012", "region": "eu-west-1",
		"instance_boot_time": "2016-01-15T15:59:54Z", "log_data": base64.StdEncoding.EncodeToString([]byte("application_id: a\napplication_version: b\n"))}
	for name, opt := range map[string]func(*Config){
		"none":    func(*Config) {},
		"failing": func(c *Config) { c.InstanceData = failingBucket{} },
	} {
		e := newEnv(t, opt)
		if r := e.do(t, http.MethodPost, "/api/instance-logs", body); r.status != http.StatusServiceUnavailable {
			t.Errorf("%s: %d %s, want 503", name, r.status, r.body)
		}
		if n := countRows(t, e, `SELECT count(*) FROM fullstop_data.lifecycle`); n != 0 {
			t.Errorf("%s: %d lifecycle rows, want 0", name, n)
		}
	}
}

func countRows(t *testing.T, e *env, q string) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
