-- Sets the expiry of a rule that is still in force to $2, which must be in
-- the future unless $4 (the rule is being replaced: it expires now).
-- Returns the id when the rule was changed.
UPDATE fullstop_data.rule
SET expiry_date = $2, last_modified = now(), last_modified_by = $3, version = version + 1
WHERE id = $1 AND ($4 OR (expiry_date > now() AND $2 > now()))
RETURNING id
