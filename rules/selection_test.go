package rules_test

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/fullstop-audit/fullstop/rules"
)

func TestSelection(t *testing.T) {
	all := []rules.Rule{
		{Type: "WRONG_REGION", Severity: 1},
		{Type: "WRONG_AMI", Severity: 3, Set: rules.SetReference},
		{Type: "SIGMA_INFO", Severity: 0, Set: rules.SetSigma},
		{Type: "SIGMA_LOW", Severity: 1, Set: rules.SetSigma},
		{Type: "SIGMA_MEDIUM", Severity: 2, Set: rules.SetSigma},
		{Type: "SIGMA_HIGH", Severity: 3, Set: rules.SetSigma},
		{Type: "SIGMA_CRITICAL", Severity: 4, Set: rules.SetSigma},
	}
	for _, tc := range []struct {
		spec string
		want []string
	}{
		{"", []string{"WRONG_REGION", "WRONG_AMI", "SIGMA_MEDIUM", "SIGMA_HIGH", "SIGMA_CRITICAL"}},
		{rules.DefaultSelection, []string{"WRONG_REGION", "WRONG_AMI", "SIGMA_MEDIUM", "SIGMA_HIGH", "SIGMA_CRITICAL"}},
		{"reference", []string{"WRONG_REGION", "WRONG_AMI"}},
		{"sigma", []string{"SIGMA_INFO", "SIGMA_LOW", "SIGMA_MEDIUM", "SIGMA_HIGH", "SIGMA_CRITICAL"}},
		{"sigma:high", []string{"SIGMA_HIGH", "SIGMA_CRITICAL"}},
		{"SIGMA:Critical", []string{"SIGMA_CRITICAL"}},
		{"sigma:informational", []string{"SIGMA_INFO", "SIGMA_LOW", "SIGMA_MEDIUM", "SIGMA_HIGH", "SIGMA_CRITICAL"}},
		{"reference:high", []string{"WRONG_AMI"}},
		{"wrong_region", []string{"WRONG_REGION"}},
		{"sigma:high, SIGMA_LOW", []string{"SIGMA_LOW", "SIGMA_HIGH", "SIGMA_CRITICAL"}},
		{"WRONG_*", []string{"WRONG_REGION", "WRONG_AMI"}},
		{"*", []string{"WRONG_REGION", "WRONG_AMI", "SIGMA_INFO", "SIGMA_LOW", "SIGMA_MEDIUM", "SIGMA_HIGH", "SIGMA_CRITICAL"}},
		{"sigma,-SIGMA_LOW,-sigma:high", []string{"SIGMA_INFO", "SIGMA_MEDIUM"}},
		{"-WRONG_AMI", []string{"WRONG_REGION", "SIGMA_MEDIUM", "SIGMA_HIGH", "SIGMA_CRITICAL"}}, // from the default
		{"-sigma,SIGMA_LOW", []string{"WRONG_REGION", "WRONG_AMI", "SIGMA_LOW"}},                 // from the default
		{"-sigma:critical", []string{"WRONG_REGION", "WRONG_AMI", "SIGMA_MEDIUM", "SIGMA_HIGH"}}, // from the default
		{"WRONG_AMI,-WRONG_AMI,WRONG_AMI", []string{"WRONG_AMI"}},                                // in order
	} {
		sel, err := rules.ParseSelection(tc.spec)
		if err != nil {
			t.Errorf("ParseSelection(%q): %v", tc.spec, err)
			continue
		}
		got, err := sel.Apply(all)
		if err != nil {
			t.Errorf("%q: Apply: %v", tc.spec, err)
			continue
		}
		var types []string
		for _, r := range got {
			types = append(types, r.Type)
		}
		if !slices.Equal(types, tc.want) {
			t.Errorf("%q selects %v, want %v", tc.spec, types, tc.want)
		}
	}
}

func TestSelection_Errors(t *testing.T) {
	for _, spec := range []string{"sigma:hi", "WRONG_AMI:high", "[", " , ", "-"} {
		if _, err := rules.ParseSelection(spec); !errors.Is(err, rules.ErrSelection) {
			t.Errorf("ParseSelection(%q) = %v, want ErrSelection", spec, err)
		}
	}
	all := []rules.Rule{{Type: "WRONG_AMI"}, {Type: "SIGMA_X", Set: rules.SetSigma}}
	for _, spec := range []string{"WRONG_AMY", "reference,-SIGMA_Y", "NOPE_*"} {
		sel, err := rules.ParseSelection(spec)
		if err != nil {
			t.Fatalf("ParseSelection(%q): %v", spec, err)
		}
		if _, err := sel.Apply(all); !errors.Is(err, rules.ErrSelection) {
			t.Errorf("%q: Apply = %v, want ErrSelection for a name that matches no rule", spec, err)
		}
	}
	// A set with no rule of its level is not a typo.
	sel, _ := rules.ParseSelection("sigma:critical")
	if got, err := sel.Apply(all); err != nil || len(got) != 0 {
		t.Errorf("sigma:critical over no critical rule = %v, %v; want none, no error", got, err)
	}
}

func ruleFS(typ, src string) fstest.MapFS {
	return fstest.MapFS{"rules/" + typ + ".sql": {Data: []byte(src)}}
}

func TestLoadRules_Set(t *testing.T) {
	for _, tc := range []struct{ header, want string }{{"", rules.SetReference}, {"-- set: sigma\n", rules.SetSigma}} {
		fsys := ruleFS("X", "-- type: X\n-- title: t\n-- severity: 1\n-- priority: 2\n"+tc.header+"-- help: h\nSELECT 1")
		rs, err := rules.LoadRules(fsys)
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].SetName() != tc.want {
			t.Errorf("header %q: set %q, want %q", tc.header, rs[0].SetName(), tc.want)
		}
	}
	fsys := ruleFS("X", "-- type: X\n-- title: t\n-- severity: 1\n-- priority: 2\n-- set: other\n-- help: h\nSELECT 1")
	if _, err := rules.LoadRules(fsys); !errors.Is(err, rules.ErrRule) {
		t.Errorf("set other: %v, want ErrRule", err)
	}
}
