-- The configuration tables every rule may read (see the package
-- documentation). The engine fills them from its Config when it starts.
SET GLOBAL TimeZone = 'UTC';
CREATE TABLE allowed_regions (region VARCHAR PRIMARY KEY);
CREATE TABLE lambda_trusted_buckets (bucket VARCHAR PRIMARY KEY);
CREATE TABLE taupage_owners (owner_id VARCHAR PRIMARY KEY);
CREATE TABLE settings (include_failed_calls BOOLEAN NOT NULL, taupage_name_prefix VARCHAR NOT NULL);
-- taupage_image(answer): whether an AMI, as the images enrichment table
-- answers it, is a Taupage AMI: its name starts with the configured prefix
-- (case-sensitive) and its owner is one of the Taupage owners. An unknown
-- AMI (answer NULL) is not.
CREATE MACRO taupage_image(answer) AS
    coalesce(starts_with(json_extract_string(answer, '$.name'), (SELECT s.taupage_name_prefix FROM settings AS s))
             AND json_extract_string(answer, '$.owner_id') IN (SELECT t.owner_id FROM taupage_owners AS t), false);
-- security_group_ids(response_elements): the security groups of an EC2
-- RunInstances response as one comma list, the ordered union of
-- groupSet.items[*].groupId and instancesSet.items[*].groupSet.items[*].groupId
-- (§4.13); NULL when it names none.
CREATE MACRO security_group_ids(r) AS nullif(array_to_string(list_transform(
    [list_concat(coalesce(json_extract_string(r, '$.groupSet.items[*].groupId'), []),
                 coalesce(flatten(list_transform(json_extract(r, '$.instancesSet.items[*]'),
                                                 it -> coalesce(json_extract_string(it, '$.groupSet.items[*].groupId'), []))), []))],
    l -> list_filter(l, (x, i) -> coalesce(trim(x), '') <> '' AND list_position(l, x) = i))[1], ','), '');
-- launch_time(item): the launchTime of an instance item of an EC2
-- response, epoch milliseconds or a timestamp string, as a UTC TIMESTAMP;
-- NULL when absent or unreadable.
CREATE MACRO launch_time(item) AS CASE
    WHEN json_type(item, '$.launchTime') IN ('UBIGINT', 'BIGINT')
    THEN make_timestamp(json_extract(item, '$.launchTime')::BIGINT * 1000)
    WHEN json_type(item, '$.launchTime') = 'VARCHAR'
    THEN try_cast(json_extract_string(item, '$.launchTime') AS TIMESTAMPTZ)::TIMESTAMP
END;
-- ipv4_number(s): a dotted-quad IPv4 address as its 32-bit number, NULL
-- when s is not one (for the cidr modifier of Sigma rules).
CREATE MACRO ipv4_number(s) AS CASE
    WHEN regexp_full_match(s, '(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})')
     AND list_bool_and(list_transform(string_split(s, '.'), x -> coalesce(try_cast(x AS UBIGINT) <= 255, false)))
    THEN list_reduce(list_transform(string_split(s, '.'), x -> try_cast(x AS UBIGINT)), (a, b) -> a * 256 + b)
END;
