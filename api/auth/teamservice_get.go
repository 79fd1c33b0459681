package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// idObject is an element of the team service's answers: an account or a
// team, of which only the id is used.
type idObject struct {
	ID string `json:"id"`
}

// getIDs asks the team service for path with query and returns the ids
// of the objects of the JSON array it answers; a 404 is an empty list.
// Its errors wrap ErrUnavailable and name the service and the status.
func (t *TeamService) getIDs(ctx context.Context, path string, query url.Values) ([]string, error) {
	u := t.base.JoinPath(path)
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: team service request %s: %w", ErrUnavailable, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if t.token != nil {
		tok, err := t.token.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: team service: no service token: %w", ErrUnavailable, err)
		}
		if tok.AccessToken == "" {
			return nil, fmt.Errorf("%w: team service: the service token is empty", ErrUnavailable)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: team service did not answer %s: %w", ErrUnavailable, path, err)
	}
	defer drainAndClose(resp)

	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, nil
	default:
		return nil, fmt.Errorf("%w: team service answered HTTP %d to %s", ErrUnavailable, resp.StatusCode, path)
	}
	var objects []idObject
	if err := decodeJSON(resp, &objects); err != nil {
		return nil, fmt.Errorf("%w: team service answered HTTP 200 to %s with %w", ErrUnavailable, path, err)
	}
	ids := make([]string, 0, len(objects))
	for _, o := range objects {
		ids = append(ids, o.ID)
	}
	return ids, nil
}
