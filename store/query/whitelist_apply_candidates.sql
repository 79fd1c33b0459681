-- The open violations a rule may match: those of its account, region and
-- type when it names them ('' for any), with their application and version
-- names, in id order.
SELECT v.id, v.account_id, v.region, v.violation_type_entity_id, coalesce(v.meta_info, ''),
       coalesce(a.name, ''), coalesce(av.name, '')
FROM fullstop_data.violation v
LEFT JOIN fullstop_data.application a ON a.id = v.application_id
LEFT JOIN fullstop_data.app_version av ON av.id = v.application_version_id
WHERE v.comment IS NULL AND v.rule_entity_id IS NULL
  AND ($1 = '' OR v.account_id = $1)
  AND ($2 = '' OR v.region = $2)
  AND ($3 = '' OR v.violation_type_entity_id = $3)
ORDER BY v.id
