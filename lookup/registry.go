package lookup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/fullstop-audit/fullstop/lookup/kio"
	"github.com/fullstop-audit/fullstop/lookup/pierone"
	"github.com/fullstop-audit/fullstop/lookup/scm"
	"github.com/fullstop-audit/fullstop/lookup/taupage"
)

// The Kio and Pier One lookup kinds.
const (
	KindKioApplication = "kio.application"
	KindPierOneTag     = "pierone.tag"
	KindSCMSource      = "pierone.scm_source"
)

// The reference's lifetimes of these answers (§3.4).
const (
	DefaultKioTTL     = time.Hour
	DefaultPierOneTTL = 5 * time.Minute
)

// repository is the parsed SCM URL fields an answer carries: the
// normalised repository, or why the URL is not one.
type repository struct {
	Repository      string `json:"repository,omitempty"`
	RepositoryOwner string `json:"repository_owner,omitempty"`
	RepositoryError string `json:"repository_error,omitempty"`
}

func parseRepository(hosts scm.Hosts, url string) (repository, scm.Repository, bool) {
	if strings.TrimSpace(url) == "" {
		return repository{}, scm.Repository{}, false
	}
	r, err := hosts.Parse(url)
	if err != nil {
		var se *scm.Error
		if !errors.As(err, &se) {
			se = &scm.Error{URL: url}
		}
		return repository{RepositoryError: se.Error()}, scm.Repository{}, false
	}
	return repository{Repository: r.String(), RepositoryOwner: r.Owner}, r, true
}

// KioKinds is the Kio application lookup, keyed by application id; the
// answer carries the application's scm_url parsed with hosts.
func KioKinds(c *kio.Client, hosts scm.Hosts, ttl time.Duration) []Kind {
	if ttl <= 0 {
		ttl = DefaultKioTTL
	}
	return []Kind{{Name: KindKioApplication, Keys: 1, TTL: ttl, Func: func(ctx context.Context, key []string) (json.RawMessage, error) {
		app, found, err := c.Application(ctx, key[0])
		if err != nil || !found {
			return nil, err
		}
		repo, _, _ := parseRepository(hosts, app.ScmURL)
		return answer(struct {
			ID                 string `json:"id"`
			ScmURL             string `json:"scm_url"`
			PubliclyAccessible bool   `json:"publicly_accessible"`
			repository
		}{app.ID, app.ScmURL, app.PubliclyAccessible, repo}, true, nil)
	}}}
}

// PierOneKinds are the Pier One lookups, keyed by a Taupage source
// (registry/team/artifact:tag): whether the tag exists, and its
// scm-source.json with its url parsed with hosts. A source that is not of
// that form, or names a registry that is not configured, is "not found".
func PierOneKinds(c *pierone.Clients, hosts scm.Hosts, ttl time.Duration) []Kind {
	if ttl <= 0 {
		ttl = DefaultPierOneTTL
	}
	return []Kind{
		{Name: KindPierOneTag, Keys: 1, TTL: ttl, Func: func(ctx context.Context, key []string) (json.RawMessage, error) {
			img, ok := taupage.ParseSource(key[0])
			if !ok || !c.Registry(img.Registry) {
				return nil, nil
			}
			found, err := c.TagExists(ctx, img.Registry, img.Team, img.Artifact, img.Tag)
			return answer(struct {
				Registry string `json:"registry"`
				Team     string `json:"team"`
				Artifact string `json:"artifact"`
				Tag      string `json:"tag"`
			}{img.Registry, img.Team, img.Artifact, img.Tag}, found, err)
		}},
		{Name: KindSCMSource, Keys: 1, TTL: ttl, Func: func(ctx context.Context, key []string) (json.RawMessage, error) {
			img, ok := taupage.ParseSource(key[0])
			if !ok || !c.Registry(img.Registry) {
				return nil, nil
			}
			src, found, err := c.SCMSource(ctx, img.Registry, img.Team, img.Artifact, img.Tag)
			if err != nil || !found {
				return nil, err
			}
			return scmSourceAnswer(hosts, src)
		}},
	}
}

// scmSourceAnswer is the answer of pierone.scm_source for one
// scm-source.json.
func scmSourceAnswer(hosts scm.Hosts, src map[string]string) (json.RawMessage, error) {
	doc, err := yaml.Marshal(src) // keys sorted, as the violation's meta shows it
	if err != nil {
		return nil, fmt.Errorf("scm-source.json as YAML: %w", err)
	}
	prefixed := make(map[string]string, len(src))
	for k, v := range src {
		prefixed["scm_source_"+k] = v
	}
	a := struct {
		SCMSource map[string]string `json:"scm_source"`
		URL       string            `json:"url"`
		Status    string            `json:"status"`
		YAML      string            `json:"yaml"`
		Prefixed  map[string]string `json:"prefixed"`
		repository
		OwnerAllowed  *bool  `json:"owner_allowed,omitempty"`
		AllowedOwners string `json:"allowed_owners,omitempty"`
	}{SCMSource: src, URL: src["url"], Status: src["status"], YAML: string(doc), Prefixed: prefixed}
	repo, r, ok := parseRepository(hosts, src["url"])
	a.repository = repo
	if ok {
		allowed, pattern := hosts.OwnerAllowed(r)
		a.OwnerAllowed, a.AllowedOwners = &allowed, pattern
	}
	return answer(a, true, nil)
}
