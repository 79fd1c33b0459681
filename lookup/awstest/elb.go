package awstest

import (
	"maps"
	"net/http"
	"slices"
)

const (
	elbVersion = "2012-06-01"
	elbNS      = "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"
)

// LoadBalancer is a classic load balancer. DNSName defaults to
// {Name}-1234.{region}.elb.amazonaws.com; Scheme to internet-facing.
type LoadBalancer struct {
	Name, DNSName, Scheme string
	Ports                 []int32 // the listeners' load balancer ports
	InstanceIDs           []string
	SecurityGroupIDs      []string
	Tags                  map[string]string
}

// AddLoadBalancer adds lb (or replaces the one of its name) in account and
// region.
func (s *Server) AddLoadBalancer(account, region string, lb LoadBalancer) {
	if lb.DNSName == "" {
		lb.DNSName = lb.Name + "-1234." + region + ".elb.amazonaws.com"
	}
	if lb.Scheme == "" {
		lb.Scheme = "internet-facing"
	}
	lb.Tags = maps.Clone(lb.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := accountRegion{account, region}
	s.elbs[k] = upsert(s.elbs[k], lb, func(x LoadBalancer) string { return x.Name })
}

var elbProtocol = queryProtocol{ns: elbNS, actions: map[string]handler{
	"DescribeLoadBalancers": (*Server).describeLoadBalancers,
	"DescribeTags":          (*Server).describeELBTags,
}}

type xmlListener struct {
	Protocol         string `xml:"Protocol"`
	LoadBalancerPort int32  `xml:"LoadBalancerPort"`
	InstanceProtocol string `xml:"InstanceProtocol"`
	InstancePort     int32  `xml:"InstancePort"`
}

type xmlListenerDescription struct {
	Listener xmlListener `xml:"Listener"`
}

type xmlELBInstance struct {
	InstanceID string `xml:"InstanceId"`
}

type xmlLoadBalancer struct {
	Name                    string                   `xml:"LoadBalancerName"`
	DNSName                 string                   `xml:"DNSName"`
	CanonicalHostedZoneName string                   `xml:"CanonicalHostedZoneName"`
	Scheme                  string                   `xml:"Scheme"`
	Listeners               []xmlListenerDescription `xml:"ListenerDescriptions>member"`
	Instances               []xmlELBInstance         `xml:"Instances>member"`
	SecurityGroups          []string                 `xml:"SecurityGroups>member"`
}

type describeLoadBalancersResult struct {
	LoadBalancers []xmlLoadBalancer `xml:"LoadBalancerDescriptions>member"`
	NextMarker    string            `xml:"NextMarker,omitempty"`
}

func (s *Server) describeLoadBalancers(r *request) (any, error) {
	max, ok := intParam(r.form, "PageSize")
	if !ok || r.form.Get("PageSize") != "" && (max < 1 || max > 400) {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "PageSize must be between 1 and 400")
	}
	all := s.elbs[accountRegion{r.account, r.region}]
	if names := members(r.form, "LoadBalancerNames.member"); len(names) > 0 {
		var missing []string
		if all, missing = byIDs(all, names, func(x LoadBalancer) string { return x.Name }); len(missing) > 0 {
			return nil, errorf(http.StatusBadRequest, "LoadBalancerNotFound", "There is no ACTIVE Load Balancer named '%s'", missing[0])
		}
	}
	start, end, next, ok := page(len(all), pageLimit(s.PageSize, max), r.form.Get("Marker"))
	if !ok {
		return nil, errorf(http.StatusBadRequest, "InvalidNextToken", "Invalid Marker: %s", r.form.Get("Marker"))
	}
	res := describeLoadBalancersResult{LoadBalancers: []xmlLoadBalancer{}, NextMarker: next}
	for _, lb := range all[start:end] {
		x := xmlLoadBalancer{Name: lb.Name, DNSName: lb.DNSName, CanonicalHostedZoneName: lb.DNSName, Scheme: lb.Scheme,
			Listeners: []xmlListenerDescription{}, Instances: []xmlELBInstance{}, SecurityGroups: slices.Clone(lb.SecurityGroupIDs)}
		for _, p := range lb.Ports {
			x.Listeners = append(x.Listeners, xmlListenerDescription{Listener: xmlListener{Protocol: "HTTP", LoadBalancerPort: p, InstanceProtocol: "HTTP", InstancePort: 8080}})
		}
		for _, id := range lb.InstanceIDs {
			x.Instances = append(x.Instances, xmlELBInstance{InstanceID: id})
		}
		res.LoadBalancers = append(res.LoadBalancers, x)
	}
	return res, nil
}

type xmlELBTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlTagDescription struct {
	Name string      `xml:"LoadBalancerName"`
	Tags []xmlELBTag `xml:"Tags>member"`
}

type describeELBTagsResult struct {
	TagDescriptions []xmlTagDescription `xml:"TagDescriptions>member"`
}

func (s *Server) describeELBTags(r *request) (any, error) {
	names := members(r.form, "LoadBalancerNames.member")
	if len(names) == 0 || len(names) > 20 {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "LoadBalancerNames must name 1 to 20 load balancers, not %d", len(names))
	}
	all := s.elbs[accountRegion{r.account, r.region}]
	found, missing := byIDs(all, names, func(x LoadBalancer) string { return x.Name })
	if len(missing) > 0 {
		return nil, errorf(http.StatusBadRequest, "LoadBalancerNotFound", "There is no ACTIVE Load Balancer named '%s'", missing[0])
	}
	res := describeELBTagsResult{TagDescriptions: []xmlTagDescription{}}
	for _, lb := range found {
		d := xmlTagDescription{Name: lb.Name, Tags: []xmlELBTag{}}
		for _, k := range slices.Sorted(maps.Keys(lb.Tags)) {
			d.Tags = append(d.Tags, xmlELBTag{Key: k, Value: lb.Tags[k]})
		}
		res.TagDescriptions = append(res.TagDescriptions, d)
	}
	return res, nil
}
