package jobs_test

import (
	"slices"
	"testing"

	"github.com/fullstop-audit/fullstop/jobs"
)

// The reference's trust-policy cases, and arrays, which made it fail.
func TestCrossAccountGrantees(t *testing.T) {
	t.Parallel()
	const own, mgmt = "111111111111", "999999999999"
	tests := []struct {
		name, policy string
		want         []string
	}{
		{"another account", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole"}]}`,
			[]string{"arn:aws:iam::222222222222:root"}},
		{"own and management accounts", `{"Statement":[{"Principal":{"AWS":"arn:aws:iam::111111111111:role/a"}},{"Principal":{"AWS":"arn:aws:iam::999999999999:root"}}]}`, nil},
		{"an array, flattened", `{"Statement":[{"Principal":{"AWS":["arn:aws:iam::222222222222:role/x","arn:aws:iam::111111111111:root","arn:aws:iam::333333333333:user/y"]}}]}`,
			[]string{"arn:aws:iam::222222222222:role/x", "arn:aws:iam::333333333333:user/y"}},
		{"bare principal id of a deleted role", `{"Statement":[{"Principal":{"AWS":"AROAEXAMPLEID12345"}}]}`, nil},
		{"service principal", `{"Statement":[{"Principal":{"Service":"ec2.amazonaws.com"}}]}`, nil},
		{"star", `{"Statement":[{"Principal":"*"}]}`, nil},
		{"star as AWS", `{"Statement":[{"Principal":{"AWS":"*"}}]}`, nil},
		{"one statement object", `{"Statement":{"Principal":{"AWS":"arn:aws:iam::222222222222:root"}}}`, []string{"arn:aws:iam::222222222222:root"}},
		{"each grantee once", `{"Statement":[{"Principal":{"AWS":"arn:aws:iam::222222222222:root"}},{"Principal":{"AWS":["arn:aws:iam::222222222222:root"]}}]}`,
			[]string{"arn:aws:iam::222222222222:root"}},
		{"federated", `{"Statement":[{"Principal":{"Federated":"arn:aws:iam::222222222222:saml-provider/x"}}]}`, nil},
		{"not JSON", `{"Statement":`, nil},
		{"no statement", `{}`, nil},
	}
	for _, tt := range tests {
		if got := jobs.CrossAccountGrantees([]byte(tt.policy), own, mgmt); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
