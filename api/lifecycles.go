package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fullstop-audit/fullstop/etl/instancedata"
	"github.com/fullstop-audit/fullstop/lookup/taupage"
	"github.com/fullstop-audit/fullstop/store"
)

// InstanceData is the instance-data bucket (INSTANCE_LOGS_S3_BUCKET),
// where POST /api/instance-logs stores what instances upload at boot.
type InstanceData interface {
	// Put stores data under key, whole or not at all.
	Put(ctx context.Context, key string, data []byte) error
}

// Lifecycle is one row of GET /api/lifecycles/applications/{name}/versions:
// an EC2 event of an application's instance, or a boot it reported.
type Lifecycle struct {
	Application      string  `json:"application"`        // application name
	Version          *string `json:"version"`            // version name
	EventDate        *Time   `json:"event_date"`         // launch time (RunInstances) or event time; null for a boot
	ImageID          *string `json:"image_id"`           // the instance's AMI
	ImageName        *string `json:"image_name"`         // the AMI's name
	Region           *string `json:"region"`             // AWS region
	InstanceBootTime *Time   `json:"instance_boot_time"` // the boot time an instance reported; null for an event
	EventType        *string `json:"event_type"`         // RunInstances, StartInstances, StopInstances, TerminateInstances; null for a boot
	InstanceID       *string `json:"instance_id"`        // EC2 instance id
	Created          Time    `json:"created"`            // when the row was stored
}

func lifecycleToJSON(l store.Lifecycle) Lifecycle {
	return Lifecycle{Application: l.Application, Version: nonEmpty(l.Version), EventDate: isoPtr(l.EventDate),
		ImageID: l.ImageID, ImageName: l.ImageName, Region: l.Region, InstanceBootTime: isoPtr(l.InstanceBootTime),
		EventType: l.EventType, InstanceID: l.InstanceID, Created: Time(l.Created)}
}

func (s *server) listLifecycles(w http.ResponseWriter, r *http.Request, c call) error {
	a := c.args
	f := store.LifecycleFilter{Application: a.str("name"), Version: a.str("version")}
	pg, err := pageOf(a, "created", store.LifecycleSortProperties())
	if err != nil {
		return err
	}
	ls, total, err := s.st.LifecyclePage(r.Context(), f, pg.sorts, pg.offset, int(pg.size))
	if err != nil {
		return err
	}
	content := make([]Lifecycle, len(ls))
	for i, l := range ls {
		content[i] = lifecycleToJSON(l)
	}
	return writeJSON(w, http.StatusOK, newPage(content, total, pg.number, pg.size, pg.orders))
}

// The log types of POST /api/instance-logs.
const (
	LogTypeUserData = "USER_DATA"
	LogTypeAuditLog = "AUDIT_LOG"
)

// InstanceLog is the body of POST /api/instance-logs, which Taupage
// instances send at boot.
type InstanceLog struct {
	LogType          string   `json:"log_type"`           // USER_DATA or AUDIT_LOG
	InstanceID       string   `json:"instance_id"`        // i-…
	AccountID        string   `json:"account_id"`         // 12 digits
	Region           string   `json:"region"`             // eu-west-1 …
	InstanceBootTime BootTime `json:"instance_boot_time"` // ISO 8601, or epoch milliseconds
	LogData          string   `json:"log_data"`           // base64
}

// BootTime is a time given as ISO 8601 text or as epoch milliseconds, as
// Taupage sends instance_boot_time.
type BootTime struct{ time.Time }

// UnmarshalJSON reads an ISO 8601 string or a number of milliseconds.
func (t *BootTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			t.Time = time.UnixMilli(ms).UTC()
			return nil
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return errors.New("want an ISO 8601 time or epoch milliseconds")
		}
		t.Time = v.UTC()
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	ms, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return errors.New("want an ISO 8601 time or epoch milliseconds")
	}
	t.Time = time.UnixMilli(ms).UTC()
	return nil
}

// The shapes of the ids that go into the stored object's key: nothing
// that could climb out of the folder or split it.
var (
	instanceIDRE = regexp.MustCompile(`^i-[0-9a-f]{1,32}$`)
	accountIDRE  = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+){1,4}$`)
)

func (s *server) createInstanceLog(w http.ResponseWriter, r *http.Request, c call) error {
	if s.instanceData == nil {
		return errorf(http.StatusServiceUnavailable, "no instance-data bucket is configured (INSTANCE_LOGS_S3_BUCKET)")
	}
	var in InstanceLog
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var bad []ProblemField
	check := func(name, value string, ok bool, reason string) {
		if !ok {
			bad = append(bad, ProblemField{Name: name, In: "body", Reason: reason, Value: value})
		}
	}
	switch in.LogType {
	case "":
		check("log_type", "", false, "is required")
	case LogTypeUserData, LogTypeAuditLog:
	default:
		check("log_type", in.LogType, false, "must be USER_DATA or AUDIT_LOG")
	}
	check("instance_id", in.InstanceID, instanceIDRE.MatchString(in.InstanceID), "must be an EC2 instance id (i-…)")
	check("account_id", in.AccountID, accountIDRE.MatchString(in.AccountID), "must be a 12-digit AWS account id")
	check("region", in.Region, regionRE.MatchString(in.Region), "must be an AWS region name")
	check("instance_boot_time", "", !in.InstanceBootTime.IsZero(), "is required")
	data, err := base64.StdEncoding.DecodeString(in.LogData)
	check("log_data", "", err == nil && in.LogData != "", "must be base64 (standard alphabet, padded)")
	if len(bad) > 0 {
		names := make([]string, len(bad))
		for i, b := range bad {
			names[i] = b.Name
		}
		return &httpError{status: http.StatusBadRequest, detail: "body fields invalid: " + strings.Join(names, ", "), fields: bad}
	}

	boot := in.InstanceBootTime.UTC()
	folder := instancedata.BootFolder(in.AccountID, in.Region, in.InstanceID, boot)
	name := "taupage.yaml"
	if in.LogType == LogTypeAuditLog {
		name = "audit-log-" + time.Now().UTC().Format(instancedata.TimeLayout) + ".log.gz"
	}
	key := folder + "/" + name
	// Unlike the reference, which logged and swallowed S3 errors, a
	// failed upload is an error: the instance may send it again.
	if err := s.instanceData.Put(r.Context(), key, data); err != nil {
		return &httpError{status: http.StatusServiceUnavailable, detail: "the instance-data bucket did not take the log", err: err}
	}
	if in.LogType == LogTypeUserData {
		if u, ok := taupage.Parse(data); ok && u.ApplicationID != "" && u.ApplicationVersion != "" {
			b := store.InstanceBoot{AccountID: in.AccountID, Region: in.Region, InstanceID: in.InstanceID, BootTime: boot,
				UserdataPath: strings.TrimSuffix(s.instanceDataName, "/") + "/" + key,
				Application:  u.ApplicationID, Version: u.ApplicationVersion}
			if _, err := s.st.LifecycleAddBoot(r.Context(), b, c.principal.UID); err != nil {
				return fmt.Errorf("store the boot of %s: %w", in.InstanceID, err)
			}
		}
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}
