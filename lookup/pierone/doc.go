// Package pierone is a client of one or more Pier One docker registries
// (FULLSTOP_PIERONE_URLS, a comma list of base URLs): whether an image tag
// exists, GET {base}/teams/{team}/artifacts/{artifact}/tags, and the
// image's scm-source.json, GET {base}/teams/{team}/artifacts/{artifact}/tags/{tag}/scm-source.
//
// It implements the "Pier One tag" and "scm-source.json" lookups of
// /work/shared/spec/reference-behaviour.md §3.4, which the docker registry
// plugin (§4.7: IMAGE_IN_PIERONE_NOT_FOUND, SCM_SOURCE_JSON_MISSING,
// ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY, ...) and the SCM repository plugin
// (§4.8) rely on; configuration in §8.
//
// A registry string (the part of a Taupage source before
// /team/artifact:tag) is matched to the configured base URL of the same
// host. The reference compares the base URL's host without its port
// (java.net.URL.getHost()) with the whole registry string, so
// "pierone.example.org:443" never matched; here both sides are reduced to
// their host name (no port, IPv6 brackets removed) and compared
// case-insensitively, so "pierone.example.org:443", "PierOne.example.org"
// and "pierone.example.org" all name https://pierone.example.org:8443. The
// request goes to the configured base URL (its scheme and port), never to
// the registry string's port. Hence two base URLs of the same host name
// are a configuration error. A registry string that names no configured
// registry is "not found", as in the reference.
//
// A 404 is "not found", not an error; any other failure (another non-2xx
// status, a transport error, a timeout, a body that is not the expected
// JSON or is larger than MaxBodyBytes) is an error naming the request and
// status, never the service token. Caching is left to the caller.
package pierone
