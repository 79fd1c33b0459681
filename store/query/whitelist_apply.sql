-- Whitelists the given violations with rule $1 if they are still open.
UPDATE fullstop_data.violation
SET rule_entity_id = $1, comment = $2, last_modified = now(), last_modified_by = $3, version = version + 1
WHERE id = ANY ($4) AND comment IS NULL AND rule_entity_id IS NULL
