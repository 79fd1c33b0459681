-- table: security_groups
-- lookup: ec2.security_groups
-- help: The security groups of each RunInstances event (the ordered union
--   of the groups of the response and of its instances, as one comma
--   list), as EC2's DescribeSecurityGroups in the event's account
--   (userIdentity.accountId, else recipientAccountId) and region answers
--   them: {"securityGroups": [{"groupId": …, "groupName": …,
--   "ipPermissions": […], …}]}; not found when a group is gone. The
--   security-group snapshots of launches are made of it (§4.13).
SELECT DISTINCT object_key,
       coalesce(nullif(user_identity_account_id, ''), nullif(recipient_account_id, '')) AS account_id,
       aws_region AS region,
       security_group_ids(response_elements) AS group_ids
FROM events
WHERE event_source = 'ec2.amazonaws.com'
  AND event_name = 'RunInstances'
