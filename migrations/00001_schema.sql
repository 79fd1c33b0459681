-- The reference schema (Flyway V1..V19) as one migration, with our
-- decisions applied; see the package documentation.

-- +goose Up
CREATE SCHEMA IF NOT EXISTS fullstop_data;

CREATE TABLE fullstop_data.violation_type (
    id                 text PRIMARY KEY CONSTRAINT violation_type_id_not_empty CHECK (id <> ''),
    help_text          text,
    violation_severity integer,
    is_audit_relevant  boolean     NOT NULL DEFAULT false,
    title              varchar(32),
    priority           integer              DEFAULT 4,
    created            timestamptz NOT NULL DEFAULT now(),
    created_by         text,
    last_modified      timestamptz          DEFAULT now(),
    last_modified_by   text,
    version            bigint      NOT NULL DEFAULT 0
);

-- Whitelisting rules: every non-blank criterion must hold.
CREATE TABLE fullstop_data.rule (
    id                       bigserial PRIMARY KEY,
    account_id               text,
    region                   text,
    application_id           text,
    application_version      text,
    image_name               text,
    image_owner              text,
    meta_info_json_path      text,
    violation_type_entity_id text REFERENCES fullstop_data.violation_type (id),
    reason                   text        NOT NULL,
    expiry_date              timestamptz NOT NULL,
    created                  timestamptz NOT NULL DEFAULT now(),
    created_by               text        NOT NULL,
    last_modified            timestamptz          DEFAULT now(),
    last_modified_by         text,
    version                  bigint      NOT NULL DEFAULT 0
);

CREATE TABLE fullstop_data.application (
    id               bigserial PRIMARY KEY,
    name             text        NOT NULL CONSTRAINT unique_app_name UNIQUE,
    created          timestamptz NOT NULL DEFAULT now(),
    created_by       text,
    last_modified    timestamptz          DEFAULT now(),
    last_modified_by text,
    version          bigint      NOT NULL DEFAULT 0
);

-- A version belongs to one application (NULL: seen without an application);
-- its name is unique within that application.
CREATE TABLE fullstop_data.app_version (
    id               bigserial PRIMARY KEY,
    application_id   bigint REFERENCES fullstop_data.application (id),
    name             text        NOT NULL,
    created          timestamptz NOT NULL DEFAULT now(),
    created_by       text,
    last_modified    timestamptz          DEFAULT now(),
    last_modified_by text,
    version          bigint      NOT NULL DEFAULT 0,
    CONSTRAINT unique_version_name UNIQUE NULLS NOT DISTINCT (application_id, name)
);

CREATE INDEX app_version_name_idx ON fullstop_data.app_version (name);

CREATE TABLE fullstop_data.application_version_entities (
    application_entities_id bigint NOT NULL REFERENCES fullstop_data.application (id),
    version_entities_id     bigint NOT NULL REFERENCES fullstop_data.app_version (id),
    PRIMARY KEY (application_entities_id, version_entities_id)
);

CREATE TABLE fullstop_data.violation (
    id                                bigserial PRIMARY KEY,
    event_id                          text,
    account_id                        text,
    region                            text,
    instance_id                       text,
    meta_info                         text,
    comment                           text,
    plugin_fully_qualified_class_name text,
    violation_type_entity_id          text        NOT NULL REFERENCES fullstop_data.violation_type (id),
    username                          text,
    rule_entity_id                    bigint REFERENCES fullstop_data.rule (id),
    application_id                    bigint,
    application_version_id            bigint,
    event_time                        timestamptz,
    last_seen                         timestamptz NOT NULL DEFAULT now(),
    seen_count                        integer     NOT NULL DEFAULT 1,
    created                           timestamptz NOT NULL DEFAULT now(),
    created_by                        text,
    last_modified                     timestamptz          DEFAULT now(),
    last_modified_by                  text,
    version                           bigint      NOT NULL DEFAULT 0
);

-- The identity of a violation; a NULL instance_id equals another NULL.
CREATE UNIQUE INDEX unique_violation ON fullstop_data.violation
    (account_id, region, event_id, violation_type_entity_id, instance_id) NULLS NOT DISTINCT;
CREATE INDEX violation_created_idx ON fullstop_data.violation (created);
CREATE INDEX violation_instance_id_idx ON fullstop_data.violation (instance_id);
CREATE INDEX resolved_violation_idx ON fullstop_data.violation (account_id)
    WHERE rule_entity_id IS NULL AND comment IS NOT NULL;

CREATE TABLE fullstop_data.lifecycle (
    id                  bigserial PRIMARY KEY,
    event_id            text,
    event_date          timestamptz,
    account_id          text,
    image_id            text,
    image_name          text,
    region              text,
    application         bigint REFERENCES fullstop_data.application (id),
    application_version bigint REFERENCES fullstop_data.app_version (id),
    userdata_path       text,
    instance_boot_time  timestamptz,
    event_type          text,
    instance_id         text,
    created             timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    last_modified       timestamptz          DEFAULT now(),
    last_modified_by    text,
    version             bigint      NOT NULL DEFAULT 0
);

-- One lifecycle row per EC2 event and instance; instance-log rows have no
-- event id and are not constrained.
CREATE UNIQUE INDEX unique_lifecycle_event ON fullstop_data.lifecycle (event_id, instance_id, event_type)
    WHERE event_id IS NOT NULL;

-- +goose Down
DROP SCHEMA fullstop_data CASCADE;
