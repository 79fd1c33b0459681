-- The violations of one group, merged by identity; filled with COPY and
-- dropped at the end of the transaction.
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
    seen                              integer
) ON COMMIT DROP
