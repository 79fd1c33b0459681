//go:build duckdb_arrow

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

// clientRun runs a client command with env and stdin and returns its exit
// code, stdout and stderr.
func clientRun(t *testing.T, env []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	p := command(t, env, args...)
	p.cmd.Stdin = strings.NewReader(stdin)
	err := p.cmd.Run()
	code := 0
	if err != nil {
		code = p.cmd.ProcessState.ExitCode()
	}
	return code, p.stdout.String(), p.stderr.String()
}

// TestClient_AgainstServe runs the client commands against fullstop serve
// over the violations of the real sample logs.
func TestClient_AgainstServe(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	_, base := startServe(t, []string{"DATABASE_URL=" + db}, "--no-processing", "--auth", "none")
	if code, out, errs := fullstop(t, []string{"DATABASE_URL=" + db}, "--log-level", "warn", "backfill", "--source", invictusRoot,
		"--from", "2023-07-10", "--to", "2023-07-11", "--progress=false", "--rules", "reference"); code != 0 {
		t.Fatalf("backfill: %d\n%s\n%s", code, out, errs)
	}
	cfgHome := t.TempDir()
	env := []string{"XDG_CONFIG_HOME=" + cfgHome, "HOME=" + t.TempDir(), "NO_COLOR=1"}

	// configure: the answers are stored; a second run keeps them as defaults.
	code, out, errs := clientRun(t, env, base+"\n"+invictusAccount+"\n", "configure")
	if code != 0 || !strings.Contains(out, "Storing configuration.. OK") {
		t.Fatalf("configure: %d %q %q", code, out, errs)
	}
	code, out, _ = clientRun(t, env, "\n\n", "configure")
	if code != 0 || !strings.Contains(out, "["+base+"]") || !strings.Contains(out, "["+invictusAccount+"]") {
		t.Fatalf("configure again: %d %q", code, out)
	}

	list := func(t *testing.T, args ...string) []map[string]any {
		t.Helper()
		code, out, errs := clientRun(t, env, "", append(args, "-o", "json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%v: not a JSON array: %v\n%s", args, err, out)
		}
		return rows
	}
	t.Run("types", func(t *testing.T) {
		rows := list(t, "types")
		if len(rows) != 31 {
			t.Fatalf("%d types, want 31", len(rows))
		}
		var ids []string
		for _, r := range rows {
			ids = append(ids, r["id"].(string))
			if len(r) != 4 {
				t.Fatalf("type row %v: want exactly id, violation_severity, created_time, help_text", r)
			}
		}
		if !slices.IsSorted(ids) {
			t.Errorf("types not sorted by id: %v", ids)
		}
	})
	t.Run("list, abbreviated, oldest first, the reference's columns", func(t *testing.T) {
		rows := list(t, "list")
		if len(rows) != 8 {
			t.Fatalf("%d violations, want 8", len(rows))
		}
		want := []string{"account_id", "application_id", "application_version_id", "comment", "created_time", "id", "instance_id", "meta_info", "region", "violation_type"}
		for i, r := range rows {
			var keys []string
			for k := range r {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, want) {
				t.Fatalf("row keys %v, want %v", keys, want)
			}
			if _, ok := r["created_time"].(float64); !ok {
				t.Errorf("created_time %v is not epoch seconds", r["created_time"])
			}
			if i > 0 && r["id"].(float64) <= rows[i-1]["id"].(float64) {
				t.Errorf("not oldest first: %v after %v", r["id"], rows[i-1]["id"])
			}
		}
	})
	t.Run("filters", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want int
		}{
			{[]string{"list-violations", "-t", "WRONG_REGION"}, 4},
			{[]string{"list-violations", "-l", "3"}, 3},
			{[]string{"list-violations", "-r", "us-east-1"}, 8},
			{[]string{"list-violations", "-r", "eu-west-1"}, 0},
			{[]string{"list-violations", "--meta", "function_name=stratus-red-team-backdoor-f-func"}, 2},
			{[]string{"list-violations", "-x", "allowed_regions"}, 2},
			{[]string{"list-violations", "--since", "1d"}, 8},
			{[]string{"list-violations", "--severity", "1"}, 8},
			{[]string{"list-violations", "--severity", "2"}, 0},
			{[]string{"list-violations", "--since", "2000-01-01 00:00:00", "--accounts", "999999999999"}, 0},
		} {
			if got := len(list(t, tc.args...)); got != tc.want {
				t.Errorf("%v: %d violations, want %d", tc.args, got, tc.want)
			}
		}
	})
	t.Run("text and tsv", func(t *testing.T) {
		code, out, _ := clientRun(t, env, "", "list-violations", "-t", "WRONG_REGION")
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "Account Id") || !strings.Contains(lines[0], "Application Version") {
			t.Fatalf("text: %d\n%s", code, out)
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("colour in output to a pipe:\n%q", out)
		}
		code, out, _ = clientRun(t, env, "", "list-violations", "-t", "WRONG_REGION", "-o", "tsv")
		lines = strings.Split(strings.TrimRight(out, "\n"), "\n")
		if code != 0 || len(lines) != 5 || lines[0] != strings.Join([]string{"account_id", "region", "id", "violation_type", "instance_id",
			"application_id", "application_version_id", "meta_info", "comment", "created_time"}, "\t") {
			t.Fatalf("tsv: %d\n%s", code, out)
		}
		if f := strings.Split(lines[1], "\t"); len(f) != 10 || !strings.HasSuffix(f[9], " ago") {
			t.Errorf("tsv row %q: want 10 fields, an age last", lines[1])
		}
	})
	t.Run("show-violation", func(t *testing.T) {
		code, out, errs := clientRun(t, env, "", "show", "1")
		if code != 0 || !strings.Contains(out, "state:       open") || !strings.Contains(out, "meta_info:") || !strings.Contains(out, "help:") {
			t.Fatalf("show 1: %d %s %s", code, out, errs)
		}
		code, out, errs = clientRun(t, env, "", "show-violation", "999")
		if code != 1 || out != "" || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "404") || !strings.Contains(errs, "does not exist") {
			t.Fatalf("show 999: %d %q %q", code, out, errs)
		}
	})
	t.Run("resolve-violations and reopen", func(t *testing.T) {
		// No filter and no configured accounts: the reference's usage error.
		code, _, errs := clientRun(t, []string{"XDG_CONFIG_HOME=" + t.TempDir(), "FULLSTOP_URL=" + base}, "", "resolve-violations", "fixed")
		if code != 2 || !strings.Contains(errs, "At least one of --accounts, --type, --region or --violation-ids must be specified") {
			t.Fatalf("resolve without filters: %d %q", code, errs)
		}
		code, out, errs := clientRun(t, env, "", "resolve-violations", "-t", "WRONG_REGION", "moved to eu-west-1")
		if code != 0 || strings.Count(out, ".. OK\n") != 4 || !strings.Contains(out, "Resolving violation "+invictusAccount+"/us-east-1 WRONG_REGION ") {
			t.Fatalf("resolve by type: %d\n%s%s", code, out, errs)
		}
		if n := len(list(t, "list", "-t", "WRONG_REGION")); n != 0 {
			t.Errorf("%d open WRONG_REGION violations after resolving, want 0", n)
		}
		if rows := list(t, "list", "-t", "WRONG_REGION", "--all"); len(rows) != 4 || rows[0]["comment"] != "moved to eu-west-1" {
			t.Errorf("--all: %v", rows)
		}
		// Already resolved: skipped, nothing printed.
		code, out, _ = clientRun(t, env, "", "resolve-violations", "-t", "WRONG_REGION", "again")
		if code != 0 || out != "" {
			t.Errorf("resolving resolved ones: %d %q, want nothing done", code, out)
		}
		// A per-item failure (the server refuses a comment that is not
		// UTF-8) is reported on its line, the others go on, exit 1.
		code, out, errs = clientRun(t, env, "", "resolve-violations", "-i", "1,2", "bad \xff comment")
		if code != 1 || strings.Count(out, "EXCEPTION OCCURRED: 400") != 2 || !strings.Contains(errs, "could not be changed") {
			t.Errorf("per-item failures: %d\n%s%s", code, out, errs)
		}
		code, _, errs = clientRun(t, env, "", "resolve-violations", "-i", "1,999", "x")
		if code != 1 || !strings.Contains(errs, "404") {
			t.Errorf("an unknown id: %d %q", code, errs)
		}
		code, _, errs = clientRun(t, env, "", "resolve-violations", "-i", "abc", "x")
		if code != 2 || !strings.Contains(errs, "abc") {
			t.Errorf("a bad id: %d %q", code, errs)
		}
		// reopen, abbreviated: the resolved ones are open again.
		var ids []string
		for _, r := range list(t, "list", "-t", "WRONG_REGION", "--all") {
			ids = append(ids, fmt.Sprint(int64(r["id"].(float64))))
		}
		code, out, errs = clientRun(t, env, "", append([]string{"reo"}, ids...)...)
		if code != 0 || strings.Count(out, ".. OK\n") != 4 {
			t.Fatalf("reopen %v: %d\n%s%s", ids, code, out, errs)
		}
		if n := len(list(t, "list", "-t", "WRONG_REGION")); n != 4 {
			t.Errorf("%d open after reopening, want 4", n)
		}
		code, out, _ = clientRun(t, env, "", "reopen", "999", ids[0])
		if code != 1 || !strings.Contains(out, "Reopening violation 999.. EXCEPTION OCCURRED: 404") || !strings.Contains(out, "Reopening violation "+ids[0]+".. OK") {
			t.Errorf("reopen with an unknown id: %d\n%s", code, out)
		}
		// re is the start of two commands.
		code, _, errs = clientRun(t, env, "", "re", "x")
		if code != 2 || !strings.Contains(errs, "reopen") || !strings.Contains(errs, "resolve-violations") {
			t.Errorf("ambiguous prefix: %d %q", code, errs)
		}
	})
	t.Run("whitelist", func(t *testing.T) {
		code, out, errs := clientRun(t, env, "", "whitelist", "add", "--image-name", "(", "--reason", "x")
		if code != 1 || out != "" || !strings.Contains(errs, "400") || !strings.Contains(errs, "image_name") {
			t.Errorf("bad regex: %d %q %q", code, out, errs)
		}
		code, _, errs = clientRun(t, env, "", "whitelist", "add", "--rule-type", "WRONG_REGION")
		if code != 2 || !strings.Contains(errs, "--reason") {
			t.Errorf("no reason: %d %q", code, errs)
		}
		code, out, errs = clientRun(t, env, "", "whitelist", "add", "--account", invictusAccount,
			"--rule-type", "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION", "--reason", "red team", "--expires", "2099-01-01")
		if code != 0 || !strings.Contains(out, "Created whitelisting rule 1 (expires 2099-01-01 00:00 UTC)") {
			t.Fatalf("add: %d %q %q", code, out, errs)
		}
		code, out, _ = clientRun(t, env, "", "whitelist", "apply", "--dry-run", "1")
		if code != 0 || out != "Whitelisting rule 1 would whitelist 4 open violations.\n" {
			t.Errorf("dry run: %d %q", code, out)
		}
		code, out, _ = clientRun(t, env, "", "w", "apply", "1")
		if code != 0 || out != "Whitelisting rule 1 whitelisted 4 open violations.\n" {
			t.Errorf("apply: %d %q", code, out)
		}
		if n := len(list(t, "list", "-t", "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION")); n != 0 {
			t.Errorf("%d open after apply, want 0", n)
		}
		rules := list(t, "whitelist", "list")
		if len(rules) != 1 || rules[0]["reason"] != "red team" || rules[0]["state"] != "in force" {
			t.Errorf("whitelist list: %v", rules)
		}
		code, out, _ = clientRun(t, env, "", "whitelist", "expire", "1")
		if code != 0 || !strings.Contains(out, "rule 1 expires") {
			t.Errorf("expire: %d %q", code, out)
		}
		code, _, errs = clientRun(t, env, "", "whitelist", "expire", "--at", "2001-01-01", "1")
		if code != 1 || !strings.Contains(errs, "404") {
			t.Errorf("expire in the past: %d %q", code, errs)
		}
		code, _, errs = clientRun(t, env, "", "whitelist", "apply", "x")
		if code != 2 {
			t.Errorf("apply x: %d %q", code, errs)
		}
	})
	t.Run("counts", func(t *testing.T) {
		// After the subtests above: WRONG_REGION open, the Lambda ones whitelisted.
		rows := list(t, "counts")
		if len(rows) != 1 || rows[0]["type"] != "WRONG_REGION" || rows[0]["quantity"] != 4.0 || rows[0]["account"] != invictusAccount {
			t.Errorf("counts: %v", rows)
		}
		if rows := list(t, "counts", "--state", "any", "--by", "type"); len(rows) != 2 || rows[0]["type"] != "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION" || rows[1]["quantity"] != 4.0 {
			t.Errorf("counts by type: %v", rows)
		}
		if rows := list(t, "counts", "--state", "whitelisted", "--by", "application"); len(rows) != 1 || rows[0]["application"] != nil || rows[0]["quantity"] != 4.0 {
			t.Errorf("counts by application: %v", rows)
		}
		if rows := list(t, "counts", "--since", "2000-01-01 00:00:00", "--state", "any"); len(rows) != 2 {
			t.Errorf("counts since 2000: %v", rows)
		}
		if code, _, errs := clientRun(t, env, "", "counts", "--by", "region"); code != 2 || !strings.Contains(errs, "--by") {
			t.Errorf("counts --by region: %d %q", code, errs)
		}
	})
	t.Run("errors and precedence", func(t *testing.T) {
		for _, tc := range []struct {
			env     []string
			args    []string
			code    int
			mention string
		}{
			{[]string{"XDG_CONFIG_HOME=" + t.TempDir()}, []string{"list"}, 2, "fullstop configure"},
			{nil, []string{"list", "--since", "-7d"}, 2, "--since"},
			{nil, []string{"list", "--url", "http://127.0.0.1:1"}, 1, "127.0.0.1:1"},
			{[]string{"FULLSTOP_URL=http://127.0.0.1:1"}, []string{"list"}, 1, "127.0.0.1:1"},
			{nil, []string{"list", "-o", "xml"}, 2, "--output"},
			{nil, []string{"list", "--sort", "x"}, 2, "-sort"},
			{nil, []string{"lst"}, 2, "lst"},
		} {
			code, out, errs := clientRun(t, append(slices.Clone(env), tc.env...), "", tc.args...)
			if code != tc.code || out != "" || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, tc.mention) {
				t.Errorf("%v %v: exit %d %q %q; want %d and one line naming %s", tc.env, tc.args, code, out, errs, tc.code, tc.mention)
			}
		}
		// A flag wins over the environment.
		code, _, errs := clientRun(t, append(slices.Clone(env), "FULLSTOP_URL=http://127.0.0.1:1"), "", "list", "--url", base)
		if code != 0 {
			t.Errorf("--url over FULLSTOP_URL: exit %d %s", code, errs)
		}
	})
}

// TestClient_Applications lists by application and version name.
func TestClient_Applications(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	_, base := startServe(t, []string{"DATABASE_URL=" + db}, "--no-processing", "--auth", "none")
	for i, app := range []string{"shop", "shop", "search"} {
		body := fmt.Sprintf(`{"event_id":"e-%d","account_id":"123456789012","region":"eu-west-1","violation_type":"EC2_WITH_KEYPAIR",
			"meta_info":{"key_name":"ops"},"instance_id":"i-%d","application_id":%q,"application_version":"1.%d.0"}`, i, i, app, i)
		resp, err := http.Post(base+"/api/violations", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "FULLSTOP_URL=" + base}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"list", "--applications", "shop"}, 2},
		{[]string{"list", "--applications", "shop,search"}, 3},
		{[]string{"list", "--application-versions", "1.2.0"}, 1},
		{[]string{"list", "--applications", "shop", "--application-versions", "1.2.0"}, 0},
		{[]string{"list", "--applications", "none"}, 0},
	} {
		code, out, errs := clientRun(t, env, "", append(tc.args, "-o", "json")...)
		var rows []map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != tc.want {
			t.Errorf("%v: exit %d, %d rows (%s%s), want %d", tc.args, code, len(rows), out, errs, tc.want)
		}
	}
	code, out, _ := clientRun(t, env, "", "list", "--applications", "search", "-o", "tsv")
	if code != 0 || !strings.Contains(out, "\tsearch\t1.2.0\tkey_name: ops\t") {
		t.Errorf("tsv with an application: %d %q", code, out)
	}
}

// TestClient_MoreOptions: show-violation as JSON, every criterion of
// whitelist add, a database that is gone (503) as one line.
func TestClient_MoreOptions(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	proxy := pgtest.NewProxy(t, db)
	_, base := startServe(t, []string{"DATABASE_URL=" + proxy.URL}, "--no-processing", "--auth", "none",
		"--database-statement-timeout", "3s")
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "FULLSTOP_URL=" + base}
	resp, err := http.Post(base+"/api/violations", "application/json", strings.NewReader(
		`{"event_id":"e-1","account_id":"123456789012","region":"eu-west-1","violation_type":"EC2_WITH_KEYPAIR","meta_info":{"key_name":"ops","ami_name":"team-7-base"},"instance_id":"i-1"}`))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST: %v %v", resp, err)
	}
	resp.Body.Close()
	code, out, errs := clientRun(t, env, "", "show-violation", "-o", "json", "1")
	var v map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["seen_count"] != 1.0 || v["violation_type"].(map[string]any)["id"] != "EC2_WITH_KEYPAIR" {
		t.Fatalf("show -o json: %d %s %s", code, out, errs)
	}
	code, out, errs = clientRun(t, env, "", "whitelist", "add", "--account", "123456789012", "--rule-region", "eu-west-1",
		"--rule-type", "EC2_WITH_KEYPAIR", "--image-name", "team-7-.*", "--image-owner", "123456789012", "--application", "shop",
		"--application-version", "1.0", "--meta-path", "$.[?(@.key_name == 'ops')]", "--reason", "all criteria")
	if code != 0 {
		t.Fatalf("whitelist add: %d %s %s", code, out, errs)
	}
	code, out, _ = clientRun(t, env, "", "whitelist", "list", "-o", "json")
	var rules []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rules) != nil || len(rules) != 1 {
		t.Fatalf("whitelist list: %d %s", code, out)
	}
	for k, want := range map[string]string{"account_id": "123456789012", "region": "eu-west-1", "violation_type": "EC2_WITH_KEYPAIR",
		"image_name": "team-7-.*", "image_owner": "123456789012", "application_id": "shop", "application_version": "1.0",
		"meta_info_json_path": "$.[?(@.key_name == 'ops')]", "reason": "all criteria"} {
		if rules[0][k] != want {
			t.Errorf("rule %s = %v, want %q", k, rules[0][k], want)
		}
	}
	// The rule's application does not hold for the violation: nothing to apply.
	code, out, _ = clientRun(t, env, "", "whitelist", "apply", "--dry-run", "1")
	if code != 0 || !strings.Contains(out, "would whitelist 0 open violations") {
		t.Errorf("dry run: %d %q", code, out)
	}
	code, _, errs = clientRun(t, env, "", "whitelist", "add", "--meta-path", "$.[?(@.a ==", "--reason", "x")
	if code != 1 || !strings.Contains(errs, "meta_info_json_path") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("a bad JSONPath: %d %q", code, errs)
	}
	// The database gone: the server answers 503, the client says so in one line.
	proxy.Stall()
	code, out, errs = clientRun(t, env, "", "list")
	proxy.Resume()
	if code != 1 || out != "" || !strings.Contains(errs, "503") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("database gone: %d %q %q", code, out, errs)
	}
}

// TestClient_LimitAboveThePageCap lists more violations than the
// server's page cap of 1000.
func TestClient_LimitAboveThePageCap(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	_, base := startServe(t, []string{"DATABASE_URL=" + db}, "--no-processing", "--auth", "none")
	ctx := context.Background()
	st, err := store.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var vs []rules.Violation
	key := "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/a.json.gz"
	for i := range 1205 {
		vs = append(vs, rules.Violation{Type: "WRONG_REGION", EventID: fmt.Sprintf("e-%04d", i), AccountID: "123456789012",
			Region: "us-east-1", InstanceID: fmt.Sprintf("i-%04d", i), MetaInfo: `{}`, ObjectKey: key})
	}
	if _, err := st.ViolationCommitGroup(ctx, "test", []etl.ObjectDone{{Key: key, ETag: "e", Size: 1,
		StartedAt: time.Now(), FinishedAt: time.Now()}}, rules.Findings{Violations: vs}); err != nil {
		t.Fatal(err)
	}
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "FULLSTOP_URL=" + base}
	for limit, want := range map[int]int{1003: 1003, 5000: 1205, 20: 20} {
		code, out, errs := clientRun(t, env, "", "list", "-l", fmt.Sprint(limit), "-o", "json")
		var rows []map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != want {
			t.Errorf("-l %d: exit %d, %d rows (%s), want %d", limit, code, len(rows), errs, want)
			continue
		}
		// The newest ones, oldest first.
		if last := rows[len(rows)-1]["id"].(float64); last != 1205 || rows[0]["id"].(float64) != float64(1205-want+1) {
			t.Errorf("-l %d: ids %v to %v", limit, rows[0]["id"], last)
		}
	}
}

// TestClient_BashCompletion completes through the real binary in bash.
func TestClient_BashCompletion(t *testing.T) {
	t.Parallel()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	code, script, errs := clientRun(t, nil, "", "completion", "bash")
	if code != 0 {
		t.Fatalf("completion bash: %d %s", code, errs)
	}
	for line, want := range map[string]string{
		"COMP_WORDS=(BIN whi); COMP_CWORD=1":                  "whitelist",
		"COMP_WORDS=(BIN whitelist a); COMP_CWORD=2":          "add apply",
		"COMP_WORDS=(BIN list-violations --li); COMP_CWORD=2": "--limit",
		"COMP_WORDS=(BIN re); COMP_CWORD=1":                   "resolve-violations reopen",
	} {
		cmd := exec.Command("bash", "-c", script+"\n"+strings.ReplaceAll(line, "BIN", bin)+`; _fullstop_complete; echo "${COMPREPLY[@]}"`)
		cmd.Env = append(cleanEnv(), "FULLSTOP_TEST_MAIN=1")
		out, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s: %q, %v; want %q", line, out, err, want)
		}
	}
}

// TestClient_Tokens runs the client against fullstop serve --auth
// tokeninfo: each token source reaches the server; no token is a 401 and
// a missing right a 403, each one line.
func TestClient_Tokens(t *testing.T) {
	t.Parallel()
	good := strings.Repeat("g", 40)
	info := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+good {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_token"}`)
			return
		}
		fmt.Fprint(w, `{"uid":"jdoe","scope":["uid"],"realm":"/employees","expires_in":3600}`)
	}))
	t.Cleanup(info.Close)
	db := pgtest.New(t)
	_, base := startServe(t, []string{"DATABASE_URL=" + db}, "--no-processing", "--auth", "tokeninfo", "--token-info-url", info.URL)
	if code, out, errs := fullstop(t, []string{"DATABASE_URL=" + db}, "--log-level", "warn", "backfill", "--source", invictusRoot,
		"--from", "2023-07-10", "--to", "2023-07-11", "--progress=false", "--rules", "reference"); code != 0 {
		t.Fatalf("backfill: %d\n%s\n%s", code, out, errs)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "FULLSTOP_URL=" + base}
	for _, tc := range []struct {
		name    string
		env     []string
		args    []string
		code    int
		mention string
	}{
		{"no token", nil, []string{"types"}, 1, "401"},
		{"FULLSTOP_TOKEN", []string{"FULLSTOP_TOKEN=" + good}, []string{"types"}, 0, "ACTIVE_KEY_TOO_OLD"},
		{"--token-file", nil, []string{"types", "--token-file", tokenFile}, 0, "ACTIVE_KEY_TOO_OLD"},
		{"FULLSTOP_TOKEN_FILE", []string{"FULLSTOP_TOKEN_FILE=" + tokenFile}, []string{"types"}, 0, "ACTIVE_KEY_TOO_OLD"},
		{"FULLSTOP_TOKEN_COMMAND", []string{"FULLSTOP_TOKEN_COMMAND=echo " + good}, []string{"types"}, 0, "ACTIVE_KEY_TOO_OLD"},
		{"a wrong token", []string{"FULLSTOP_TOKEN=" + strings.Repeat("w", 40)}, []string{"types"}, 1, "401"},
		{"a token command that fails", []string{"FULLSTOP_TOKEN_COMMAND=exit 4"}, []string{"types"}, 2, "FULLSTOP_TOKEN_COMMAND"},
		// No team service: nobody may resolve; each violation's line says so.
		{"no right to resolve", []string{"FULLSTOP_TOKEN=" + good}, []string{"resolve-violations", "-i", "1,2", "done"}, 1, "could not be changed"},
	} {
		code, out, errs := clientRun(t, append(slices.Clone(env), tc.env...), "", tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.mention) {
			t.Errorf("%s: exit %d %q %q; want %d naming %s", tc.name, code, out, errs, tc.code, tc.mention)
		}
		if code != 0 && strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%s: stderr is more than one line: %q", tc.name, errs)
		}
		if strings.Contains(out+errs, good) {
			t.Errorf("%s: the token is in the output", tc.name)
		}
		if tc.name == "no right to resolve" && strings.Count(out, "EXCEPTION OCCURRED: 403") != 2 {
			t.Errorf("%s: want two 403 lines:\n%s", tc.name, out)
		}
	}
}
