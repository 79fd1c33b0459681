// Package api is fullstop's REST API: the reference's violation,
// violation-type, count and whitelisting-rule endpoints with its paths,
// parameters and JSON shapes, authentication on every /api route, RFC 9457
// problem details for every error, /health, /metrics and an OpenAPI 3
// document built from the same route table that serves the requests.
//
// The handlers read and write through Store, which store.Store implements;
// the caller is identified by a Verifier and its rights checked by Rights
// (package api/auth has both).
package api
