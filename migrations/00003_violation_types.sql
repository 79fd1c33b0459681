-- The 31 violation types of the reference (state after its V19), with its
-- titles, severities and priorities. Our decision: the type
-- APPLICATION_VERSION_DOES_NOT_HAVE_A_VALID_ARTIFACT gets its intended
-- priority 1. No type is audit relevant. Lower priority = more important;
-- higher severity = worse.

-- +goose Up
INSERT INTO fullstop_data.violation_type
    (id, title, violation_severity, priority, is_audit_relevant, help_text,
     created, created_by, last_modified, last_modified_by, version)
SELECT id, title, severity, priority, false, help_text, now(), 'migration', now(), 'migration', 0
FROM (VALUES
    ('ACTIVE_KEY_TOO_OLD', 'IAM Access Key too old', 1, 2,
     'An active access key of an IAM user is older than the allowed rotation period. Create a new key, switch your tools to it and then deactivate and delete the old one.'),
    ('APPLICATION_NOT_PRESENT_IN_KIO', 'Unknown application ID', 1, 2,
     'The application_id in the user data of this instance is not registered in Kio, the application registry. Register the application in Kio or correct the application_id in the user data.'),
    ('APPLICATION_VERSION_DOES_NOT_HAVE_A_VALID_ARTIFACT', 'Deployment artifact mismatch', 1, 1,
     'The Docker image in the user data of this instance is not the artifact registered in Kio for this application version. Deploy the registered artifact, or register a new version for the image you want to run.'),
    ('APPLICATION_VERSION_NOT_PRESENT_IN_KIO', 'Unknown application version', 2, 1,
     'The application version deployed on this instance is not registered in Kio. Register every version in Kio before you deploy it.'),
    ('EC2_RUN_IN_PUBLIC_SUBNET', 'Public EC2 instance', 0, 4,
     'This EC2 instance runs in a public subnet and can be reached from the internet directly. Run instances in private subnets and expose them through a load balancer.'),
    ('EC2_WITH_A_SNAPSHOT_IMAGE', 'Snapshot deployment artifact', 2, 1,
     'The Docker image deployed on this instance has a mutable -SNAPSHOT tag, so the running code cannot be traced to a single build. Deploy only immutable release tags.'),
    ('EC2_WITH_KEYPAIR', 'EC2 SSH Keypair used', 0, 4,
     'This instance was launched with an SSH key pair. Launch instances without a key pair and get SSH access through the bastion host with piu.'),
    ('IMAGE_IN_PIERONE_NOT_FOUND', 'Unknown deployment artifact', 2, 1,
     'The Docker image named in the user data of this instance was not found in any trusted Pier One registry. Deploy only images that were pushed to a trusted Pier One.'),
    ('MISSING_SOURCE_IN_USER_DATA', 'Incomplete EC2 user data', 0, 4,
     'The Taupage user data of this instance does not name a source, the Docker image to run. Set source in the user data, for example in your Senza definition.'),
    ('MISSING_USER_DATA', 'EC2 without user data', 0, 3,
     'This Taupage instance was started without user data, or its user data could not be parsed. Provide valid Taupage YAML user data when you launch instances.'),
    ('MISSING_VERSION_APPROVAL', 'Unapproved application version', 1, 1,
     'The application version deployed on this instance has not been approved in Kio. Get the required approvals for a version before you deploy it to production.'),
    ('MODIFIED_ROLE_OR_SERVICE', 'Possible privilege escalation', 1, 2,
     'The policies of a protected IAM role were changed and no longer match the approved template, which may grant more rights than intended. Restore the approved policies or have the change reviewed.'),
    ('PASSWORD_USED', 'IAM User has password set', 1, 1,
     'An IAM user in this account has a password for console login. Remove the login profile and sign in through your identity provider instead.'),
    ('SCM_SOURCE_JSON_MISSING', 'Missing scm-source.json', 1, 2,
     'The deployed Docker image has no valid scm-source.json, so the source it was built from cannot be traced. Add scm-source.json to the image when you build it, see http://docs.stups.io/en/latest/user-guide/application-development.html#scm-source-json.'),
    ('SCM_URL_IS_MISSING_IN_KIO', 'SCM URL missing in KIO', 0, 2,
     'The application is registered in Kio without an SCM URL. Add the URL of its source code repository to the application in Kio.'),
    ('SCM_URL_IS_MISSING_IN_SCM_SOURCE_JSON', 'Incomplete scm-source.json', 1, 2,
     'The scm-source.json of the deployed image has no url, or an empty one. Write the repository URL into scm-source.json when you build the image, see http://docs.stups.io/en/latest/user-guide/application-development.html#scm-source-json.'),
    ('SCM_URL_NOT_MATCH_WITH_KIO', 'Built from illegal repository', 0, 2,
     'The deployed image was built from a repository other than the one registered for the application in Kio. Build from the registered repository, or correct the SCM URL in Kio.'),
    ('UNSECURED_PUBLIC_ENDPOINT', 'Unsecured public endpoint', 4, 1,
     'An instance, load balancer or database can be reached from the internet without authentication or on ports that are not allowed. Close those ports, require authentication or make the resource private.'),
    ('WRONG_AMI', 'EC2 instance using illegal AMI', 3, 1,
     'This instance was launched from an AMI that is not an approved Taupage image. Use the current Taupage AMI for every production instance.'),
    ('SPEC_URL_IS_MISSING_IN_KIO', 'Specification URL missing', 0, 3,
     'The application in Kio has no specification URL. Add the link to the ticket system or specification in which changes to the application are tracked.'),
    ('SPEC_TYPE_IS_MISSING_IN_KIO', 'Specification type missing', 0, 3,
     'The application in Kio has no specification type. Set the kind of ticket or specification system the application uses.'),
    ('WRONG_REGION', 'EC2 instance in illegal region', 1, 2,
     'An EC2 instance or a Lambda function was created in a region that is not allowed. Run the resource in one of the allowed regions and remove it from this one.'),
    ('MISSING_APPLICATION_ID_IN_USER_DATA', 'Missing application id', 1, 2,
     'The Taupage user data of this instance has no application_id, so the instance cannot be linked to an application. Set application_id in the user data.'),
    ('MISSING_APPLICATION_VERSION_IN_USER_DATA', 'Missing application version', 1, 2,
     'The Taupage user data of this instance has no application_version. Set application_version so the deployment can be traced to a registered version.'),
    ('OUTDATED_TAUPAGE', 'AMI is expired', 2, 2,
     'This running instance uses a Taupage AMI whose expiration date has passed. Redeploy it with the current Taupage AMI.'),
    ('UNSECURED_ROOT_USER', 'Unsecured root user', 4, 1,
     'The root user of this account has an active access key, or a password without multi-factor authentication. Delete the root access keys and enable MFA for the root user.'),
    ('ILLEGAL_SCM_REPOSITORY', 'Illegal SCM repository in use', 2, 2,
     'The deployed artifact was built from a repository on a host or of an owner that is not allowed. Build production artifacts only from repositories of the allowed organisations.'),
    ('MISSING_SPEC_LINKS', 'Commits w/o ticket references', 2, 2,
     'Commits in the deployed version do not reference a ticket or specification. Name the ticket in every commit message so each change can be traced.'),
    ('CROSS_ACCOUNT_ROLE', 'Cross account role', 0, 4,
     'The trust policy of an IAM role lets a foreign AWS account assume the role. Remove the foreign account from the trust policy unless that access is intended and approved.'),
    ('ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY', 'Dirty artifact build', 3, 1,
     'The scm-source.json of the image shows uncommitted or untracked changes at build time, so the image matches no commit. Build production images only from a clean checkout.'),
    ('LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION', 'Untrusted AWS-Lambda function', 1, 1,
     'The code of this Lambda function was uploaded from an S3 bucket that is not trusted. Deploy Lambda code only from the trusted buckets.')
) AS seed (id, title, severity, priority, help_text);

-- +goose Down
DELETE FROM fullstop_data.violation_type WHERE created_by = 'migration';
