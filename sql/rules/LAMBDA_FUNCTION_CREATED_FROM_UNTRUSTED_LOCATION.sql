-- type: LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION
-- title: Untrusted AWS-Lambda function
-- severity: 1
-- priority: 1
-- sources: lambda.amazonaws.com
-- events: CreateFunction*, UpdateFunctionCode*
-- help: The code of a Lambda function was created or updated from a location
--   that is not trusted: an S3 bucket that is not on the list of trusted
--   buckets, or an upload without a bucket (an inline zip file). Publish the
--   code through a trusted bucket.
--
-- One violation per CreateFunction or UpdateFunctionCode call, without an
-- instance id; account = userIdentity.accountId else recipientAccountId.
-- Bucket = requestParameters.code.s3Bucket else requestParameters.s3Bucket.
WITH calls AS (
    SELECT event_id, user_identity_account_id, recipient_account_id, aws_region,
           user_identity_arn, event_time, object_key,
           coalesce(nullif(json_extract_string(request_parameters, '$.code.s3Bucket'), ''),
                    nullif(json_extract_string(request_parameters, '$.s3Bucket'), '')) AS bucket,
           coalesce(nullif(json_extract_string(request_parameters, '$.code.s3Key'), ''),
                    nullif(json_extract_string(request_parameters, '$.s3Key'), '')) AS s3_key,
           json_extract_string(response_elements, '$.functionName') AS function_name
    FROM events
    WHERE event_source = 'lambda.amazonaws.com'
      AND regexp_full_match(event_name, '(CreateFunction|UpdateFunctionCode)([0-9].*)?')
)
SELECT event_id,
       coalesce(nullif(user_identity_account_id, ''), recipient_account_id) AS account_id,
       aws_region AS region,
       NULL::VARCHAR AS instance_id,
       user_identity_arn AS username,
       json_object('function_name', coalesce(function_name, ''),
                   's3_bucket', coalesce(bucket, ''),
                   's3_key', coalesce(s3_key, ''))::VARCHAR AS meta_info,
       event_time,
       object_key
FROM calls
WHERE bucket IS NULL
   OR bucket NOT IN (SELECT t.bucket FROM lambda_trusted_buckets AS t)
