-- The security-group snapshots of launches (reference §4.13): one per
-- instance of each RunInstances event whose security groups EC2 described
-- (the enrichment table security_groups, found), with the instance's
-- launch time (else the event's), which dates the folder it goes to.
SELECT DISTINCT
       e.event_id,
       e.event_time::TIMESTAMP AS event_time,
       g.account_id,
       g.region,
       json_extract_string(t.item, '$.instanceId') AS instance_id,
       coalesce(launch_time(t.item), e.event_time::TIMESTAMP) AS launch_time,
       g.answer::VARCHAR AS security_groups,
       e.object_key
FROM events AS e
CROSS JOIN unnest(json_extract(e.response_elements, '$.instancesSet.items[*]')) AS t(item)
JOIN security_groups AS g
  ON g.account_id = coalesce(nullif(e.user_identity_account_id, ''), nullif(e.recipient_account_id, ''))
 AND g.region = e.aws_region
 AND g.group_ids = security_group_ids(e.response_elements)
 AND g.found
WHERE e.event_source = 'ec2.amazonaws.com'
  AND e.event_name = 'RunInstances'
  AND e.event_id IS NOT NULL
  AND json_extract_string(t.item, '$.instanceId') IS NOT NULL
