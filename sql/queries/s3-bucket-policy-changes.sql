-- name: s3-bucket-policy-changes
-- description: Changes to who may access S3 buckets: bucket policies, ACLs,
--   ownership controls and the bucket and account public access blocks,
--   failed attempts included (see error_code), oldest first.
--
-- detail is the new policy, ACL, ownership controls or public access block
-- configuration from requestParameters; bucket is empty for the account's
-- public access block.
SELECT event_time,
       account,
       aws_region,
       coalesce(user_identity_arn, session_issuer_arn, user_identity_principal_id) AS principal,
       event_name,
       json_extract_string(request_parameters, '$.bucketName') AS bucket,
       coalesce(json_extract(request_parameters, '$.bucketPolicy'),
                json_extract(request_parameters, '$.AccessControlPolicy'),
                json_extract(request_parameters, '$.OwnershipControls'),
                json_extract(request_parameters, '$.PublicAccessBlockConfiguration'))::VARCHAR AS detail,
       source_ip_address,
       error_code,
       event_id
FROM events
WHERE event_source IN ('s3.amazonaws.com', 's3-control.amazonaws.com')
  AND event_name IN ('PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl',
                     'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls',
                     'PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock',
                     'PutAccountPublicAccessBlock', 'DeleteAccountPublicAccessBlock')
ORDER BY event_time, event_id
