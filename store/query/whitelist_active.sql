-- The whitelisting rules in force, in id order (the first that matches
-- wins); NULL criteria read as ''.
SELECT id, coalesce(account_id, ''), coalesce(region, ''), coalesce(violation_type_entity_id, ''),
       coalesce(image_name, ''), coalesce(image_owner, ''), coalesce(application_id, ''),
       coalesce(application_version, ''), coalesce(meta_info_json_path, ''), reason
FROM fullstop_data.rule
WHERE expiry_date > now()
ORDER BY id
