package pierone

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/fullstop-audit/fullstop/lookup/httpjson"
)

// SCMSource returns the scm-source.json of team/artifact:tag in the
// registry registry names: GET {base}/teams/{team}/artifacts/{artifact}/tags/{tag}/scm-source,
// a flat JSON object such as {"url": ..., "revision": ..., "author": ...,
// "status": ...}. A value that is not a string is kept as its compact JSON
// text (7 → "7", true → "true", {"a": 1} → `{"a":1}`), except null, which
// is "" as a Java client reading a map of strings sees it (absent, hence
// blank). found is false on a 404 and, without a request, for an unknown
// registry or a team, artifact or tag that is empty, "." or "..". A body
// that is not a JSON object is an error.
func (c *Clients) SCMSource(ctx context.Context, registry, team, artifact, tag string) (src map[string]string, found bool, err error) {
	base := c.base(registry)
	if base == nil || !httpjson.ValidSegments(team, artifact, tag) {
		return nil, false, nil
	}
	u := httpjson.JoinPath(base, "teams", team, "artifacts", artifact, "tags", tag, "scm-source")
	var raw map[string]json.RawMessage
	found, err = c.http.Get(ctx, u, &raw)
	if err != nil || !found {
		return nil, false, err
	}
	if raw == nil {
		return nil, false, fmt.Errorf("pierone: GET %s: the scm-source is JSON null, not an object", u.Redacted())
	}
	src, err = flatten(raw)
	if err != nil {
		return nil, false, fmt.Errorf("pierone: GET %s: %w", u.Redacted(), err)
	}
	return src, true, nil
}

// flatten turns the values of a JSON object into strings: a string is
// unquoted, null is "", anything else is its compact JSON text.
func flatten(raw map[string]json.RawMessage) (map[string]string, error) {
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch {
		case bytes.Equal(v, []byte("null")):
			out[k] = ""
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("scm-source value %q: %w", k, err)
			}
			out[k] = s
		default:
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return nil, fmt.Errorf("scm-source value %q: %w", k, err)
			}
			out[k] = buf.String()
		}
	}
	return out, nil
}
