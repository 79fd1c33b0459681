-- name: activity-outside-allowed-regions
-- description: Calls made in AWS regions that are not allowed, counted by
--   account, region and principal, with the first and last call and the
--   calls made. Global services (IAM, sign-in, Organizations, Route 53,
--   CloudFront, Support, Health, Cost Explorer), logged in us-east-1, are
--   left out.
-- param: allowed_regions: the allowed regions, comma-separated (default: eu-central-1,eu-west-1)
WITH allowed AS (
    SELECT list_filter(list_transform(string_split($allowed_regions, ','), r -> trim(r)), r -> r <> '') AS regions
)
SELECT e.account,
       e.aws_region,
       coalesce(e.user_identity_arn, e.session_issuer_arn, e.user_identity_invoked_by, e.user_identity_principal_id) AS principal,
       count(*) AS calls,
       count(e.error_code) AS failed,
       min(e.event_time) AS first_seen,
       max(e.event_time) AS last_seen,
       string_agg(DISTINCT e.event_source || ':' || e.event_name, ' '
                  ORDER BY e.event_source || ':' || e.event_name) AS events
FROM events AS e, allowed AS a
WHERE e.aws_region IS NOT NULL
  AND NOT list_contains(a.regions, e.aws_region)
  AND e.event_source NOT IN ('iam.amazonaws.com', 'signin.amazonaws.com', 'organizations.amazonaws.com',
                             'route53.amazonaws.com', 'cloudfront.amazonaws.com', 'support.amazonaws.com',
                             'health.amazonaws.com', 'ce.amazonaws.com')
GROUP BY ALL
ORDER BY e.aws_region, e.account, principal
