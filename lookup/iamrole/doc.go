// Package iamrole holds the pure decision behind MODIFIED_ROLE_OR_SERVICE,
// the reference's UnapprovedServicesAndRolePlugin: which CloudTrail IAM
// events concern a protected role (Protected), how the S3 template objects
// map to protected role names and back (TemplateNames, TemplateKey), and
// whether a protected role as IAM describes it now differs from its
// approved template (Check), with the violation's meta when it does.
//
// The package talks to neither IAM nor S3: the caller lists the role's
// attached and inline policies, fetches and URL-decodes the main inline
// policy (the one named like the role) and downloads the template.
//
// The behaviour follows /work/shared/spec/reference-behaviour.md §4.11
// (Unapproved services & role plugin) and the reference's
// UnapprovedServicesAndRolePlugin and its tests:
//
//   - attached managed policies present → "You MUST not attach additional
//     policies to this role!";
//   - inline policy names other than exactly {role name}, compared as a set
//     (none at all also differs) → "You MUST not change the inline policies
//     of this role";
//   - an RFC 6902 JSON patch from the template to the main policy that is
//     not empty → "You MUST not change the main policy document! See diffs
//     for details." A missing main policy is compared as {}.
//
// Documents are compared structurally: object key order and white space do
// not matter, array element order does. The patches are computed by
// github.com/wI2L/jsondiff with its longest-common-subsequence array
// comparison, in both directions (template → policy and policy →
// template), and encoded deterministically: operations as {"op", "from",
// "path", "value"} and object keys sorted.
//
// Differences from the reference, on purpose:
//   - numbers are compared by value, as RFC 6902's test operation defines
//     number equality, so 1, 1.0 and 1e0 are the same (Jackson, under the
//     reference, told an int node from a double node); numbers appear in
//     the patches in a canonical form (1.50 → 1.5, 1e2 → 100) and keep full
//     precision (no rounding through float64);
//   - the meta's policy name lists are sorted and free of duplicates (the
//     reference put Java hash sets there, in no defined order);
//   - a template object key that is a "folder" marker, sits in a deeper
//     folder or has an empty name is not a protected role name.
//
// Unparseable JSON in the template or the main policy is an error: the
// caller logs it and reports nothing, as the reference did.
package iamrole
