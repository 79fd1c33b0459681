package jobs

// DefaultSchedules are the jobs' default cron schedules (five fields, or
// @every): the reference's documented intent, the IAM jobs daily (its code
// ran them hourly).
var DefaultSchedules = map[string]string{
	"keyRotationJob":               "0 22 * * *",
	"crossAccountPolicyForIAMJob":  "15 22 * * *",
	"noPasswordsJob":               "0 23 * * *",
	"fetchRdsJob":                  "*/5 * * * *",
	"fetchEC2Job":                  "*/5 * * * *",
	"fetchAmiJob":                  "0 */4 * * *",
	"fetchElasticLoadBalancersJob": "*/5 * * * *",
}
