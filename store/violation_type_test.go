package store

import (
	"context"
	"slices"
	"testing"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
)

// The rules' types are defined with their headers: created, updated when
// a header changes, left alone when nothing changed; the reference's
// seeded types keep the migration's texts; a type a violation created as
// unknown gets the rule's.
func TestStore_DefineViolationTypes(t *testing.T) {
	t.Parallel()
	st := setup(t)
	ctx := context.Background()
	sigma := rules.Rule{Type: "SIGMA_IAM_ROLE_CREATED_THAT_ANOTHER_ACCOUNT_CAN_ASSUME", Title: "IAM role created that another account can assume",
		Severity: 2, Priority: 2, Help: "A role another account can assume."}
	ref := rules.Rule{Type: "WRONG_REGION", Title: "changed title", Severity: 4, Priority: 1, Help: "changed help"}
	commit(t, st, []etl.ObjectDone{object("a")}, rules.Violation{Type: "SIGMA_X", EventID: "e1", AccountID: "111122223333", ObjectKey: "a"})
	unknown := rules.Rule{Type: "SIGMA_X", Title: "X", Severity: 3, Priority: 1, Help: "x help"}

	written, err := st.DefineViolationTypes(ctx, []rules.Rule{sigma, ref, unknown})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(written)
	if !slices.Equal(written, []string{"SIGMA_IAM_ROLE_CREATED_THAT_ANOTHER_ACCOUNT_CAN_ASSUME", "SIGMA_X"}) {
		t.Errorf("written %v, want the new type and the unknown one, not the seeded WRONG_REGION", written)
	}
	byID := func() map[string]ViolationType {
		types, err := st.ViolationTypes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]ViolationType{}
		for _, vt := range types {
			m[vt.ID] = vt
		}
		return m
	}
	m := byID()
	if got := m[sigma.Type]; got.Title != sigma.Title || got.Severity != 2 || *got.Priority != 2 || got.HelpText != sigma.Help {
		t.Errorf("created %+v", got)
	}
	if got := m["SIGMA_X"]; got.Title != "X" || got.Severity != 3 || got.HelpText != "x help" {
		t.Errorf("the unknown type was not defined: %+v", got)
	}
	if got := m["WRONG_REGION"]; got.Title != "EC2 instance in illegal region" {
		t.Errorf("seeded type changed: %+v", got)
	}
	if written, err = st.DefineViolationTypes(ctx, []rules.Rule{sigma, unknown}); err != nil || len(written) != 0 {
		t.Errorf("nothing changed: wrote %v, %v", written, err)
	}
	sigma.Severity, sigma.Priority = 4, 1
	if written, err = st.DefineViolationTypes(ctx, []rules.Rule{sigma}); err != nil || len(written) != 1 {
		t.Errorf("level raised: wrote %v, %v", written, err)
	}
	if got := byID()[sigma.Type]; got.Severity != 4 || *got.Priority != 1 {
		t.Errorf("updated %+v", got)
	}
}
