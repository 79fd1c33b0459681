//go:build duckdb_arrow

package duckdb

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/fixture"
)

// lifecycleAnswers are the lookups behind the reference's lifecycle
// fixtures: i-affenbanane runs the Taupage AMI ami-amishppl with user data
// naming fullstop 1.0; of the two terminated instances, i-1a2b3c4d is
// still known to EC2, i-111bbb33 is gone.
func lifecycleAnswers() map[string][]fixture.Answer {
	a := func(key []string, answer string) fixture.Answer {
		return fixture.Answer{Key: key, Answer: json.RawMessage(answer)}
	}
	return map[string][]fixture.Answer{
		"ec2.instance": {
			a([]string{"123456789111", "eu-west-1", "i-affenbanane"}, `{"image_id":"ami-amishppl"}`),
			a([]string{"111122223333", "us-east-1", "i-1a2b3c4d"}, `{"image_id":"ami-gone1"}`),
			a([]string{"111122223333", "us-east-1", "i-111bbb33"}, `null`),
		},
		"ec2.image": {
			a([]string{"123456789111", "eu-west-1", "ami-amishppl"}, `{"image_id":"ami-amishppl","name":"Taupage-AMI-20150512-1","owner_id":"999"}`),
			a([]string{"111122223333", "us-east-1", "ami-gone1"}, `{"image_id":"ami-gone1","name":"Taupage-AMI-20140401-1","owner_id":"999"}`),
		},
		"ec2.user_data": {
			a([]string{"123456789111", "eu-west-1", "i-affenbanane"}, `{"application_id":"fullstop","application_version":"1.0","source":"x"}`),
			a([]string{"111122223333", "us-east-1", "i-1a2b3c4d"}, `{"application_id":"kio","application_version":" 2 "}`),
		},
	}
}

func TestEngine_Lifecycles(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{Resolver: fixture.NewResolver(lifecycleAnswers()), TaupageOwners: []string{"999"}})
	affe := func(typ string, at time.Time, image string) rules.Lifecycle {
		return rules.Lifecycle{EventID: "21cad05b-d412-4ef5-b238-1b01a08a595c", EventType: typ, EventDate: at,
			AccountID: "123456789111", Region: "eu-west-1", InstanceID: "i-affenbanane", ImageID: image,
			ImageName: "Taupage-AMI-20150512-1", Application: "fullstop", Version: "1.0"}
	}
	eventTime := time.Date(2015, 6, 18, 8, 31, 45, 0, time.UTC)
	launchTime := time.UnixMilli(1434616306000).UTC()
	tests := []struct {
		file string
		want []rules.Lifecycle
	}{
		// RunInstances: the date is the item's launch time.
		{"record-run", []rules.Lifecycle{affe("RunInstances", launchTime, "ami-amishppl")}},
		// The others: the event's time.
		{"record-start", []rules.Lifecycle{affe("StartInstances", eventTime, "ami-amishppl")}},
		{"record-stop", []rules.Lifecycle{affe("StopInstances", eventTime, "ami-amishppl")}},
		// No imageId in the item: the instance's, from DescribeInstances.
		{"record-missing-ami", []rules.Lifecycle{affe("RunInstances", launchTime, "ami-amishppl")}},
		// One instance EC2 still knows, one it forgot (no user data: no row).
		{"record-termination", []rules.Lifecycle{{EventID: "dcfc1fda-4533-46e3-a864-6e125199d457", EventType: "TerminateInstances",
			EventDate: time.Date(2014, 5, 2, 8, 27, 45, 0, time.UTC), AccountID: "111122223333", Region: "us-east-1",
			InstanceID: "i-1a2b3c4d", ImageID: "ami-gone1", ImageName: "Taupage-AMI-20140401-1", Application: "kio", Version: "2"}}},
		// No instances in the response: nothing.
		{"record-broken", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(cloudtrail, "fullstop-fixtures", "application-lifecycle-plugin__"+tt.file+".json")
			found, err := e.Evaluate(context.Background(), decodeFile(t, path, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.want {
				tt.want[i].ObjectKey = tt.file
			}
			if diff := cmp.Diff(tt.want, found.Lifecycles); diff != "" {
				t.Errorf("lifecycles (-want +got):\n%s", diff)
			}
		})
	}
}

// Without a resolver of user data there are no lifecycle rows, and the
// events they need are not even loaded.
func TestEngine_LifecyclesNeedUserData(t *testing.T) {
	t.Parallel()
	answers := lifecycleAnswers()
	delete(answers, "ec2.user_data")
	e := newEngine(t, Config{Resolver: fixture.NewResolver(answers), TaupageOwners: []string{"999"}})
	found, err := e.Evaluate(context.Background(), decodeFile(t, filepath.Join(cloudtrail, "fullstop-fixtures", "application-lifecycle-plugin__record-stop.json"), "k"))
	if err != nil || len(found.Lifecycles) != 0 {
		t.Errorf("Evaluate() = %d lifecycle rows, %v; want none", len(found.Lifecycles), err)
	}
}

// User data without a version (the reference's
// taupage-missing-app-version.yaml), or without an application, gives no
// row; a user data lookup that fails leaves the object's rows out with
// its violations, and the other object's rows stay.
func TestEngine_LifecyclesIncompleteOrPartial(t *testing.T) {
	t.Parallel()
	answers := lifecycleAnswers()
	answers["ec2.instance"] = append(answers["ec2.instance"],
		fixture.Answer{Key: []string{"111", "eu-west-1", "i-111-0"}, Answer: json.RawMessage(`null`)},
		fixture.Answer{Key: []string{"222", "eu-west-1", "i-222-0"}, Answer: json.RawMessage(`null`)},
		fixture.Answer{Key: []string{"333", "eu-west-1", "i-333-0"}, Answer: json.RawMessage(`null`)})
	for _, acct := range []string{"111", "222", "333"} {
		answers["ec2.image"] = append(answers["ec2.image"], fixture.Answer{Key: []string{acct, "eu-west-1", "ami-t"},
			Answer: json.RawMessage(`{"image_id":"ami-t","name":"Taupage-AMI-1","owner_id":"999"}`)})
	}
	answers["ec2.user_data"] = append(answers["ec2.user_data"],
		fixture.Answer{Key: []string{"111", "eu-west-1", "i-111-0"}, Answer: json.RawMessage(`{"application_id":"fullstop"}`)},
		fixture.Answer{Key: []string{"222", "eu-west-1", "i-222-0"}, Error: "throttled"},
		fixture.Answer{Key: []string{"333", "eu-west-1", "i-333-0"}, Answer: json.RawMessage(`{"application_version":"1"}`)})
	e := newEngine(t, Config{Resolver: fixture.NewResolver(answers), TaupageOwners: []string{"999"}})
	batches := append(decodeString(t, runInstances("111", "ami-t", 1), "no-version"),
		decodeString(t, runInstances("222", "ami-t", 1), "throttled")...)
	batches = append(batches, decodeString(t, runInstances("333", "ami-t", 1), "no-application")...)
	batches = append(batches, decodeFile(t, filepath.Join(cloudtrail, "fullstop-fixtures", "application-lifecycle-plugin__record-run.json"), "run")...)
	found, err := e.Evaluate(context.Background(), batches)
	var inc *rules.IncompleteError
	if !errors.As(err, &inc) || len(inc.Objects) != 1 || inc.Objects["throttled"] == nil {
		t.Fatalf("Evaluate() error = %v, want the object throttled incomplete", err)
	}
	if len(found.Lifecycles) != 1 || found.Lifecycles[0].ObjectKey != "run" {
		t.Errorf("lifecycles = %+v, want the one of the object run", found.Lifecycles)
	}
}
