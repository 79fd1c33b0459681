-- name: security-group-opened-to-world
-- description: Security group ingress rules opened to the whole internet
--   (an IPv4 or IPv6 range /0: 0.0.0.0/0, ::/0) by AuthorizeSecurityGroupIngress,
--   one row per opened range and port range, oldest first.
--
-- Both forms of the request: the rules in requestParameters.ipPermissions.items
-- (ipRanges / ipv6Ranges), and the single rule of the older form
-- (requestParameters.cidrIp, ipProtocol, fromPort, toPort). protocol -1 is
-- every protocol; from_port and to_port -1 every ICMP type. Failed calls
-- opened nothing and are left out.
WITH calls AS (
    SELECT event_time, account, aws_region, source_ip_address, event_id, request_parameters,
           coalesce(user_identity_arn, session_issuer_arn, user_identity_principal_id) AS principal,
           coalesce(json_extract_string(request_parameters, '$.groupId'),
                    json_extract_string(request_parameters, '$.groupName')) AS group_id
    FROM events
    WHERE event_source = 'ec2.amazonaws.com'
      AND event_name = 'AuthorizeSecurityGroupIngress'
      AND error_code IS NULL
),
rules AS (
    SELECT c.*,
           json_extract_string(p.perm, '$.ipProtocol') AS protocol,
           TRY_CAST(json_extract_string(p.perm, '$.fromPort') AS INTEGER) AS from_port,
           TRY_CAST(json_extract_string(p.perm, '$.toPort') AS INTEGER) AS to_port,
           list_concat(json_extract_string(p.perm, '$.ipRanges.items[*].cidrIp'),
                       json_extract_string(p.perm, '$.ipv6Ranges.items[*].cidrIpv6')) AS cidrs
    FROM calls AS c
    CROSS JOIN unnest(json_extract(c.request_parameters, '$.ipPermissions.items[*]')) AS p(perm)
    UNION ALL
    SELECT c.*,
           json_extract_string(c.request_parameters, '$.ipProtocol'),
           TRY_CAST(json_extract_string(c.request_parameters, '$.fromPort') AS INTEGER),
           TRY_CAST(json_extract_string(c.request_parameters, '$.toPort') AS INTEGER),
           list_filter([json_extract_string(c.request_parameters, '$.cidrIp'),
                        json_extract_string(c.request_parameters, '$.cidrIpv6')], x -> x IS NOT NULL)
    FROM calls AS c
    WHERE json_extract_string(c.request_parameters, '$.cidrIp') IS NOT NULL
       OR json_extract_string(c.request_parameters, '$.cidrIpv6') IS NOT NULL
)
SELECT r.event_time,
       r.account,
       r.aws_region,
       r.principal,
       r.group_id,
       r.protocol,
       r.from_port,
       r.to_port,
       x.cidr,
       r.source_ip_address,
       r.event_id
FROM rules AS r
CROSS JOIN unnest(r.cidrs) AS x(cidr)
WHERE trim(x.cidr) LIKE '%/0'
ORDER BY r.event_time, r.event_id, r.protocol, r.from_port, r.to_port, x.cidr
