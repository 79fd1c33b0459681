-- Creates a whitelisting rule; blank criteria are stored as NULL.
INSERT INTO fullstop_data.rule
    (account_id, region, violation_type_entity_id, image_name, image_owner, application_id,
     application_version, meta_info_json_path, reason, expiry_date,
     created, created_by, last_modified, last_modified_by, version)
VALUES (nullif($1, ''), nullif($2, ''), nullif($3, ''), nullif($4, ''), nullif($5, ''), nullif($6, ''),
        nullif($7, ''), nullif($8, ''), $9, $10, now(), $11, now(), $11, 0)
RETURNING id
