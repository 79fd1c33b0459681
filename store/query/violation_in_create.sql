-- The violations of one group, merged by identity; filled with COPY and
-- dropped after the upsert (ON COMMIT DROP should that fail).
-- rule_entity_id and comment are set when a whitelisting rule matched;
-- they are written only when the violation is new.
CREATE TEMPORARY TABLE violation_in (
    violation_type_entity_id          text,
    event_id                          text,
    account_id                        text,
    region                            text,
    instance_id                       text,
    username                          text,
    meta_info                         text,
    plugin_fully_qualified_class_name text,
    event_time                        timestamptz,
    seen                              integer,
    application                       text,
    app_version                       text,
    rule_entity_id                    bigint,
    comment                           text
) ON COMMIT DROP
