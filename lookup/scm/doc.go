// Package scm holds the SCM repository URL grammar fullstop applies to the
// url of an image's scm-source.json and to an application's Kio scm_url:
// the configured hosts with the owner regular expression each allows
// (FULLSTOP_SCM_HOSTS), the parse of a repository URL into host, owner and
// name, its normalised form https://{host}/{owner}/{name}, and the owner
// check.
//
// The behaviour follows /work/shared/spec/reference-behaviour.md §4.8 (SCM
// repository plugin: ILLEGAL_SCM_REPOSITORY, SCM_URL_NOT_MATCH_WITH_KIO)
// and the reference's Repositories/RepositoriesTest. Differences from the
// reference, on purpose: surrounding white space of a URL is ignored; host
// names are compared lower-case (the URL is lower-cased, so an upper-case
// configured host could never match); a URL is never accepted when no host
// is configured (the reference's empty alternation matched an empty host);
// host regular expressions use Go's RE2 syntax, which has no look-around.
package scm
