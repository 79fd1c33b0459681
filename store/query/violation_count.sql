-- The number of stored violations.
SELECT count(*) FROM fullstop_data.violation
