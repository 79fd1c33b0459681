-- type: IMAGE_IN_PIERONE_NOT_FOUND
-- title: Unknown deployment artifact
-- severity: 2
-- priority: 1
-- sources: ec2.amazonaws.com
-- events: RunInstances, StartInstances
-- lookups: instances?, images, user_data, pierone_tags
-- help: An EC2 instance was launched or started with a Docker image (the user
--   data's source) that is not a tag in any configured Pier One registry:
--   what runs cannot be traced to a reviewed build. Deploy an image from
--   Pier One.
--
-- One violation per launched or started Taupage instance of runtime Docker
-- (exactly) whose source is not a tag in the Pier One of its host (§4.7 step 1).
WITH launched AS (
    SELECT i.event_id, i.account_id, i.region, i.instance_id, i.username, i.event_time, i.object_key,
           json_extract_string(u.answer, '$.application_id') AS application_id,
           json_extract_string(u.answer, '$.application_version') AS application_version,
           json_extract_string(u.answer, '$.runtime') AS runtime,
           json_extract_string(u.answer, '$.source') AS source
    FROM ec2_instance_items AS i
    JOIN user_data AS u
      ON u.account_id = i.account_id AND u.region = i.region AND u.instance_id = i.instance_id
    WHERE i.event_name IN ('RunInstances', 'StartInstances')
      AND u.found
)
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       json_object('source', l.source)::VARCHAR AS meta_info,
       l.event_time,
       l.object_key,
       l.application_id,
       l.application_version
FROM launched AS l
JOIN pierone_tags AS p ON p.source = l.source
WHERE l.runtime = 'Docker'
  AND NOT p.found
