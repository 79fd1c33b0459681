-- A violation type's title as long as a rule's: the reference's 32
-- characters fit its own titles, not those of Sigma rules ("IAM role
-- created that another account can assume"). Types of the rules in force
-- are defined when a batch starts (store.DefineViolationTypes).

-- +goose Up
ALTER TABLE fullstop_data.violation_type ALTER COLUMN title TYPE text;

-- +goose Down
UPDATE fullstop_data.violation_type SET title = left(title, 32) WHERE length(title) > 32;
ALTER TABLE fullstop_data.violation_type ALTER COLUMN title TYPE varchar(32);
