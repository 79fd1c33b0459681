-- type: APPLICATION_NOT_PRESENT_IN_KIO
-- title: Unknown application ID
-- severity: 1
-- priority: 2
-- sources: ec2.amazonaws.com
-- events: RunInstances, StartInstances
-- lookups: instances?, images, user_data, kio_applications
-- help: An EC2 instance was launched or started with an application_id in its
--   Taupage user data that is not registered in Kio, the application
--   registry. Register the application in Kio or correct the application_id.
--
-- One violation per launched or started Taupage instance whose user data's
-- application_id Kio does not know (404; an outage is a failed lookup, §4.6).
SELECT l.event_id,
       l.account_id,
       l.region,
       l.instance_id,
       l.username,
       json_object('application_id', l.application_id)::VARCHAR AS meta_info,
       l.event_time,
       l.object_key,
       l.application_id,
       l.application_version
FROM taupage_launches AS l
JOIN kio_applications AS k ON k.application_id = l.application_id
WHERE NOT k.found
