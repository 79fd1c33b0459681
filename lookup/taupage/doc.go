// Package taupage reads what fullstop needs from an EC2 instance's Taupage
// user data: the YAML document (usually starting with the comment
// "#taupage-ami-config") that DescribeInstanceAttribute(userData) returns
// base64-encoded.
//
// It holds the parse of the four fields the rules use (application_id,
// application_version, runtime, source), the Pier One parse of source
// (registry, team, artifact, tag) and the -SNAPSHOT test. The behaviour
// follows /work/shared/spec/reference-behaviour.md: §3.4 ("Taupage YAML" and
// "Pier One tag" lookups), §4.7 (Docker registry plugin: runtime "Docker"
// and source), §4.9 (snapshot source) and §4.10 (Taupage YAML plugin: no
// parseable user data, missing application_id or source).
//
// Differences from the reference, on purpose:
//   - user data that is not valid UTF-8 is not parseable (the reference
//     decoded it with replacement characters); every returned string is
//     valid UTF-8;
//   - a known key whose value is a mapping or a list leaves that field
//     absent instead of making the whole document unparseable;
//   - a key given twice takes its last value (as Taupage's own YAML loader
//     and the reference's Jackson parser did);
//   - gzip-compressed user data (which EC2 accepts) is decompressed, up to
//     1 MiB.
package taupage
