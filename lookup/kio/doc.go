// Package kio is a client of Kio, the application registry: it asks
// GET {FULLSTOP_KIO_URL}/apps/{application_id} for the application an EC2
// instance's Taupage user data names.
//
// It implements the "Kio application" lookup of
// /work/shared/spec/reference-behaviour.md §3.4, which the application
// registry plugin (§4.6, APPLICATION_NOT_PRESENT_IN_KIO) and the SCM
// repository plugin (§4.8, SCM_URL_IS_MISSING_IN_KIO,
// SCM_URL_NOT_MATCH_WITH_KIO) rely on; the base URL is FULLSTOP_KIO_URL
// (§8). A 404 means "not registered" and is an answer, not an error; any
// other failure (another non-2xx status, a transport error, a timeout, a
// body that is not the expected JSON or is larger than MaxBodyBytes) is an
// error naming the request and status, never the service token. Caching
// is left to the caller.
package kio
