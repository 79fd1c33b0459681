package migrations_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/fullstop-audit/fullstop/migrations"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// setup returns a new database and a goose provider over it.
func setup(t *testing.T) (*sql.DB, *goose.Provider) {
	t.Helper()
	db, err := sql.Open("pgx", pgtest.New(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithTableName(migrations.VersionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatalf("new provider: %v", err)
	}
	return db, p
}

// setupMigrated returns a new database with all migrations applied.
func setupMigrated(t *testing.T) *sql.DB {
	t.Helper()
	db, p := setup(t)
	if _, err := p.Up(context.Background()); err != nil {
		t.Fatalf("up: %v", err)
	}
	return db
}

var wantTables = []string{
	"app_version", "application", "application_version_entities", "correlation_count", "job_run", "ledger", "ledger_claim", "lifecycle",
	"rule", "violation", "violation_type",
}

func tables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	return column(t, db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'fullstop_data' ORDER BY table_name`)
}

// column returns the one text column of the rows of query.
func column(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("query %s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatalf("scan: %v", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query %s: %v", query, err)
	}
	return out
}

func TestMigrations_upDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, p := setup(t)

	res, err := p.Up(ctx)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	if len(res) != len(p.ListSources()) || len(res) < 3 {
		t.Fatalf("up applied %d migrations, want all %d", len(res), len(p.ListSources()))
	}
	if got := strings.Join(tables(t, db), ","); got != strings.Join(wantTables, ",") {
		t.Errorf("tables = %s, want %s", got, strings.Join(wantTables, ","))
	}

	res, err = p.Up(ctx)
	if err != nil {
		t.Fatalf("second up: %v", err)
	}
	if len(res) != 0 {
		t.Errorf("second up applied %d migrations, want 0", len(res))
	}

	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	var schemas int
	if err := db.QueryRow(`SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'fullstop_data'`).Scan(&schemas); err != nil {
		t.Fatalf("query: %v", err)
	}
	if schemas != 0 {
		t.Errorf("schema fullstop_data still exists after down")
	}

	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up after down: %v", err)
	}
	var types int
	if err := db.QueryRow(`SELECT count(*) FROM fullstop_data.violation_type`).Scan(&types); err != nil {
		t.Fatalf("query: %v", err)
	}
	if types != 31 {
		t.Errorf("%d violation types after down and up, want 31", types)
	}
}

func TestMigrations_violationTypes(t *testing.T) {
	t.Parallel()
	db := setupMigrated(t)
	// id → severity, priority (reference §1.2; our decision: priority 1 for
	// APPLICATION_VERSION_DOES_NOT_HAVE_A_VALID_ARTIFACT).
	want := map[string][2]int{
		"ACTIVE_KEY_TOO_OLD":                                 {1, 2},
		"APPLICATION_NOT_PRESENT_IN_KIO":                     {1, 2},
		"APPLICATION_VERSION_DOES_NOT_HAVE_A_VALID_ARTIFACT": {1, 1},
		"APPLICATION_VERSION_NOT_PRESENT_IN_KIO":             {2, 1},
		"EC2_RUN_IN_PUBLIC_SUBNET":                           {0, 4},
		"EC2_WITH_A_SNAPSHOT_IMAGE":                          {2, 1},
		"EC2_WITH_KEYPAIR":                                   {0, 4},
		"IMAGE_IN_PIERONE_NOT_FOUND":                         {2, 1},
		"MISSING_SOURCE_IN_USER_DATA":                        {0, 4},
		"MISSING_USER_DATA":                                  {0, 3},
		"MISSING_VERSION_APPROVAL":                           {1, 1},
		"MODIFIED_ROLE_OR_SERVICE":                           {1, 2},
		"PASSWORD_USED":                                      {1, 1},
		"SCM_SOURCE_JSON_MISSING":                            {1, 2},
		"SCM_URL_IS_MISSING_IN_KIO":                          {0, 2},
		"SCM_URL_IS_MISSING_IN_SCM_SOURCE_JSON":              {1, 2},
		"SCM_URL_NOT_MATCH_WITH_KIO":                         {0, 2},
		"UNSECURED_PUBLIC_ENDPOINT":                          {4, 1},
		"WRONG_AMI":                                          {3, 1},
		"SPEC_URL_IS_MISSING_IN_KIO":                         {0, 3},
		"SPEC_TYPE_IS_MISSING_IN_KIO":                        {0, 3},
		"WRONG_REGION":                                       {1, 2},
		"MISSING_APPLICATION_ID_IN_USER_DATA":                {1, 2},
		"MISSING_APPLICATION_VERSION_IN_USER_DATA":           {1, 2},
		"OUTDATED_TAUPAGE":                                   {2, 2},
		"UNSECURED_ROOT_USER":                                {4, 1},
		"ILLEGAL_SCM_REPOSITORY":                             {2, 2},
		"MISSING_SPEC_LINKS":                                 {2, 2},
		"CROSS_ACCOUNT_ROLE":                                 {0, 4},
		"ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY":               {3, 1},
		"LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION":    {1, 1},
	}
	titles := map[string]string{ // a sample of the reference's titles
		"WRONG_REGION":       "EC2 instance in illegal region",
		"MISSING_SPEC_LINKS": "Commits w/o ticket references",
		"LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION": "Untrusted AWS-Lambda function",
		"ACTIVE_KEY_TOO_OLD":                              "IAM Access Key too old",
	}
	rows, err := db.Query(`SELECT id, title, violation_severity, priority, is_audit_relevant, help_text,
		created_by, last_modified_by FROM fullstop_data.violation_type`)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var (
			id, title, help, createdBy, modifiedBy string
			severity, priority                     int
			audit                                  bool
		)
		if err := rows.Scan(&id, &title, &severity, &priority, &audit, &help, &createdBy, &modifiedBy); err != nil {
			t.Fatalf("scan: %v", err)
		}
		seen++
		w, ok := want[id]
		if !ok {
			t.Errorf("unexpected type %s", id)
			continue
		}
		if severity != w[0] || priority != w[1] {
			t.Errorf("%s: severity %d priority %d, want %d %d", id, severity, priority, w[0], w[1])
		}
		if title == "" || len([]rune(title)) > 32 {
			t.Errorf("%s: title %q, want 1..32 characters", id, title)
		}
		if wt, ok := titles[id]; ok && title != wt {
			t.Errorf("%s: title %q, want %q", id, title, wt)
		}
		if audit {
			t.Errorf("%s: audit relevant, want false", id)
		}
		if sentences := strings.Count(help, ". ") + 1; len(help) < 40 || sentences > 3 || !strings.HasSuffix(help, ".") {
			t.Errorf("%s: help text %q, want 1-3 sentences", id, help)
		}
		if createdBy != "migration" || modifiedBy != "migration" {
			t.Errorf("%s: created by %q/%q, want migration", id, createdBy, modifiedBy)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query: %v", err)
	}
	if seen != len(want) {
		t.Errorf("%d types seeded, want %d", seen, len(want))
	}
}

// TestMigrations_constraints checks the identity rules of our decisions.
func TestMigrations_constraints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   []string // statements that must succeed
		stmt    string   // the statement under test
		wantErr string   // "" = must succeed, else a part of the error
	}{
		{
			name: "violation with NULL instance id is unique",
			setup: []string{`INSERT INTO fullstop_data.violation (event_id, account_id, region, violation_type_entity_id)
				VALUES ('e1', '123456789012', 'eu-west-1', 'WRONG_REGION')`},
			stmt: `INSERT INTO fullstop_data.violation (event_id, account_id, region, violation_type_entity_id)
				VALUES ('e1', '123456789012', 'eu-west-1', 'WRONG_REGION')`,
			wantErr: "unique_violation",
		},
		{
			name: "violation differing in instance id",
			setup: []string{`INSERT INTO fullstop_data.violation (event_id, account_id, region, violation_type_entity_id, instance_id)
				VALUES ('e1', '123456789012', 'eu-west-1', 'WRONG_REGION', 'i-1')`},
			stmt: `INSERT INTO fullstop_data.violation (event_id, account_id, region, violation_type_entity_id, instance_id)
				VALUES ('e1', '123456789012', 'eu-west-1', 'WRONG_REGION', 'i-2')`,
		},
		{
			name:    "violation of an unknown type",
			stmt:    `INSERT INTO fullstop_data.violation (event_id, violation_type_entity_id) VALUES ('e1', 'NO_SUCH_TYPE')`,
			wantErr: "violates foreign key",
		},
		{
			name: "version name in two applications",
			setup: []string{
				`INSERT INTO fullstop_data.application (id, name) VALUES (1, 'a'), (2, 'b')`,
				`INSERT INTO fullstop_data.app_version (application_id, name) VALUES (1, '1.0')`,
			},
			stmt: `INSERT INTO fullstop_data.app_version (application_id, name) VALUES (2, '1.0')`,
		},
		{
			name: "version name twice in one application",
			setup: []string{
				`INSERT INTO fullstop_data.application (id, name) VALUES (1, 'a')`,
				`INSERT INTO fullstop_data.app_version (application_id, name) VALUES (1, '1.0')`,
			},
			stmt:    `INSERT INTO fullstop_data.app_version (application_id, name) VALUES (1, '1.0')`,
			wantErr: "unique_version_name",
		},
		{
			name: "lifecycle event recorded twice",
			setup: []string{`INSERT INTO fullstop_data.lifecycle (event_id, instance_id, event_type, event_date)
				VALUES ('e1', 'i-1', 'RunInstances', '2024-05-01T10:11:12Z')`},
			stmt: `INSERT INTO fullstop_data.lifecycle (event_id, instance_id, event_type, event_date)
				VALUES ('e1', 'i-1', 'RunInstances', '2024-05-01T10:11:12Z')`,
			wantErr: "unique_lifecycle_event",
		},
		{
			name:  "instance log rows without event id",
			setup: []string{`INSERT INTO fullstop_data.lifecycle (instance_id, userdata_path) VALUES ('i-1', 's3://b/k')`},
			stmt:  `INSERT INTO fullstop_data.lifecycle (instance_id, userdata_path) VALUES ('i-1', 's3://b/k')`,
		},
		{
			name:    "ledger status",
			stmt:    `INSERT INTO fullstop_data.ledger (object_key, status) VALUES ('k', 'running')`,
			wantErr: "ledger_status_check",
		},
		{
			name:    "empty violation type id",
			stmt:    `INSERT INTO fullstop_data.violation_type (id) VALUES ('')`,
			wantErr: "violation_type_id_not_empty",
		},
	}
	db := setupMigrated(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatalf("begin: %v", err)
			}
			defer tx.Rollback()
			for _, s := range tt.setup {
				if _, err := tx.Exec(s); err != nil {
					t.Fatalf("setup %q: %v", s, err)
				}
			}
			_, err = tx.Exec(tt.stmt)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got error %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestMigrations_lifecycleEventDateKeepsTime(t *testing.T) {
	t.Parallel()
	db := setupMigrated(t)
	var got string
	err := db.QueryRow(`INSERT INTO fullstop_data.lifecycle (event_date) VALUES ('2024-05-01T10:11:12.5Z')
		RETURNING to_char(event_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS')`).Scan(&got)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	if got != "2024-05-01T10:11:12.500" {
		t.Errorf("event_date = %s, want the full timestamp 2024-05-01T10:11:12.500", got)
	}
}

// TestMigrations_statisticsOnlyForQueriedColumns: after ANALYZE the
// planner has statistics for the columns the store filters, joins or
// groups by, and none for those it only shows.
func TestMigrations_statisticsOnlyForQueriedColumns(t *testing.T) {
	t.Parallel()
	db := setupMigrated(t)
	if _, err := db.Exec(`INSERT INTO fullstop_data.violation
		(violation_type_entity_id, event_id, account_id, region, instance_id, username, meta_info,
		 plugin_fully_qualified_class_name, event_time, created_by, last_modified_by)
		SELECT 'WRONG_REGION', 'e' || i, '12345678901' || (i % 3), 'eu-west-1', 'i-' || (i % 7), 'arn:u' || i,
		       '{"n":' || i || '}', 'p', now(), 'u', 'u'
		FROM generate_series(1, 200) AS i`); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if _, err := db.Exec(`INSERT INTO fullstop_data.correlation_count
		(violation_type, account_id, region, group_key, window_start, object_key, events, sample_time, sample_event_id, sample_meta)
		SELECT 'T', 'a', '', 'g', now(), 'o' || i, i, now(), 'e' || i, '{}' FROM generate_series(1, 100) AS i`); err != nil {
		t.Fatalf("insert correlation counts: %v", err)
	}
	if _, err := db.Exec(`ANALYZE fullstop_data.violation, fullstop_data.correlation_count`); err != nil {
		t.Fatalf("analyze: %v", err)
	}
	got := column(t, db, `SELECT tablename || '.' || attname FROM pg_stats
		WHERE schemaname = 'fullstop_data' AND tablename IN ('violation', 'correlation_count') ORDER BY 1`)
	want := []string{
		"correlation_count.account_id", "correlation_count.group_key", "correlation_count.object_key",
		"correlation_count.region", "correlation_count.violation_type", "correlation_count.window_start",
		"violation.account_id", "violation.application_id", "violation.application_version_id",
		"violation.comment", "violation.created", "violation.event_id", "violation.id", "violation.instance_id",
		"violation.region", "violation.rule_entity_id", "violation.violation_type_entity_id",
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("columns with statistics:\n got %v\nwant %v", got, want)
	}
}
