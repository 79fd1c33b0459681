//go:build duckdb_arrow

package duckdb

import (
	"testing"

	"github.com/fullstop-audit/fullstop/rules"
)

func TestEventFilter(t *testing.T) {
	t.Parallel()
	rs := []rules.Rule{
		{Sources: []string{"ec2.amazonaws.com", "lambda.amazonaws.com"}, Events: []string{"RunInstances", "CreateFunction*"}},
		{Sources: []string{"lambda.amazonaws.com"}, Events: []string{"UpdateFunctionCode*"}},
		{Sources: []string{"iam.amazonaws.com"}},
	}
	f := newEventFilter(rs)
	for _, tc := range []struct {
		source, name string
		want         bool
	}{
		{"ec2.amazonaws.com", "RunInstances", true},
		{"ec2.amazonaws.com", "RunInstancesX", false},
		{"ec2.amazonaws.com", "DescribeInstances", false},
		{"lambda.amazonaws.com", "CreateFunction20150331", true},
		{"lambda.amazonaws.com", "UpdateFunctionCode20150331v2", true},
		{"lambda.amazonaws.com", "GetFunction", false},
		{"iam.amazonaws.com", "CreateRole", true},
		{"iam.amazonaws.com", "", true},
		{"s3.amazonaws.com", "GetObject", false},
		{"", "RunInstances", false},
	} {
		if got := f.keeps(tc.source, tc.name); got != tc.want {
			t.Errorf("keeps(%q, %q) = %v, want %v", tc.source, tc.name, got, tc.want)
		}
	}
	if newEventFilter(append(rs, rules.Rule{})) != nil {
		t.Error("a rule without sources must turn the filter off")
	}
	if f := newEventFilter(append(rs, rules.Rule{OnlyColumn: "user_identity_type", OnlyValues: []string{"Root"}})); f == nil || len(f.only) != 1 {
		t.Error("a rule without sources but with an only-column keeps the filter on")
	}
	// A rule reading every event of a source wins over another's names.
	g := newEventFilter([]rules.Rule{{Sources: []string{"ec2.amazonaws.com"}, Events: []string{"RunInstances"}}, {Sources: []string{"ec2.amazonaws.com"}}})
	if !g.keeps("ec2.amazonaws.com", "DescribeInstances") {
		t.Error("every ec2 event must be kept when one rule reads them all")
	}
}
