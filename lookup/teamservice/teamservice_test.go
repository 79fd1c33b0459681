package teamservice_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/fullstop-audit/fullstop/lookup/teamservice"
)

// The reference's team-service fixture: one enabled account, one disabled.
func TestAccounts(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("../../testdata/cloudtrail/fullstop-fixtures/team-service-client-spring__master-of-disaster-accounts.json")
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/teams/api/accounts/aws" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	a, err := teamservice.New(teamservice.Config{BaseURL: srv.URL + "/teams", Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"})})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		ids, err := a.Accounts(context.Background())
		if err != nil || !slices.Equal(ids, []string{"111222333444"}) {
			t.Fatalf("Accounts() = %v, %v; want the enabled account", ids, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls, want 1 (cached)", n)
	}
	b, _ := teamservice.New(teamservice.Config{BaseURL: srv.URL + "/teams", Token: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"})})
	status = http.StatusBadGateway
	if _, err := b.Accounts(context.Background()); err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("a 502: error = %v", err)
	}
}
