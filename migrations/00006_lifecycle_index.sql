-- The lifecycle rows of an application, for GET
-- /api/lifecycles/applications/{name}/versions[/{version}]: the API finds
-- the application by its unique name, then its rows through this index.
-- And one row per instance boot of POST /api/instance-logs (rows without
-- an event), so that an instance that uploads its user data again adds
-- nothing.

-- +goose Up
CREATE INDEX lifecycle_application_idx ON fullstop_data.lifecycle (application, application_version);

CREATE UNIQUE INDEX unique_lifecycle_boot ON fullstop_data.lifecycle (account_id, region, instance_id, instance_boot_time)
    WHERE event_id IS NULL;

-- +goose Down
DROP INDEX fullstop_data.unique_lifecycle_boot;
DROP INDEX fullstop_data.lifecycle_application_idx;
