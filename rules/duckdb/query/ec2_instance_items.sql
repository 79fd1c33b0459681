-- The view ec2_instance_items: one row per instance of the EC2 instance
-- events (RunInstances, StartInstances, StopInstances, TerminateInstances),
-- from responseElements.instancesSet.items, with the event's account (the
-- caller's, else the session issuer's), region and actor. item_image_id is
-- the item's imageId (StartInstances and the others do not name it).
-- The engine creates it as a view over events on each connection.
SELECT e.event_id,
       e.event_name,
       coalesce(nullif(e.user_identity_account_id, ''), e.session_issuer_account_id) AS account_id,
       e.aws_region AS region,
       e.user_identity_arn AS username,
       e.event_time,
       e.object_key,
       json_extract_string(i.item, '$.instanceId') AS instance_id,
       nullif(trim(json_extract_string(i.item, '$.imageId')), '') AS item_image_id,
       json_extract_string(i.item, '$.keyName') AS key_name,
       i.item
FROM events AS e
CROSS JOIN unnest(json_extract(e.response_elements, '$.instancesSet.items[*]')) AS i(item)
WHERE e.event_source = 'ec2.amazonaws.com'
  AND e.event_name IN ('RunInstances', 'StartInstances', 'StopInstances', 'TerminateInstances')
