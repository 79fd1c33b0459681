package pierone

import (
	"context"

	"github.com/fullstop-audit/fullstop/lookup/httpjson"
)

// tagInfo is an element of a Pier One tag list: {name, created,
// created_by}; only the name is used.
type tagInfo struct {
	Name string `json:"name"`
}

// TagExists reports whether tag is in the tag list of team/artifact in
// the registry registry names: GET {base}/teams/{team}/artifacts/{artifact}/tags.
// A 404 is false. So, without a request, are an unknown registry and a
// team, artifact or tag that is empty, "." or "..". Tag names are
// compared exactly.
func (c *Clients) TagExists(ctx context.Context, registry, team, artifact, tag string) (bool, error) {
	base := c.base(registry)
	if base == nil || !httpjson.ValidSegments(team, artifact, tag) {
		return false, nil
	}
	var list []tagInfo
	found, err := c.http.Get(ctx, httpjson.JoinPath(base, "teams", team, "artifacts", artifact, "tags"), &list)
	if err != nil || !found {
		return false, err
	}
	for _, t := range list {
		if t.Name == tag {
			return true, nil
		}
	}
	return false, nil
}
