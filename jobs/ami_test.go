package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/jobs"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
)

// fetchAmiJob: the expiration is read in the AMI owner's account; an
// expired Taupage AMI's instances are reported, a current one's, a
// foreign AMI's, one without the tag and a stopped instance are not.
func TestRunner_FetchAmi(t *testing.T) {
	t.Parallel()
	srv, c, st := setup(t)
	const region, owner = "eu-west-1", acctB
	now := time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC)
	amis := []struct {
		id, name, owner, expires string
	}{
		{"ami-0e1", "Taupage-AMI-20240101", owner, "2024-05-01T00:00:00Z"},     // expired
		{"ami-0c2", "Taupage-AMI-20240501", owner, "2024-06-01T00:00:00.000Z"}, // current
		{"ami-0f3", "ubuntu-22.04", owner, "2024-01-01T00:00:00Z"},             // not Taupage
		{"ami-0a4", "Taupage-AMI-20231201", "444444444444", "2024-01-01"},      // another owner: not Taupage
		{"ami-0b5", "Taupage-AMI-20231101", owner, ""},                         // no tag
	}
	for _, a := range amis {
		img := awstest.Image{ID: a.id, Name: a.name, OwnerID: a.owner}
		srv.AddImage(acctA, region, img) // what the member account sees: no tags
		if a.expires != "" {
			img.Tags = map[string]string{"ExpirationTime": a.expires}
		}
		srv.AddImage(a.owner, region, img)
	}
	for i, a := range amis {
		srv.AddInstance(acctA, region, awstest.Instance{ID: "i-000000000000000" + string(rune('1'+i)), ImageID: a.id,
			UserData: []byte("application_id: kio\napplication_version: \"7\"\n")})
	}
	srv.AddInstance(acctA, region, awstest.Instance{ID: "i-00000000000000f1", ImageID: "ami-0e1", State: "stopped"})
	r := &jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA}, Regions: []string{region}, Now: func() time.Time { return now }}
	res, err := r.Run(context.Background(), &jobs.FetchAmi{EC2: c, TaupageOwners: []string{owner}}, nil, "")
	if err != nil || res.New != 1 || len(res.Errors) != 0 {
		t.Fatalf("run = %+v, %v; want 1 new", res, err)
	}
	vs, _ := st.ViolationList(context.Background())
	if len(vs) != 1 {
		t.Fatalf("violations %+v", vs)
	}
	v := vs[0]
	if v.Type != "OUTDATED_TAUPAGE" || v.EventID != "checkAmiJob" || v.InstanceID != "i-0000000000000001" || v.Region != region ||
		v.MetaInfo != `{"ami_id":"ami-0e1","ami_name":"Taupage-AMI-20240101","ami_owner_id":"222222222222","expiration_date":"2024-05-01T00:00:00Z"}` {
		t.Errorf("violation %+v", v)
	}
	if n := srv.CallsFor("DescribeTags", owner, region); n != 3 {
		t.Errorf("DescribeTags in the owner's account: %d calls, want one per Taupage AMI (3)", n)
	}
	if strings.Contains(v.MetaInfo, "\\u") {
		t.Error("escaped meta")
	}
}
