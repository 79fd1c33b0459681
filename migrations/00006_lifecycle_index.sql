-- The lifecycle rows of an application, for GET
-- /api/lifecycles/applications/{name}/versions[/{version}]: the API finds
-- the application by its unique name, then its rows through this index.

-- +goose Up
CREATE INDEX lifecycle_application_idx ON fullstop_data.lifecycle (application, application_version);

-- +goose Down
DROP INDEX fullstop_data.lifecycle_application_idx;
