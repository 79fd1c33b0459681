package kio

import (
	"context"

	"github.com/fullstop-audit/fullstop/lookup/httpjson"
)

// Application is a Kio application, with the fields fullstop uses; the
// JSON names are Kio's.
type Application struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	TeamID             string `json:"team_id"`
	ScmURL             string `json:"scm_url"`
	ServiceURL         string `json:"service_url"`
	SpecificationURL   string `json:"specification_url"`
	PubliclyAccessible bool   `json:"publicly_accessible"`
	Active             bool   `json:"active"`
}

// Application asks GET {BaseURL}/apps/{id}, id path-escaped. found is
// false when Kio answers 404, and, without a request, when id is empty,
// "." or ".." (no application can have such an id). A JSON null field
// leaves its zero value; unknown fields are ignored.
func (c *Client) Application(ctx context.Context, id string) (app Application, found bool, err error) {
	if !httpjson.ValidSegments(id) {
		return Application{}, false, nil
	}
	found, err = c.http.Get(ctx, httpjson.JoinPath(c.base, "apps", id), &app)
	if err != nil || !found {
		return Application{}, false, err
	}
	return app, true, nil
}
