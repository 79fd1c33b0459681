-- name: cloudtrail-tampering
-- description: Calls that stop, delete or narrow CloudTrail logging
--   (StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors,
--   PutInsightSelectors, event data stores), failed attempts included (see
--   error_code), oldest first.
--
-- trail is the trail or event data store named; detail is the new event
-- selectors of PutEventSelectors, and the request of UpdateTrail,
-- PutInsightSelectors and UpdateEventDataStore.
SELECT event_time,
       account,
       aws_region,
       coalesce(user_identity_arn, session_issuer_arn, user_identity_principal_id) AS principal,
       event_name,
       coalesce(json_extract_string(request_parameters, '$.name'),
                json_extract_string(request_parameters, '$.trailName'),
                json_extract_string(request_parameters, '$.eventDataStore')) AS trail,
       CASE
           WHEN event_name = 'PutEventSelectors'
               THEN coalesce(json_extract(request_parameters, '$.eventSelectors'),
                             json_extract(request_parameters, '$.advancedEventSelectors'))::VARCHAR
           WHEN event_name IN ('UpdateTrail', 'PutInsightSelectors', 'UpdateEventDataStore')
               THEN request_parameters
       END AS detail,
       source_ip_address,
       error_code,
       event_id
FROM events
WHERE event_source = 'cloudtrail.amazonaws.com'
  AND event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors',
                     'DeleteEventDataStore', 'UpdateEventDataStore', 'StopEventDataStoreIngestion')
ORDER BY event_time, event_id
