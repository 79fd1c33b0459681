package api

import (
	"net/http"
)

// route is one operation of the API: how it is served and how the OpenAPI
// document describes it, from the same declaration.
type route struct {
	method    string
	path      string // a net/http pattern path: /api/violations/{id}
	id        string // OpenAPI operationId
	summary   string
	desc      string
	tag       string
	params    []param
	body      *body
	responses []response
	handle    func(s *server, w http.ResponseWriter, r *http.Request, c call) error
}

// body is a route's request body.
type body struct {
	desc     string
	schema   any      // a value of the Go type the body decodes into
	types    []string // content types; default application/json
	required bool
}

// response is one documented answer of a route; a nil schema has no body.
type response struct {
	status int
	desc   string
	schema any
}

// Parameters shared by several routes.
var (
	pathID     = param{name: "id", in: "path", kind: kindInt, required: true, desc: "The id."}
	pageParams = []param{
		{name: "page", in: "query", kind: kindPage, def: "0", desc: "0-based page number."},
		{name: "size", in: "query", kind: kindPageSize, def: "10", desc: "Page size, 1 to 1000."},
		{name: "sort", in: "query", kind: kindSort, def: "id,asc",
			desc: "property[,asc|desc], repeatable; properties are the violation's camelCase fields (id, created, accountId, lastSeen …)."},
	}
	lifecyclePageParams = []param{
		{name: "page", in: "query", kind: kindPage, def: "0", desc: "0-based page number."},
		{name: "size", in: "query", kind: kindPageSize, def: "10", desc: "Page size, 1 to 1000."},
		{name: "sort", in: "query", kind: kindSort, def: "created,asc",
			desc: "property[,asc|desc], repeatable; properties: id, created, lastModified, eventDate, eventType, accountId, region, instanceId, instanceBootTime, imageId, imageName."},
	}
	stateParams = []param{
		{name: "state", in: "query", kind: kindString, enum: []string{"open", "resolved", "whitelisted", "any"},
			desc: "Violations in this state; wins over checked/resolved and whitelisted."},
		{name: "whitelisted", in: "query", kind: kindBool, def: "false", desc: "true: whitelisted violations only (wins over checked)."},
	}
	timeParams = []param{
		{name: "from", in: "query", kind: kindTime, desc: "Created at or after this time (ISO 8601)."},
		{name: "to", in: "query", kind: kindTime, desc: "Created before this time (ISO 8601)."},
	}
	accountsParam = param{name: "accounts", in: "query", kind: kindList, desc: "Account ids, comma-separated or repeated."}
)

// problemResponses are the error answers every authenticated route can give.
var problemResponses = []response{
	{status: http.StatusBadRequest, desc: "A parameter or the body is malformed.", schema: Problem{}},
	{status: http.StatusUnauthorized, desc: "No valid bearer token.", schema: Problem{}},
	{status: http.StatusForbidden, desc: "The token lacks the right.", schema: Problem{}},
	{status: http.StatusServiceUnavailable, desc: "The database or an identity service is unavailable.", schema: Problem{}},
}

func with(rs []response, more ...response) []response {
	return append(append([]response{}, rs...), more...)
}

func joinParams(groups ...[]param) []param {
	var out []param
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// apiRoutes is the route table of the API.
func apiRoutes() []route {
	notFound := response{status: http.StatusNotFound, desc: "No such resource.", schema: Problem{}}
	tooLarge := response{status: http.StatusRequestEntityTooLarge, desc: "The body is larger than 1 MiB.", schema: Problem{}}
	return []route{
		{
			method: http.MethodGet, path: "/api/violations", id: "listViolations", tag: "violations",
			summary: "List violations",
			desc:    "A page of violations. Without state, checked or whitelisted: the open ones.",
			params: joinParams([]param{accountsParam}, timeParams, []param{
				{name: "last-violation", in: "query", kind: kindInt, desc: "Violations with this id or a higher one."},
				{name: "checked", in: "query", kind: kindBool, def: "false", desc: "true: resolved violations only; false: open ones."},
			}, stateParams, []param{
				{name: "severity", in: "query", kind: kindInt, int32: true, desc: "The type's violation_severity."},
				{name: "priority", in: "query", kind: kindInt, int32: true, desc: "The type's priority."},
				{name: "audit-relevant", in: "query", kind: kindBool, desc: "The type's audit relevance."},
				{name: "type", in: "query", kind: kindString, desc: "A violation type id (added to types)."},
				{name: "types", in: "query", kind: kindList, desc: "Violation type ids, comma-separated or repeated."},
				{name: "application-ids", in: "query", kind: kindList, desc: "Application names."},
				{name: "application-version-ids", in: "query", kind: kindList, desc: "Version names."},
			}, pageParams),
			responses: with([]response{{status: http.StatusOK, desc: "A page of violations.", schema: Page[Violation]{}}}, problemResponses...),
			handle:    (*server).listViolations,
		},
		{
			method: http.MethodGet, path: "/api/violations/{id}", id: "getViolation", tag: "violations",
			summary: "One violation", params: []param{pathID},
			responses: with([]response{{status: http.StatusOK, desc: "The violation.", schema: Violation{}}}, append(problemResponses, notFound)...),
			handle:    (*server).getViolation,
		},
		{
			method: http.MethodPost, path: "/api/violations", id: "createViolation", tag: "violations",
			summary: "Submit a violation",
			desc: "Stored as the batch stores what it finds: merged with a violation of the same identity, its type " +
				"created if unknown, whitelisted when new. Needs scope " + ScopeViolationWrite + ".",
			body:      &body{desc: "The violation.", schema: NewViolation{}, required: true},
			responses: with([]response{{status: http.StatusAccepted, desc: "Stored."}}, append(problemResponses, tooLarge)...),
			handle:    (*server).createViolation,
		},
		{
			method: http.MethodPost, path: "/api/violations/{id}/resolution", id: "resolveViolation", tag: "violations",
			summary: "Resolve a violation with a comment",
			desc: "The body is the comment: text/plain as it is (trimmed), an application/json string unquoted; without a " +
				"Content-Type a JSON string literal is unquoted too (older clients). Needs the violation's account among the caller's accounts.",
			params: []param{pathID},
			body:   &body{desc: "The comment.", schema: "", types: []string{"text/plain", "application/json"}, required: true},
			responses: with([]response{{status: http.StatusOK, desc: "The resolved violation.", schema: Violation{}}},
				append(problemResponses, notFound, tooLarge)...),
			handle: (*server).resolveViolation,
		},
		{
			method: http.MethodDelete, path: "/api/violations/{id}/resolution", id: "reopenViolation", tag: "violations",
			summary: "Reopen a resolved or whitelisted violation",
			desc:    "Removes the comment and the whitelisting rule. Needs the same rights as resolving.",
			params:  []param{pathID},
			responses: with([]response{{status: http.StatusOK, desc: "The open violation.", schema: Violation{}}},
				append(problemResponses, notFound)...),
			handle: (*server).reopenViolation,
		},
		{
			method: http.MethodGet, path: "/api/violation-types", id: "listViolationTypes", tag: "violation types",
			summary:   "All violation types",
			responses: with([]response{{status: http.StatusOK, desc: "The types.", schema: []ViolationType{}}}, problemResponses...),
			handle:    (*server).listTypes,
		},
		{
			method: http.MethodGet, path: "/api/violation-count", id: "countViolations", tag: "counts",
			summary: "Violations counted by account and type",
			params: joinParams([]param{accountsParam}, timeParams, []param{
				{name: "resolved", in: "query", kind: kindBool, def: "false", desc: "true: resolved violations; false: open ones."},
			}, stateParams),
			responses: with([]response{{status: http.StatusOK, desc: "Counts ordered by account and type.", schema: []AccountCount{}}}, problemResponses...),
			handle:    (*server).countByAccount,
		},
		{
			method: http.MethodGet, path: "/api/violation-count/{account}", id: "countAccountViolations", tag: "counts",
			summary: "Violations of one account counted by application, version and type",
			params: joinParams([]param{{name: "account", in: "path", kind: kindString, required: true, desc: "The account id."}}, timeParams, []param{
				{name: "resolved", in: "query", kind: kindBool, def: "false", desc: "true: resolved violations; false: open ones."},
			}, stateParams),
			responses: with([]response{{status: http.StatusOK, desc: "Counts.", schema: []ApplicationCount{}}}, problemResponses...),
			handle:    (*server).countByApplication,
		},
		{
			method: http.MethodGet, path: "/api/lifecycles/applications/{name}/versions", id: "listApplicationLifecycles", tag: "lifecycles",
			summary: "Lifecycle rows of an application",
			desc:    "The EC2 events (Run, Start, Stop and TerminateInstances) of the application's instances and the boots they reported, a page at a time; sorted by created by default.",
			params: joinParams([]param{{name: "name", in: "path", kind: kindString, required: true, desc: "The application's name (application_id of the user data)."}},
				lifecyclePageParams),
			responses: with([]response{{status: http.StatusOK, desc: "A page of lifecycle rows.", schema: Page[Lifecycle]{}}}, problemResponses...),
			handle:    (*server).listLifecycles,
		},
		{
			method: http.MethodGet, path: "/api/lifecycles/applications/{name}/versions/{version}", id: "listVersionLifecycles", tag: "lifecycles",
			summary: "Lifecycle rows of an application's version",
			params: joinParams([]param{
				{name: "name", in: "path", kind: kindString, required: true, desc: "The application's name."},
				{name: "version", in: "path", kind: kindString, required: true, desc: "The version's name (application_version of the user data)."},
			}, lifecyclePageParams),
			responses: with([]response{{status: http.StatusOK, desc: "A page of lifecycle rows.", schema: Page[Lifecycle]{}}}, problemResponses...),
			handle:    (*server).listLifecycles,
		},
		{
			method: http.MethodPost, path: "/api/instance-logs", id: "createInstanceLog", tag: "lifecycles",
			summary: "Upload an instance's user data or audit log",
			desc: "Taupage instances call it at boot. The decoded log_data is stored in the instance-data bucket under " +
				"{account}/{region}/{yyyy}/{mm}/{dd}/{instance}-{boot time}/ as taupage.yaml (USER_DATA) or " +
				"audit-log-{now}.log.gz (AUDIT_LOG); user data naming application_id and application_version adds the " +
				"boot's lifecycle row, once.",
			body: &body{desc: "The log.", schema: InstanceLog{}, required: true},
			responses: with([]response{{status: http.StatusCreated, desc: "Stored."}},
				append(problemResponses, tooLarge)...),
			handle: (*server).createInstanceLog,
		},
		{
			method: http.MethodGet, path: "/api/jobs", id: "listJobs", tag: "jobs",
			summary:   "The names of the scheduled AWS scans, sorted",
			responses: with([]response{{status: http.StatusOK, desc: "The job names.", schema: []string{}}}, problemResponses...),
			handle:    (*server).listJobs,
		},
		{
			method: http.MethodPost, path: "/api/jobs/{name}/run", id: "runJob", tag: "jobs",
			summary: "Run a job now",
			desc:    "Starts a run in the background. Needs scope " + ScopeJobWrite + ".",
			params:  []param{{name: "name", in: "path", kind: kindString, required: true, desc: "The job's name, e.g. keyRotationJob."}},
			responses: with([]response{{status: http.StatusAccepted, desc: "Started."}},
				append(problemResponses, notFound, response{status: http.StatusConflict, desc: "The job is running already.", schema: Problem{}})...),
			handle: (*server).runJob,
		},
		{
			method: http.MethodGet, path: "/api/jobs/{name}/runs", id: "listJobRuns", tag: "jobs",
			summary: "The recent runs of a job, newest first",
			params: []param{{name: "name", in: "path", kind: kindString, required: true, desc: "The job's name."},
				{name: "size", in: "query", kind: kindPageSize, def: "20", desc: "Runs at most, 1 to 1000."}},
			responses: with([]response{{status: http.StatusOK, desc: "The runs.", schema: []JobRun{}}}, append(problemResponses, notFound)...),
			handle:    (*server).listJobRuns,
		},
		{
			method: http.MethodGet, path: "/api/whitelisting-rules", id: "listWhitelistingRules", tag: "whitelisting rules",
			summary:   "All whitelisting rules, expired ones included",
			responses: with([]response{{status: http.StatusOK, desc: "The rules in id order.", schema: []Rule{}}}, problemResponses...),
			handle:    (*server).listRules,
		},
		{
			method: http.MethodPost, path: "/api/whitelisting-rules", id: "createWhitelistingRule", tag: "whitelisting rules",
			summary: "Create a whitelisting rule",
			desc:    "It whitelists the violations stored from now on that it matches; apply it for the open ones stored before.",
			body:    &body{desc: "The rule.", schema: RuleInput{}, required: true},
			responses: with([]response{{status: http.StatusCreated, desc: "The rule.", schema: Rule{}}},
				append(problemResponses, tooLarge)...),
			handle: (*server).createRule,
		},
		{
			method: http.MethodGet, path: "/api/whitelisting-rules/{id}", id: "getWhitelistingRule", tag: "whitelisting rules",
			summary: "One whitelisting rule", params: []param{pathID},
			responses: with([]response{{status: http.StatusOK, desc: "The rule.", schema: Rule{}}}, append(problemResponses, notFound)...),
			handle:    (*server).getRule,
		},
		{
			method: http.MethodPut, path: "/api/whitelisting-rules/{id}", id: "replaceWhitelistingRule", tag: "whitelisting rules",
			summary: "Replace a whitelisting rule",
			desc:    "Rules are immutable: the rule expires now and a new rule (a new id) is created from the body.",
			params:  []param{pathID},
			body:    &body{desc: "The new rule.", schema: RuleInput{}, required: true},
			responses: with([]response{{status: http.StatusOK, desc: "The new rule.", schema: Rule{}}},
				append(problemResponses, notFound, tooLarge)...),
			handle: (*server).replaceRule,
		},
		{
			method: http.MethodDelete, path: "/api/whitelisting-rules/{id}", id: "expireWhitelistingRule", tag: "whitelisting rules",
			summary: "Expire a whitelisting rule",
			desc:    "Sets its expiry (default: in one minute). 404 when the rule is unknown or expired, or the new expiry is not in the future.",
			params: []param{pathID,
				{name: "expiryDate", in: "query", kind: kindTime, desc: "The new expiry (ISO 8601); default now + 1 minute."}},
			responses: with([]response{{status: http.StatusNoContent, desc: "Expired."}}, append(problemResponses, notFound)...),
			handle:    (*server).expireRule,
		},
		{
			method: http.MethodPost, path: "/api/whitelisting-rules/{id}/apply", id: "applyWhitelistingRule", tag: "whitelisting rules",
			summary: "Whitelist the open violations a rule matches",
			params: []param{pathID,
				{name: "dry_run", in: "query", kind: kindBool, def: "false", desc: "true: only count them."}},
			responses: with([]response{{status: http.StatusOK, desc: "How many were whitelisted.", schema: ApplyResult{}}},
				append(problemResponses, notFound, response{status: http.StatusConflict, desc: "The rule has expired.", schema: Problem{}})...),
			handle: (*server).applyRule,
		},
	}
}
