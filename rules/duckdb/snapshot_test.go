//go:build duckdb_arrow

package duckdb

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/rules/fixture"
)

// The reference's launch of five instances in one security group: one
// DescribeSecurityGroups lookup, one snapshot per instance.
func TestEngine_SecurityGroupSnapshots(t *testing.T) {
	t.Parallel()
	groups := `{"securityGroups":[{"groupId":"sg-24051988","groupName":"app"}]}`
	res := fixture.NewResolver(map[string][]fixture.Answer{
		"ec2.security_groups": {{Key: []string{"123456789111", "eu-west-1", "sg-24051988"}, Answer: json.RawMessage(groups)}},
	})
	path := filepath.Join(cloudtrail, "fullstop-fixtures", "save-securitygroups-plugin__run-instance-record.json")
	for _, on := range []bool{true, false} {
		e := newEngine(t, Config{Resolver: res, SecurityGroupSnapshots: on})
		found, err := e.Evaluate(context.Background(), decodeFile(t, path, "k"))
		if err != nil {
			t.Fatal(err)
		}
		if !on {
			if len(found.Snapshots) != 0 {
				t.Errorf("snapshots without SecurityGroupSnapshots: %d, want none", len(found.Snapshots))
			}
			continue
		}
		var ids []string
		for _, s := range found.Snapshots {
			ids = append(ids, s.InstanceID)
			if s.EventID != "21cad05b-d412-4ef5-b238-1b01a08a595c" || s.AccountID != "123456789111" || s.Region != "eu-west-1" ||
				!s.LaunchTime.Equal(time.UnixMilli(1434616306000)) || !s.EventTime.Equal(time.Date(2015, 6, 18, 8, 31, 45, 0, time.UTC)) ||
				s.ObjectKey != "k" {
				t.Errorf("snapshot %+v", s)
			}
			var got, want any
			if json.Unmarshal([]byte(s.SecurityGroups), &got) != nil || json.Unmarshal([]byte(groups), &want) != nil || !jsonEqual(got, want) {
				t.Errorf("snapshot of %s holds %s, want %s", s.InstanceID, s.SecurityGroups, groups)
			}
		}
		want := []string{"i-023d5bf6c26aa18d5", "i-fdsa33fsd", "i-fdsafs12d", "i-fdsafsd", "i-fdsafsd12"}
		if len(ids) != len(want) {
			t.Fatalf("snapshots of %v, want %v", ids, want)
		}
		for i := range want {
			if ids[i] != want[i] {
				t.Errorf("snapshots of %v, want %v", ids, want)
				break
			}
		}
	}
	if n := res.Calls("ec2.security_groups", "123456789111", "eu-west-1", "sg-24051988"); n != 1 {
		t.Errorf("DescribeSecurityGroups lookups = %d, want 1", n)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
