package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/jobs"
	lookupaws "github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/kio"
	"github.com/fullstop-audit/fullstop/lookup/teamservice"
	"github.com/fullstop-audit/fullstop/rules/duckdb"
	"github.com/fullstop-audit/fullstop/store"
)

// errJobTargets marks a job run in which some accounts failed.
var errJobTargets = errors.New("the job could not scan some accounts (see above); the others were scanned")

func jobFlags() []cli.Flag {
	return append(append(append(databaseFlags(), serviceTokenFlags()...),
		&cli.StringFlag{Name: "accounts", EnvVars: []string{"FULLSTOP_ACCOUNTS"}, Usage: "comma list of the accounts to scan (default: the team service's enabled accounts)"},
		&cli.StringFlag{Name: "team-service-url", EnvVars: []string{"FULLSTOP_TEAM_SERVICE_URL"}, Usage: "team service listing the AWS accounts (GET /api/accounts/aws), when --accounts is not given"},
		&cli.StringFlag{Name: "role-name", Value: lookupaws.DefaultRoleName, EnvVars: []string{"FULLSTOP_ROLE_NAME"}, Usage: "the role assumed in each member account"},
		&cli.StringFlag{Name: "sts-region", EnvVars: []string{"FULLSTOP_STS_REGION"}, Usage: "region of the STS endpoint (default: the AWS environment's region)"},
		&cli.DurationFlag{Name: "credentials-timeout", Value: 10 * time.Second, EnvVars: []string{"FULLSTOP_CREDENTIALS_TIMEOUT"}, Usage: "bound on finding the process's AWS credentials at start"},
		&cli.StringFlag{Name: "kio-url", EnvVars: []string{"FULLSTOP_KIO_URL"}, Usage: "(fetchEC2Job, fetchElasticLoadBalancersJob) Kio: the open endpoints of the applications it marks publicly accessible are not reported"},
		&cli.StringFlag{Name: "taupage-owners", EnvVars: []string{"FULLSTOP_TAUPAGE_OWNERS"}, Usage: "(fetchAmiJob) comma list of the AWS accounts that own the Taupage AMIs"},
		&cli.StringFlag{Name: "taupage-name-prefix", Value: duckdb.DefaultTaupageNamePrefix, EnvVars: []string{"FULLSTOP_TAUPAGE_NAME_PREFIX"}, Usage: "(fetchAmiJob) the start of every Taupage AMI's name"},
	), jobSettingFlags()...)
}

// jobSettingFlags are the jobs' own settings, on jobs run and serve.
func jobSettingFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "job-regions", Value: strings.Join(duckdb.DefaultAllowedRegions, ","), EnvVars: []string{"FULLSTOP_JOB_REGIONS"}, Usage: "comma list of the regions the regional jobs scan"},
		&cli.IntFlag{Name: "access-keys-expire-after-days", Value: jobs.DefaultAccessKeyMaxAge, EnvVars: []string{"FULLSTOP_ACCESS_KEYS_EXPIRE_AFTER_DAYS"}, Usage: "(keyRotationJob) age in days after which an active access key is too old"},
		&cli.StringFlag{Name: "management-account", EnvVars: []string{"FULLSTOP_JOBS_MANAGEMENT_ACCOUNT"}, Usage: "(crossAccountPolicyForIAMJob) the account that may assume roles in every account"},
		&cli.IntFlag{Name: "job-concurrency", Value: jobs.DefaultConcurrency, EnvVars: []string{"FULLSTOP_JOB_CONCURRENCY"}, Usage: "accounts (or account regions) scanned at once"},
	}
}

// jobList returns the jobs, with their AWS access (nil for listing).
func jobList(c *cli.Context, clients *lookupaws.Clients, public *jobs.PublicApps) []jobs.Job {
	var iam jobs.IAM
	var reports jobs.CredentialReports
	var dbs jobs.Databases
	var ec2 jobs.EC2
	var amis jobs.AMIs
	var elbs jobs.ELBs
	if clients != nil {
		iam, reports, dbs, ec2, amis, elbs = clients, clients, clients, clients, clients, clients
	}
	mgmt := strings.TrimSpace(c.String("management-account"))
	return []jobs.Job{
		&jobs.CrossAccountRoles{IAM: iam, ManagementAccount: mgmt},
		&jobs.KeyRotation{IAM: iam, MaxAgeDays: c.Int("access-keys-expire-after-days")},
		&jobs.NoPasswords{IAM: reports, ManagementAccount: mgmt},
		&jobs.FetchRds{RDS: dbs},
		&jobs.FetchEC2{EC2: ec2, Public: public},
		&jobs.FetchELB{ELB: elbs, Public: public},
		&jobs.FetchAmi{EC2: amis, TaupageOwners: splitList(c.String("taupage-owners")), TaupageNamePrefix: c.String("taupage-name-prefix")},
	}
}

func jobsCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "jobs",
		Usage: "the scheduled scans of live AWS state: list them, run one now, show recent runs",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the jobs: name, default schedule, what they look for",
				Flags: jobFlags(),
				Action: func(c *cli.Context) error {
					tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "NAME\tSCHEDULE\tREGIONAL\tFINDS")
					for _, j := range jobList(c, nil, nil) {
						fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", j.Name(), jobs.DefaultSchedules[j.Name()], j.Regional(), j.Description())
					}
					return tw.Flush()
				},
			},
			{
				Name:      "run",
				Usage:     "run one job now, in the foreground, with a line per account; exit 1 when an account failed",
				ArgsUsage: "NAME",
				Flags:     jobFlags(),
				Action:    func(c *cli.Context) error { return runJob(c, a) },
			},
			{
				Name:      "runs",
				Usage:     "show the recent runs of the jobs (of NAME only, if given), newest first",
				ArgsUsage: "[NAME]",
				Flags:     append(databaseFlags(), &cli.IntFlag{Name: "limit", Value: 20, EnvVars: []string{"FULLSTOP_JOB_RUNS_LIMIT"}, Usage: "runs shown at most"}),
				Action: func(c *cli.Context) error {
					st, _, err := openStoreFromFlags(c, a.log)
					if err != nil {
						return err
					}
					defer st.Close()
					runs, err := st.JobRuns(c.Context, c.Args().First(), max(c.Int("limit"), 1))
					if err != nil {
						return err
					}
					tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tJOB\tSTARTED\tDURATION\tACCOUNTS\tNEW\tSEEN AGAIN\tFAILED\tBY")
					for _, r := range runs {
						dur := "running"
						if r.Finished != nil {
							dur = r.Finished.Sub(r.Started).Round(time.Millisecond).String()
						}
						by := "schedule"
						if r.StartedBy != nil {
							by = *r.StartedBy
						}
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", r.ID, r.Job, r.Started.UTC().Format(time.RFC3339), dur,
							len(r.Accounts), r.New, r.SeenAgain, len(r.Errors), by)
					}
					return tw.Flush()
				},
			},
		},
	}
}

func runJob(c *cli.Context, a *app) error {
	name := c.Args().First()
	if c.NArg() != 1 {
		return usagef("jobs run: want one job name (see fullstop jobs list)")
	}
	var job jobs.Job
	for _, j := range jobList(c, nil, nil) {
		if j.Name() == name {
			job = j
		}
	}
	if job == nil {
		return usagef("jobs run: no job %q (see fullstop jobs list)", name)
	}
	st, _, err := openStoreFromFlags(c, a.log)
	if err != nil {
		return err
	}
	defer st.Close()
	out := c.App.Writer
	r, all, err := openJobs(c, a.log, st, c.Duration("credentials-timeout"))
	if err != nil {
		return err
	}
	for _, j := range all {
		if j.Name() == name {
			job = j
		}
	}
	r.Progress = func(p jobs.Progress) { printJobProgress(out, p) }
	res, err := r.Run(c.Context, job, nil, currentUser())
	if errors.Is(err, jobs.ErrRunning) {
		return err
	}
	if res.ID != 0 {
		fmt.Fprintf(out, "fullstop jobs run %s: run %d, %d accounts, %d violations new, %d seen again, %d failed, %s\n", res.Job, res.ID,
			len(res.Accounts), res.New, res.SeenAgain, len(res.Errors), res.Finished.Sub(res.Started).Round(time.Millisecond))
	}
	if err != nil {
		return err
	}
	if len(res.Errors) > 0 {
		return errJobTargets
	}
	return nil
}

// openJobs opens what the jobs need (the member accounts' AWS clients,
// the accounts to scan) and returns their runner over st and the jobs.
func openJobs(c *cli.Context, log *slog.Logger, st *store.Store, credentialsTimeout time.Duration) (*jobs.Runner, []jobs.Job, error) {
	var accounts jobs.Accounts
	if list := splitList(c.String("accounts")); len(list) > 0 {
		accounts = jobs.StaticAccounts(list)
	} else if u := c.String("team-service-url"); u != "" {
		tok, err := serviceToken(c)
		if err != nil {
			return nil, nil, err
		}
		ts, err := teamservice.New(teamservice.Config{BaseURL: u, Token: tok})
		if err != nil {
			return nil, nil, usagef("--team-service-url (FULLSTOP_TEAM_SERVICE_URL): %v", err)
		}
		accounts = ts
	} else {
		return nil, nil, usagef("jobs: no accounts to scan: give --accounts (FULLSTOP_ACCOUNTS) or --team-service-url (FULLSTOP_TEAM_SERVICE_URL)")
	}
	clients, err := openAWSClients(c.Context, lookupaws.Config{RoleName: c.String("role-name"), STSRegion: c.String("sts-region")}, credentialsTimeout)
	if err != nil {
		return nil, nil, err
	}
	var public *jobs.PublicApps
	if u := c.String("kio-url"); u != "" {
		tok, err := serviceToken(c)
		if err != nil {
			return nil, nil, err
		}
		k, err := kio.New(kio.Config{BaseURL: u, Token: tok})
		if err != nil {
			return nil, nil, usagef("--kio-url (FULLSTOP_KIO_URL): %v", err)
		}
		public = &jobs.PublicApps{Lifecycles: st, Kio: k}
	}
	r := &jobs.Runner{Sink: st, Accounts: accounts, Regions: splitList(c.String("job-regions")), Concurrency: c.Int("job-concurrency"), Log: log}
	return r, jobList(c, clients, public), nil
}

func printJobProgress(w io.Writer, p jobs.Progress) {
	status := fmt.Sprintf("%d found", p.Found)
	if p.Err != nil {
		status = "FAILED: " + p.Err.Error()
	}
	fmt.Fprintf(w, "  [%d/%d] %s %s\n", p.Done, p.All, p.Target, status)
}

// currentUser names who runs a job from the command line.
func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}
