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
FROM taupage_launches AS l
JOIN pierone_tags AS p ON p.source = l.source
WHERE l.runtime = 'Docker'
  AND NOT p.found
