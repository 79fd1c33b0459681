-- Whitelisting rules, expired ones included, in id order; $1 NULL for all
-- or one id. An expiry of infinity (written around the API) reads as the
-- last representable second.
SELECT id, coalesce(account_id, ''), coalesce(region, ''), coalesce(violation_type_entity_id, ''),
       coalesce(image_name, ''), coalesce(image_owner, ''), coalesce(application_id, ''),
       coalesce(application_version, ''), coalesce(meta_info_json_path, ''), reason,
       least(greatest(expiry_date, '0001-01-01 00:00:00Z'), '9999-12-31 23:59:59Z'), created, created_by, coalesce(last_modified, created), coalesce(last_modified_by, ''), version
FROM fullstop_data.rule
WHERE $1::bigint IS NULL OR id = $1
ORDER BY id
