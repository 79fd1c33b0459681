package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
)

// runApp runs the application with args and returns what it wrote.
func runApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newAppTo(&bytes.Buffer{})
	var out bytes.Buffer
	app.Writer = &out
	err := app.RunContext(context.Background(), append([]string{"fullstop"}, args...))
	return out.String(), err
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"completion", "fish"}, []string{"complete -c fullstop", "list-violations"}},
		{[]string{"completion", "zsh"}, []string{"#compdef fullstop", "--generate-bash-completion"}},
		{[]string{"completion", "bash"}, []string{"complete -o bashdefault -o default -F _fullstop_complete fullstop"}},
	} {
		out, err := runApp(t, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
	if _, err := runApp(t, "completion", "tcsh"); err == nil || exitCode(err) != 2 {
		t.Errorf("completion tcsh: %v, want a usage error", err)
	}
	// The bash script is valid bash; TestClient_BashCompletion completes
	// with it through the real binary (subcommands and flags).
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed for this test: %v", err)
	}
	script, _ := runApp(t, "completion", "bash")
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("bash -n: %v\n%s", err, out)
	}
}
