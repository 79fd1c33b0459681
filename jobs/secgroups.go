package jobs

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/fullstop-audit/fullstop/lookup/aws"
)

// The allowed ports of the reference's jobs.
var (
	EC2AllowedPorts = []int32{80, 443, 22}
	ELBAllowedPorts = []int32{80, 443}
)

// UnsecuredGroup is a security group with the rules that open it to the
// outside, as the meta unsecuredSecurityGroups holds it.
type UnsecuredGroup struct {
	GroupName      string   `json:"group_name"`
	OffendingRules []string `json:"offending_rules"`
}

// private are the ranges whose sources are not external.
var (
	privateV4 = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16")}
	privateV6 = netip.MustParsePrefix("fc00::/7")
)

// UnsecuredGroups returns the groups with at least one offending ingress
// rule, by group id (reference §5.2): a rule offends when it opens a port
// outside allowed and has an external source. tcp (6) and udp (17) open
// the ports of their range (all of them when the range is missing); icmp
// (1) and icmpv6 (58) open none; any other protocol, -1 (all) included,
// opens every port. A source is external when it is an IPv4 CIDR not
// inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, or an IPv6 CIDR not
// inside fc00::/7 (an unparseable CIDR counts as external); a grant to
// another security group is not.
func UnsecuredGroups(groups []aws.SecurityGroup, allowed []int32) map[string]UnsecuredGroup {
	out := map[string]UnsecuredGroup{}
	for _, g := range groups {
		var offending []string
		for _, p := range g.IPPermissions {
			if opensDisallowedPort(p, allowed) && externalSource(p) {
				offending = append(offending, ruleText(p))
			}
		}
		if len(offending) > 0 {
			out[g.GroupID] = UnsecuredGroup{GroupName: g.GroupName, OffendingRules: offending}
		}
	}
	return out
}

func opensDisallowedPort(p aws.IPPermission, allowed []int32) bool {
	switch strings.ToLower(strings.TrimSpace(p.IPProtocol)) {
	case "icmp", "1", "icmpv6", "58":
		return false
	case "tcp", "6", "udp", "17", "":
		if p.FromPort == nil || p.ToPort == nil {
			return true
		}
		from, to := *p.FromPort, *p.ToPort
		if to < from || to-from > 65535 {
			return true
		}
		for port := from; port <= to; port++ {
			if !slices.Contains(allowed, port) {
				return true
			}
		}
		return false
	default:
		return true
	}
}

func externalSource(p aws.IPPermission) bool {
	for _, c := range p.IPRanges {
		pre, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil || !pre.Addr().Is4() || !slices.ContainsFunc(privateV4, func(r netip.Prefix) bool { return inside(pre, r) }) {
			return true
		}
	}
	for _, c := range p.IPv6Ranges {
		pre, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil || !inside(pre, privateV6) {
			return true
		}
	}
	return false
}

// inside reports whether p lies wholly in r.
func inside(p, r netip.Prefix) bool {
	return p.Bits() >= r.Bits() && r.Contains(p.Masked().Addr())
}

// ruleText renders a rule for the meta: "tcp 0-65535 from 0.0.0.0/0, ::/0".
func ruleText(p aws.IPPermission) string {
	proto := p.IPProtocol
	if proto == "" || proto == "-1" {
		proto = "all"
	}
	ports := "all ports"
	if p.FromPort != nil && p.ToPort != nil {
		ports = fmt.Sprintf("%d-%d", *p.FromPort, *p.ToPort)
		if *p.FromPort == *p.ToPort {
			ports = fmt.Sprint(*p.FromPort)
		}
	}
	return fmt.Sprintf("%s %s from %s", proto, ports, strings.Join(slices.Concat(p.IPRanges, p.IPv6Ranges), ", "))
}
