package main

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// The API benchmark's data set: violations as the pipeline writes them,
// over accounts, regions and types with realistic skews, ids in the order
// of their creation time (as a pipeline inserting them as it finds them
// leaves them).

// apiRegions are the regions violations are in, with their weights: most
// in the two European home regions, a tail elsewhere.
var apiRegions = []struct {
	name   string
	weight float64
}{
	{"eu-central-1", 35}, {"eu-west-1", 30}, {"us-east-1", 10}, {"eu-west-2", 5}, {"us-west-2", 4},
	{"eu-north-1", 3}, {"ap-southeast-1", 3}, {"eu-west-3", 2}, {"us-east-2", 2}, {"ap-northeast-1", 2},
	{"ap-southeast-2", 1.5}, {"sa-east-1", 1}, {"ca-central-1", 1}, {"ap-south-1", 0.5},
}

// Words the application names are made of.
var (
	apiAppDomains = []string{"checkout", "catalog", "payment", "order", "customer", "search", "pricing", "stock",
		"shipping", "returns", "invoice", "review", "wishlist", "loyalty", "coupon", "fraud", "ledger", "address",
		"newsletter", "recommend", "media", "brand", "size", "voucher", "partner"}
	apiAppKinds = []string{"service", "api", "worker", "gateway", "frontend", "consumer"}
	apiUsers    = []string{"jdoe", "asmith", "mmueller", "kwagner", "lschmidt", "pnowak", "rgarcia", "tnguyen",
		"ebecker", "fkoch", "hrichter", "jklein", "mwolf", "nschulz", "ozimmer", "sbraun"}
	apiRoles           = []string{"Shibboleth-PowerUser", "Shibboleth-Administrator", "Shibboleth-ReadOnly", "deployer", "ci-robot"}
	apiResolveComments = []string{
		"False positive: test account, nothing runs here",
		"Instance terminated",
		"Fixed: redeployed with the approved Taupage AMI",
		"Accepted risk, see SEC-1342",
		"Key rotated and the old one deleted",
		"Known, migration to the private subnet is planned for next sprint",
		"Deployed from the release tag now",
		"Resolved by the team, checked by the security on-call",
	}
)

// apiRule is a whitelisting rule the seed creates; whitelisted violations
// point at one.
type apiRule struct {
	account, region, typ, reason string
}

// apiSeedConfig says what to generate.
type apiSeedConfig struct {
	Violations int
	Accounts   int
	Apps       int // applications, each with 1 to 5 versions
	Rules      int
	Days       int // created spread over the last Days days
	Seed       uint64
	Streams    int // parallel COPY connections
	Now        time.Time
	// SkipIndexes are indexes of the violations dropped for the COPY and
	// not made again (the 00005 ones, made by their migration's SQL).
	SkipIndexes []string
}

// apiDataset is what the seed made, for the load cases.
type apiDataset struct {
	Accounts []string // by descending number of violations
	Types    []string // by descending number of violations
	Regions  []string
	Rules    []int64
	Apps     int
	Versions int
	IDs      []int64 // a sample of the violations' ids, in a random order
	// VacuumPasses is how many VACUUMs it took to make AllVisible (the
	// share of the table's pages all-visible) at least 99%.
	VacuumPasses int
	AllVisible   float64
	Now          time.Time
	Took         struct {
		Reference, Copy, Index, Vacuum time.Duration
	}
}

// apiAccounts returns n distinct 12-digit account ids from rng.
func apiAccounts(rng *rand.Rand, n int) []string {
	seen := map[string]bool{}
	out := make([]string, 0, n)
	for len(out) < n {
		a := strconv.FormatInt(100_000_000_000+rng.Int64N(900_000_000_000), 10)
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// weighted draws indexes by weight in O(log n).
type weighted struct{ cum []float64 }

func newWeighted(ws []float64) *weighted {
	cum := make([]float64, len(ws))
	s := 0.0
	for i, w := range ws {
		s += w
		cum[i] = s
	}
	return &weighted{cum: cum}
}

func (w *weighted) draw(rng *rand.Rand) int {
	x := rng.Float64() * w.cum[len(w.cum)-1]
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if w.cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// zipfWeights are the weights 1/(k+1)^s for k < n.
func zipfWeights(n int, s float64) []float64 {
	ws := make([]float64, n)
	for k := range ws {
		ws[k] = 1 / math.Pow(float64(k+1), s)
	}
	return ws
}

// mix is splitmix64's finaliser, a bijection of uint64: distinct inputs
// give distinct outputs.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// eventUUID is a CloudTrail-like event id, distinct for distinct n.
func eventUUID(seed, n uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], mix(n^(seed<<40)))
	binary.BigEndian.PutUint64(b[8:], mix(n+seed*0x632be59bd9b4e019))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func hexID(rng *rand.Rand, n int) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rng.Uint64())
	return hex.EncodeToString(b[:])[:n]
}

// typeCategory is how a type's violations look: an EC2 instance, an
// application deployment, or an IAM finding.
func typeCategory(t string) string {
	switch {
	case strings.Contains(t, "KEY") || strings.Contains(t, "PASSWORD") || strings.Contains(t, "ROOT") ||
		strings.Contains(t, "ROLE") || strings.Contains(t, "CROSS_ACCOUNT"):
		return "iam"
	case strings.Contains(t, "KIO") || strings.Contains(t, "SCM") || strings.Contains(t, "ARTIFACT") ||
		strings.Contains(t, "PIERONE") || strings.Contains(t, "SPEC") || strings.Contains(t, "APPROVAL") ||
		strings.Contains(t, "SNAPSHOT"):
		return "app"
	}
	return "ec2"
}

// apiApp is a seeded application with its version ids.
type apiApp struct {
	id       int64
	name     string
	versions []int64
	vnames   []string
}

// seedAPI fills a migrated, empty database with cfg's data set.
func seedAPI(ctx context.Context, dbURL string, cfg apiSeedConfig) (*apiDataset, error) {
	ds := &apiDataset{Now: cfg.Now}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xa11))
	start := time.Now()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("seed: connect: %w", err)
	}
	defer conn.Close(ctx)

	// The 31 types of the migrations, in a seeded random order of frequency.
	rows, _ := conn.Query(ctx, `SELECT id FROM fullstop_data.violation_type ORDER BY id`)
	types, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(types) == 0 {
		return nil, fmt.Errorf("seed: read the violation types (got %d): %w", len(types), err)
	}
	rng.Shuffle(len(types), func(i, j int) { types[i], types[j] = types[j], types[i] })
	ds.Types = types
	ds.Accounts = apiAccounts(rng, cfg.Accounts)
	for _, r := range apiRegions {
		ds.Regions = append(ds.Regions, r.name)
	}

	apps, err := seedApps(ctx, conn, rng, cfg)
	if err != nil {
		return nil, err
	}
	ds.Apps = len(apps)
	for _, a := range apps {
		ds.Versions += len(a.versions)
	}
	rules := make([]apiRule, cfg.Rules)
	for i := range rules {
		rules[i] = apiRule{
			account: ds.Accounts[rng.IntN(len(ds.Accounts))], region: apiRegions[rng.IntN(3)].name,
			typ:    types[rng.IntN(len(types))],
			reason: fmt.Sprintf("Accepted by the security team for the %s migration (SEC-%d)", apiAppDomains[rng.IntN(len(apiAppDomains))], 1000+rng.IntN(9000)),
		}
		if i%2 == 1 {
			rules[i].region = ""
		}
		var id int64
		err := conn.QueryRow(ctx, `INSERT INTO fullstop_data.rule
    (account_id, region, violation_type_entity_id, reason, expiry_date, created, created_by, last_modified, last_modified_by)
VALUES ($1, nullif($2, ''), $3, $4, $5, $6, $7, $6, $7) RETURNING id`,
			rules[i].account, rules[i].region, rules[i].typ, rules[i].reason,
			cfg.Now.AddDate(1, 0, 0), cfg.Now.AddDate(0, 0, -cfg.Days), apiUsers[rng.IntN(len(apiUsers))]).Scan(&id)
		if err != nil {
			return nil, fmt.Errorf("seed: create rule: %w", err)
		}
		ds.Rules = append(ds.Rules, id)
	}
	ds.Took.Reference = time.Since(start)

	// COPY the violations into the table without its secondary indexes
	// (building them afterwards is many times faster than keeping them up
	// to date row by row), cfg.Streams connections at once; stream s makes
	// the rows i ≡ s (mod Streams), so every stream walks through time.
	start = time.Now()
	defs, err := dropSecondaryIndexes(ctx, conn)
	if err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	for s := 0; s < cfg.Streams; s++ {
		g.Go(func() error { return copyViolations(gctx, dbURL, cfg, ds, apps, rules, s) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `SELECT setval(pg_get_serial_sequence('fullstop_data.violation', 'id'), (SELECT max(id) FROM fullstop_data.violation))`); err != nil {
		return nil, fmt.Errorf("seed: set the id sequence: %w", err)
	}
	ds.Took.Copy = time.Since(start)
	start = time.Now()
	if err := createIndexes(ctx, dbURL, defs, cfg.SkipIndexes, cfg.Streams); err != nil {
		return nil, err
	}
	ds.Took.Index = time.Since(start)
	return ds, nil
}

// dropSecondaryIndexes drops the indexes of fullstop_data.violation other
// than its primary key and returns their names and definitions.
func dropSecondaryIndexes(ctx context.Context, conn *pgx.Conn) ([][2]string, error) {
	rows, _ := conn.Query(ctx, `SELECT i.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = 'fullstop_data.violation'::regclass AND NOT x.indisprimary
ORDER BY pg_relation_size(i.oid) DESC, i.relname`)
	defs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var d [2]string
		err := r.Scan(&d[0], &d[1])
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("seed: list the indexes: %w", err)
	}
	for _, d := range defs {
		if _, err := conn.Exec(ctx, "DROP INDEX fullstop_data."+pgx.Identifier{d[0]}.Sanitize()); err != nil {
			return nil, fmt.Errorf("seed: drop index %s: %w", d[0], err)
		}
	}
	return defs, nil
}

// createIndexes runs the index definitions defs but those named in skip,
// over up to n connections, largest first.
func createIndexes(ctx context.Context, dbURL string, defs [][2]string, skip []string, n int) error {
	todo := make(chan string, len(defs))
	for _, d := range defs {
		if !slices.Contains(skip, d[0]) {
			todo <- d[1]
		}
	}
	close(todo)
	g, gctx := errgroup.WithContext(ctx)
	for range max(n, 1) {
		g.Go(func() error {
			conn, err := pgx.Connect(gctx, dbURL)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(gctx, "SET maintenance_work_mem = '256MB'"); err != nil {
				return err
			}
			for def := range todo {
				if _, err := conn.Exec(gctx, def); err != nil {
					return fmt.Errorf("seed: %s: %w", def, err)
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// seedApps creates cfg.Apps applications with 1 to 5 versions each.
func seedApps(ctx context.Context, conn *pgx.Conn, rng *rand.Rand, cfg apiSeedConfig) ([]apiApp, error) {
	var apps []apiApp
	seen := map[string]bool{}
	for len(apps) < cfg.Apps {
		name := apiAppDomains[rng.IntN(len(apiAppDomains))] + "-" + apiAppKinds[rng.IntN(len(apiAppKinds))]
		if seen[name] {
			name += "-" + strconv.Itoa(len(apps))
		}
		seen[name] = true
		apps = append(apps, apiApp{name: name})
	}
	created := cfg.Now.AddDate(0, 0, -cfg.Days-30)
	b := &pgx.Batch{}
	for i := range apps {
		b.Queue(`INSERT INTO fullstop_data.application (name, created, created_by, last_modified, last_modified_by)
VALUES ($1, $2, 'fullstop', $2, 'fullstop') RETURNING id`, apps[i].name, created).QueryRow(func(r pgx.Row) error { return r.Scan(&apps[i].id) })
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("seed: create applications: %w", err)
	}
	b = &pgx.Batch{}
	for i := range apps {
		n := 1 + rng.IntN(5)
		major := 1 + rng.IntN(3)
		for v := 0; v < n; v++ {
			name := fmt.Sprintf("%d.%d.%d", major, v, rng.IntN(10))
			at := created.Add(time.Duration(v) * 7 * 24 * time.Hour)
			b.Queue(`WITH v AS (
    INSERT INTO fullstop_data.app_version (application_id, name, created, created_by, last_modified, last_modified_by)
    VALUES ($1, $2, $3, 'fullstop', $3, 'fullstop') RETURNING id)
INSERT INTO fullstop_data.application_version_entities (application_entities_id, version_entities_id)
SELECT $1, id FROM v RETURNING version_entities_id`, apps[i].id, name, at).QueryRow(func(r pgx.Row) error {
				var id int64
				if err := r.Scan(&id); err != nil {
					return err
				}
				apps[i].versions = append(apps[i].versions, id)
				apps[i].vnames = append(apps[i].vnames, name)
				return nil
			})
		}
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("seed: create application versions: %w", err)
	}
	return apps, nil
}

// apiViolationColumns are the columns the seed copies, in row order.
var apiViolationColumns = []string{
	"id", "event_id", "account_id", "region", "instance_id", "meta_info", "comment",
	"plugin_fully_qualified_class_name", "violation_type_entity_id", "username", "rule_entity_id",
	"application_id", "application_version_id", "event_time", "last_seen", "seen_count",
	"created", "created_by", "last_modified", "last_modified_by", "version",
}

// violationGen makes the rows of one COPY stream.
type violationGen struct {
	cfg      apiSeedConfig
	ds       *apiDataset
	apps     []apiApp
	rules    []apiRule
	rng      *rand.Rand
	accounts *weighted
	types    *weighted
	regions  *weighted
	cats     []string // typeCategory of ds.Types
	i, step  int
	row      []any
}

func newViolationGen(cfg apiSeedConfig, ds *apiDataset, apps []apiApp, rules []apiRule, stream int) *violationGen {
	rw := make([]float64, len(apiRegions))
	for i, r := range apiRegions {
		rw[i] = r.weight
	}
	g := &violationGen{
		cfg: cfg, ds: ds, apps: apps, rules: rules,
		rng:      rand.New(rand.NewPCG(cfg.Seed, uint64(stream)+1)),
		accounts: newWeighted(zipfWeights(len(ds.Accounts), 0.5)),
		types:    newWeighted(zipfWeights(len(ds.Types), 0.8)),
		regions:  newWeighted(rw),
		i:        stream, step: cfg.Streams,
		row: make([]any, len(apiViolationColumns)),
	}
	for _, t := range ds.Types {
		g.cats = append(g.cats, typeCategory(t))
	}
	return g
}

// Next, Values and Err make violationGen a pgx.CopyFromSource.
func (g *violationGen) Next() bool {
	if g.i >= g.cfg.Violations {
		return false
	}
	g.fill(g.i)
	g.i += g.step
	return true
}

func (g *violationGen) Values() ([]any, error) { return g.row, nil }
func (g *violationGen) Err() error             { return nil }

// fill makes row i (id i+1) into g.row.
func (g *violationGen) fill(i int) {
	rng, cfg := g.rng, g.cfg
	span := time.Duration(cfg.Days) * 24 * time.Hour
	step := span / time.Duration(cfg.Violations)
	created := cfg.Now.Add(-span + time.Duration(i)*step + time.Duration(rng.Int64N(int64(step)+1))).Truncate(time.Microsecond)
	eventTime := created.Add(-time.Duration(30+rng.IntN(900)) * time.Second)
	acct := g.ds.Accounts[g.accounts.draw(rng)]
	ti := g.types.draw(rng)
	typ := g.ds.Types[ti]
	region := apiRegions[g.regions.draw(rng)].name
	user := apiUsers[rng.IntN(len(apiUsers))]
	username := "arn:aws:sts::" + acct + ":assumed-role/" + apiRoles[rng.IntN(len(apiRoles))] + "/" + user

	var instance, appID, versionID any
	var meta string
	switch g.cats[ti] {
	case "iam":
		meta = fmt.Sprintf(`{"event_name":"CreateAccessKey","user_name":"%s","access_key_id":"AKIA%s","age_days":%d}`,
			user, strings.ToUpper(hexID(rng, 16)), 90+rng.IntN(400))
	case "app":
		a := &g.apps[rng.IntN(len(g.apps))]
		v := rng.IntN(len(a.versions))
		id := "i-0" + hexID(rng, 16)
		instance, appID, versionID = id, a.id, a.versions[v]
		meta = fmt.Sprintf(`{"instance_id":"%s","application_id":"%s","application_version":"%s","source":"pierone.stups.zalan.do/%s/%s:%s"}`,
			id, a.name, a.vnames[v], apiAppKinds[rng.IntN(len(apiAppKinds))], a.name, a.vnames[v])
	default:
		id := "i-0" + hexID(rng, 16)
		instance = id
		meta = fmt.Sprintf(`{"event_name":"RunInstances","instance_id":"%s","image_id":"ami-0%s","subnet_id":"subnet-%s","instance_type":"m5.large"}`,
			id, hexID(rng, 16), hexID(rng, 8))
		if rng.IntN(4) == 0 { // EC2 launched by a deployment of an application
			a := &g.apps[rng.IntN(len(g.apps))]
			v := rng.IntN(len(a.versions))
			appID, versionID = a.id, a.versions[v]
		}
	}
	lastSeen, seen := created, int32(1)
	if rng.IntN(4) == 0 {
		lastSeen = created.Add(time.Duration(rng.Int64N(int64(cfg.Now.Sub(created)) + 1))).Truncate(time.Microsecond)
		seen = int32(2 + rng.IntN(40))
	}
	var comment, rule any
	modified, modifiedBy, version := created, "fullstop", int64(0)
	switch x := rng.IntN(100); {
	case x < 5: // resolved
		comment = apiResolveComments[rng.IntN(len(apiResolveComments))]
		modified = created.Add(time.Duration(rng.Int64N(int64(cfg.Now.Sub(created)) + 1))).Truncate(time.Microsecond)
		modifiedBy, version = apiUsers[rng.IntN(len(apiUsers))], 1
	case x < 10: // whitelisted
		r := rng.IntN(len(g.rules))
		comment, rule = "Whitelisted automatically because of:"+g.rules[r].reason, g.ds.Rules[r]
		version = 1
	}
	g.row[0] = int64(i + 1)
	g.row[1] = eventUUID(cfg.Seed, uint64(i))
	g.row[2] = acct
	g.row[3] = region
	g.row[4] = instance
	g.row[5] = meta
	g.row[6] = comment
	g.row[7] = "sql/rules/" + typ + ".sql"
	g.row[8] = typ
	g.row[9] = username
	g.row[10] = rule
	g.row[11] = appID
	g.row[12] = versionID
	g.row[13] = eventTime
	g.row[14] = lastSeen
	g.row[15] = seen
	g.row[16] = created
	g.row[17] = "fullstop"
	g.row[18] = modified
	g.row[19] = modifiedBy
	g.row[20] = version
}

// copyViolations copies one stream's rows over a connection of its own.
func copyViolations(ctx context.Context, dbURL string, cfg apiSeedConfig, ds *apiDataset, apps []apiApp, rules []apiRule, stream int) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("seed: connect: %w", err)
	}
	defer conn.Close(ctx)
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"fullstop_data", "violation"}, apiViolationColumns,
		newViolationGen(cfg, ds, apps, rules, stream))
	if err != nil {
		return fmt.Errorf("seed: copy violations (stream %d): %w", stream, err)
	}
	if want := (cfg.Violations - stream + cfg.Streams - 1) / cfg.Streams; n != int64(want) {
		return fmt.Errorf("seed: stream %d copied %d violations, want %d", stream, n, want)
	}
	return nil
}
