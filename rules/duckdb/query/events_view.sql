-- The events rules read: the loaded raw_events of one Evaluate call,
-- without failed calls (an errorCode) unless the engine was configured to
-- include them.
CREATE OR REPLACE TEMP VIEW events AS
SELECT *
FROM raw_events
WHERE error_code IS NULL
   OR (SELECT include_failed_calls FROM settings)
