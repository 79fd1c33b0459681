package awstest

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"hash/fnv"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	ec2Version = "2016-11-15"
	ec2NS      = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

// Image is an AMI. ID is "ami-" and hex digits. OwnerID defaults to the
// account it is added to, State to "available". A public image is visible
// to every account of its region, any other only to its account.
type Image struct {
	ID, Name, OwnerID, CreationDate, State string
	Public                                 bool
	// Tags are visible to DescribeTags in the account the image is
	// added to (as EC2 shows an AMI's tags only in its owner's account).
	Tags map[string]string
}

// Instance is an EC2 instance. ID is "i-" and hex digits; State defaults
// to "running". UserData is raw: DescribeInstanceAttribute answers it
// base64-encoded, as EC2 does.
type Instance struct {
	ID, ImageID, KeyName, SubnetID, VpcID, State string
	LaunchTime                                   time.Time
	UserData                                     []byte
	SecurityGroupIDs                             []string
	PublicIP                                     string
	Tags                                         map[string]string
}

// SecurityGroup is a security group. ID is "sg-" and hex digits; OwnerID
// defaults to the account it is added to.
type SecurityGroup struct {
	ID, Name, Description, OwnerID, VpcID string
	Ingress, Egress                       []Permission
}

// Permission is an ingress or egress rule of a security group. Protocol
// is "tcp", "udp", "icmp", a protocol number, or "-1" for all (whose
// ports EC2 leaves out). GroupIDs are the referenced security groups.
type Permission struct {
	Protocol         string
	FromPort, ToPort int32
	CIDRs, IPv6CIDRs []string
	GroupIDs         []string
}

// Subnet is a VPC subnet. ID is "subnet-" and hex digits.
type Subnet struct {
	ID, VpcID, CIDR string
	MapPublicIP     bool
}

// RouteTable is a VPC route table. ID is "rtb-" and hex digits. Main makes
// it the main table of its VPC; SubnetIDs are the subnets explicitly
// associated with it.
type RouteTable struct {
	ID, VpcID string
	Main      bool
	SubnetIDs []string
	Routes    []Route
}

// Route is a route of a route table. State defaults to "active".
type Route struct {
	DestinationCIDR, DestinationIPv6CIDR, GatewayID, NatGatewayID, InstanceID, NetworkInterfaceID, State string
}

// ec2State is the EC2 state of one account in one region, each kind in
// the order added.
type ec2State struct {
	images    []Image
	instances []Instance
	groups    []SecurityGroup
	subnets   []Subnet
	tables    []RouteTable
}

// region returns the state of account in region, creating it. s.mu must
// be held.
func (s *Server) region(account, region string) *ec2State {
	k := accountRegion{account, region}
	st := s.ec2[k]
	if st == nil {
		st = &ec2State{}
		s.ec2[k] = st
	}
	return st
}

// upsert replaces the item of items with v's id, or appends v.
func upsert[T any](items []T, v T, id func(T) string) []T {
	if i := slices.IndexFunc(items, func(x T) bool { return id(x) == id(v) }); i >= 0 {
		items[i] = v
		return items
	}
	return append(items, v)
}

func (s *Server) checkID(kind, prefix, id string) {
	if !validID(prefix, id) && s.t != nil {
		s.t.Errorf("awstest: %s id %q is malformed: EC2 ids are %q and hex digits", kind, id, prefix)
	}
}

// AddImage adds img (or replaces the image of its ID) to account in region.
func (s *Server) AddImage(account, region string, img Image) {
	s.checkID("image", "ami-", img.ID)
	if img.OwnerID == "" {
		img.OwnerID = account
	}
	if img.State == "" {
		img.State = "available"
	}
	img.Tags = maps.Clone(img.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.region(account, region)
	st.images = upsert(st.images, img, func(i Image) string { return i.ID })
}

// AddInstance adds in (or replaces the instance of its ID) to account in
// region.
func (s *Server) AddInstance(account, region string, in Instance) {
	s.checkID("instance", "i-", in.ID)
	if in.State == "" {
		in.State = "running"
	}
	in.UserData = slices.Clone(in.UserData)
	in.SecurityGroupIDs = slices.Clone(in.SecurityGroupIDs)
	in.Tags = maps.Clone(in.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.region(account, region)
	st.instances = upsert(st.instances, in, func(i Instance) string { return i.ID })
}

// AddSecurityGroup adds sg (or replaces the group of its ID) to account in
// region.
func (s *Server) AddSecurityGroup(account, region string, sg SecurityGroup) {
	s.checkID("security group", "sg-", sg.ID)
	if sg.OwnerID == "" {
		sg.OwnerID = account
	}
	sg.Ingress = clonePermissions(sg.Ingress)
	sg.Egress = clonePermissions(sg.Egress)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.region(account, region)
	st.groups = upsert(st.groups, sg, func(g SecurityGroup) string { return g.ID })
}

func clonePermissions(ps []Permission) []Permission {
	ps = slices.Clone(ps)
	for i := range ps {
		ps[i].CIDRs = slices.Clone(ps[i].CIDRs)
		ps[i].IPv6CIDRs = slices.Clone(ps[i].IPv6CIDRs)
		ps[i].GroupIDs = slices.Clone(ps[i].GroupIDs)
	}
	return ps
}

// AddSubnet adds sn (or replaces the subnet of its ID) to account in region.
func (s *Server) AddSubnet(account, region string, sn Subnet) {
	s.checkID("subnet", "subnet-", sn.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.region(account, region)
	st.subnets = upsert(st.subnets, sn, func(x Subnet) string { return x.ID })
}

// AddRouteTable adds rt (or replaces the table of its ID) to account in
// region.
func (s *Server) AddRouteTable(account, region string, rt RouteTable) {
	s.checkID("route table", "rtb-", rt.ID)
	rt.SubnetIDs = slices.Clone(rt.SubnetIDs)
	rt.Routes = slices.Clone(rt.Routes)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.region(account, region)
	st.tables = upsert(st.tables, rt, func(x RouteTable) string { return x.ID })
}

// ec2Protocol answers the EC2 query protocol.
type ec2Protocol struct{}

var ec2Actions = map[string]handler{
	"DescribeImages":            (*Server).describeImages,
	"DescribeInstances":         (*Server).describeInstances,
	"DescribeInstanceAttribute": (*Server).describeInstanceAttribute,
	"DescribeSecurityGroups":    (*Server).describeSecurityGroups,
	"DescribeSubnets":           (*Server).describeSubnets,
	"DescribeRouteTables":       (*Server).describeRouteTables,
	"DescribeTags":              (*Server).describeTags,
}

func (ec2Protocol) handler(action string) (handler, bool) {
	h, ok := ec2Actions[action]
	return h, ok
}

func (p ec2Protocol) writeResult(w http.ResponseWriter, r *request, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	err := enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: r.action + "Response"}, Attr: xmlns(ec2NS)})
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		p.writeError(w, r, errorf(http.StatusInternalServerError, "InternalError", "encoding the response: %v", err))
		return
	}
	writeBody(w, "text/xml;charset=UTF-8", http.StatusOK, buf.Bytes())
}

type ec2ErrorResponse struct {
	XMLName   xml.Name `xml:"Response"`
	Errors    []ec2Err `xml:"Errors>Error"`
	RequestID string   `xml:"RequestID"`
}

type ec2Err struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func (ec2Protocol) writeError(w http.ResponseWriter, r *request, e *apiError) {
	body, err := xml.Marshal(ec2ErrorResponse{Errors: []ec2Err{{e.code, e.message}}, RequestID: r.id})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, "text/xml;charset=UTF-8", e.status, append([]byte(xml.Header), body...))
}

// itemSet is an EC2 list: <xSet><item>…</item></xSet>.
type itemSet[T any] struct {
	Items []T `xml:"item"`
}

func items[T any](v []T) itemSet[T] { return itemSet[T]{Items: v} }

// validID reports whether id is prefix and hex digits.
func validID(prefix, id string) bool {
	hex, ok := strings.CutPrefix(id, prefix)
	return ok && hex != "" && strings.Trim(hex, "0123456789abcdef") == ""
}

// fakeID returns a stable EC2-like id derived from parts.
func fakeID(prefix string, parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return prefix + strconv.FormatUint(h.Sum64()|1<<63, 16)[:16] + "0"
}

func malformed(code, id, prefix string) *apiError {
	return errorf(http.StatusBadRequest, code, "Invalid id: %q (expecting %q)", id, prefix+"...")
}

// notFound is the NotFound error of missing ids, worded like EC2's.
func notFound(code, what string, missing []string, brackets bool) *apiError {
	list := strings.Join(missing, ", ")
	if brackets {
		list = "[" + list + "]"
	}
	if len(missing) == 1 {
		return errorf(http.StatusBadRequest, code, "The %s '%s' does not exist", what, list)
	}
	return errorf(http.StatusBadRequest, code, "The %ss '%s' do not exist", what, list)
}

// byIDs returns the items whose id is one of ids, and the ids of none.
func byIDs[T any](all []T, ids []string, id func(T) string) (found []T, missing []string) {
	for _, want := range ids {
		if !slices.ContainsFunc(all, func(x T) bool { return id(x) == want }) {
			missing = append(missing, want)
		}
	}
	for _, x := range all {
		if slices.Contains(ids, id(x)) {
			found = append(found, x)
		}
	}
	return found, missing
}

// checkIDs fails if an id is not prefix and hex digits.
func checkIDs(ids []string, code, prefix string) error {
	for _, id := range ids {
		if !validID(prefix, id) {
			return malformed(code, id, prefix)
		}
	}
	return nil
}

// filter is one Filter.N of a Describe request.
type filter struct {
	name   string
	values []string
}

func filters(r *request) []filter {
	var fs []filter
	for _, i := range indices(r.form, "Filter") {
		p := "Filter." + strconv.Itoa(i)
		fs = append(fs, filter{name: r.form.Get(p + ".Name"), values: members(r.form, p+".Value")})
	}
	return fs
}

// attrs maps the filter names of a kind of resource to its values.
type attrs[T any] map[string]func(T) []string

// filterItems returns the items that pass every filter: one of a filter's
// values matches one of the item's values for its name. tags, if not nil,
// gives the tags for the tag:Key and tag-key filters.
func filterItems[T any](all []T, fs []filter, a attrs[T], tags func(T) map[string]string) ([]T, error) {
	getters := make([]func(T) []string, len(fs))
	for i, f := range fs {
		get, ok := a[f.name]
		switch {
		case ok:
		case tags != nil && f.name == "tag-key":
			get = func(x T) []string { return slices.Sorted(maps.Keys(tags(x))) }
		case tags != nil && strings.HasPrefix(f.name, "tag:"):
			key := strings.TrimPrefix(f.name, "tag:")
			get = func(x T) []string {
				if v, ok := tags(x)[key]; ok {
					return []string{v}
				}
				return nil
			}
		default:
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "The filter '%s' is invalid", f.name)
		}
		getters[i] = get
	}
	var out []T
	for _, x := range all {
		pass := true
		for i, f := range fs {
			if !slices.ContainsFunc(getters[i](x), func(v string) bool { return matchAny(f.values, v) }) {
				pass = false
				break
			}
		}
		if pass {
			out = append(out, x)
		}
	}
	return out, nil
}

func one(v string) []string { return []string{v} }

// ec2Page returns the page of all that the request asks for, and the next
// page's token.
func ec2Page[T any](s *Server, r *request, all []T) ([]T, string, error) {
	max, ok := intParam(r.form, "MaxResults")
	if !ok {
		return nil, "", errorf(http.StatusBadRequest, "InvalidParameterValue", "Value (%s) for parameter maxResults is invalid.", r.form.Get("MaxResults"))
	}
	start, end, next, ok := page(len(all), pageLimit(s.PageSize, max), r.form.Get("NextToken"))
	if !ok {
		return nil, "", errorf(http.StatusBadRequest, "InvalidPaginationToken", "Invalid pagination token: %s", r.form.Get("NextToken"))
	}
	return all[start:end], next, nil
}

// DescribeImages

type describeImagesResponse struct {
	RequestID string            `xml:"requestId"`
	Images    itemSet[xmlImage] `xml:"imagesSet"`
	NextToken string            `xml:"nextToken,omitempty"`
}

type xmlImage struct {
	ImageID      string `xml:"imageId"`
	ImageState   string `xml:"imageState"`
	ImageOwnerID string `xml:"imageOwnerId"`
	CreationDate string `xml:"creationDate,omitempty"`
	IsPublic     bool   `xml:"isPublic"`
	ImageType    string `xml:"imageType"`
	Name         string `xml:"name,omitempty"`
}

var imageAttrs = attrs[Image]{
	"image-id":  func(i Image) []string { return one(i.ID) },
	"name":      func(i Image) []string { return one(i.Name) },
	"owner-id":  func(i Image) []string { return one(i.OwnerID) },
	"state":     func(i Image) []string { return one(i.State) },
	"is-public": func(i Image) []string { return one(strconv.FormatBool(i.Public)) },
}

// visibleImages returns the images account sees in region: its own and
// the public ones of every account.
func (s *Server) visibleImages(account, region string) []Image {
	var imgs []Image
	keys := slices.SortedFunc(maps.Keys(s.ec2), func(a, b accountRegion) int { return strings.Compare(a.account, b.account) })
	for _, k := range keys {
		if k.region != region {
			continue
		}
		for _, img := range s.ec2[k].images {
			if k.account == account || img.Public {
				imgs = append(imgs, img)
			}
		}
	}
	return imgs
}

func (s *Server) describeImages(r *request) (any, error) {
	imgs := s.visibleImages(r.account, r.region)
	ids := members(r.form, "ImageId")
	if err := checkIDs(ids, "InvalidAMIID.Malformed", "ami-"); err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		var missing []string
		imgs, missing = byIDs(imgs, ids, func(i Image) string { return i.ID })
		if len(missing) > 0 {
			return nil, notFound("InvalidAMIID.NotFound", "image id", missing, true)
		}
	}
	if owners := members(r.form, "Owner"); len(owners) > 0 {
		for i, o := range owners {
			if o == "self" {
				owners[i] = r.account
			}
		}
		imgs = slices.DeleteFunc(imgs, func(i Image) bool { return !slices.Contains(owners, i.OwnerID) })
	}
	imgs, err := filterItems(imgs, filters(r), imageAttrs, nil)
	if err != nil {
		return nil, err
	}
	resp := &describeImagesResponse{RequestID: r.id}
	if len(ids) == 0 {
		if imgs, resp.NextToken, err = ec2Page(s, r, imgs); err != nil {
			return nil, err
		}
	}
	for _, i := range imgs {
		resp.Images.Items = append(resp.Images.Items, xmlImage{
			ImageID:      i.ID,
			ImageState:   i.State,
			ImageOwnerID: i.OwnerID,
			CreationDate: i.CreationDate,
			IsPublic:     i.Public,
			ImageType:    "machine",
			Name:         i.Name,
		})
	}
	return resp, nil
}

// DescribeInstances

type describeInstancesResponse struct {
	RequestID    string                  `xml:"requestId"`
	Reservations itemSet[xmlReservation] `xml:"reservationSet"`
	NextToken    string                  `xml:"nextToken,omitempty"`
}

type xmlReservation struct {
	ReservationID string               `xml:"reservationId"`
	OwnerID       string               `xml:"ownerId"`
	Groups        itemSet[xmlGroup]    `xml:"groupSet"`
	Instances     itemSet[xmlInstance] `xml:"instancesSet"`
}

type xmlInstance struct {
	InstanceID string            `xml:"instanceId"`
	ImageID    string            `xml:"imageId,omitempty"`
	State      xmlInstanceState  `xml:"instanceState"`
	KeyName    string            `xml:"keyName,omitempty"`
	LaunchTime string            `xml:"launchTime,omitempty"`
	SubnetID   string            `xml:"subnetId,omitempty"`
	VpcID      string            `xml:"vpcId,omitempty"`
	IPAddress  string            `xml:"ipAddress,omitempty"`
	Groups     itemSet[xmlGroup] `xml:"groupSet"`
	Tags       *itemSet[xmlTag]  `xml:"tagSet,omitempty"`
}

type xmlInstanceState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type xmlGroup struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName,omitempty"`
}

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// stateCodes are the codes of the instance states.
var stateCodes = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

var instanceAttrs = attrs[Instance]{
	"instance-id":         func(i Instance) []string { return one(i.ID) },
	"image-id":            func(i Instance) []string { return one(i.ImageID) },
	"subnet-id":           func(i Instance) []string { return one(i.SubnetID) },
	"vpc-id":              func(i Instance) []string { return one(i.VpcID) },
	"key-name":            func(i Instance) []string { return one(i.KeyName) },
	"ip-address":          func(i Instance) []string { return one(i.PublicIP) },
	"instance-state-name": func(i Instance) []string { return one(i.State) },
	"instance-state-code": func(i Instance) []string { return one(strconv.Itoa(stateCodes[i.State])) },
	"instance.group-id":   func(i Instance) []string { return i.SecurityGroupIDs },
}

func (s *Server) describeInstances(r *request) (any, error) {
	st := s.region(r.account, r.region)
	all := st.instances
	ids := members(r.form, "InstanceId")
	if err := checkIDs(ids, "InvalidInstanceID.Malformed", "i-"); err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		var missing []string
		all, missing = byIDs(all, ids, func(i Instance) string { return i.ID })
		if len(missing) > 0 {
			return nil, notFound("InvalidInstanceID.NotFound", "instance ID", missing, false)
		}
	}
	all, err := filterItems(all, filters(r), instanceAttrs, func(i Instance) map[string]string { return i.Tags })
	if err != nil {
		return nil, err
	}
	resp := &describeInstancesResponse{RequestID: r.id}
	if len(ids) == 0 {
		if all, resp.NextToken, err = ec2Page(s, r, all); err != nil {
			return nil, err
		}
	}
	for _, in := range all {
		x := xmlInstance{
			InstanceID: in.ID,
			ImageID:    in.ImageID,
			State:      xmlInstanceState{Code: stateCodes[in.State], Name: in.State},
			KeyName:    in.KeyName,
			SubnetID:   in.SubnetID,
			VpcID:      in.VpcID,
			IPAddress:  in.PublicIP,
			Groups:     s.groupSet(st, in.SecurityGroupIDs),
		}
		if !in.LaunchTime.IsZero() {
			x.LaunchTime = in.LaunchTime.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		if len(in.Tags) > 0 {
			tags := &itemSet[xmlTag]{}
			for _, k := range slices.Sorted(maps.Keys(in.Tags)) {
				tags.Items = append(tags.Items, xmlTag{Key: k, Value: in.Tags[k]})
			}
			x.Tags = tags
		}
		resp.Reservations.Items = append(resp.Reservations.Items, xmlReservation{
			ReservationID: fakeID("r-", r.account, in.ID),
			OwnerID:       r.account,
			Instances:     items([]xmlInstance{x}),
		})
	}
	return resp, nil
}

// groupSet returns the groups of ids, named when st knows them.
func (s *Server) groupSet(st *ec2State, ids []string) itemSet[xmlGroup] {
	var gs itemSet[xmlGroup]
	for _, id := range ids {
		g := xmlGroup{GroupID: id}
		if i := slices.IndexFunc(st.groups, func(sg SecurityGroup) bool { return sg.ID == id }); i >= 0 {
			g.GroupName = st.groups[i].Name
		}
		gs.Items = append(gs.Items, g)
	}
	return gs
}

// DescribeInstanceAttribute

type describeInstanceAttributeResponse struct {
	RequestID  string             `xml:"requestId"`
	InstanceID string             `xml:"instanceId"`
	UserData   *xmlAttributeValue `xml:"userData,omitempty"`
	Groups     *itemSet[xmlGroup] `xml:"groupSet,omitempty"`
}

type xmlAttributeValue struct {
	Value string `xml:"value,omitempty"`
}

// instanceAttributes are the valid values of the Attribute parameter.
var instanceAttributes = []string{
	"instanceType", "kernel", "ramdisk", "userData", "disableApiTermination",
	"instanceInitiatedShutdownBehavior", "rootDeviceName", "blockDeviceMapping",
	"productCodes", "sourceDestCheck", "groupSet", "ebsOptimized",
	"sriovNetSupport", "enaSupport", "enclaveOptions", "disableApiStop",
}

// describeInstanceAttribute answers userData and groupSet; other valid
// attributes get an answer with just the instance id.
func (s *Server) describeInstanceAttribute(r *request) (any, error) {
	id, attr := r.form.Get("InstanceId"), r.form.Get("Attribute")
	switch {
	case id == "":
		return nil, errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter instanceId")
	case attr == "":
		return nil, errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter attribute")
	case !slices.Contains(instanceAttributes, attr):
		return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	if err := checkIDs([]string{id}, "InvalidInstanceID.Malformed", "i-"); err != nil {
		return nil, err
	}
	st := s.region(r.account, r.region)
	i := slices.IndexFunc(st.instances, func(in Instance) bool { return in.ID == id })
	if i < 0 {
		return nil, notFound("InvalidInstanceID.NotFound", "instance ID", []string{id}, false)
	}
	in := st.instances[i]
	resp := &describeInstanceAttributeResponse{RequestID: r.id, InstanceID: id}
	switch attr {
	case "userData":
		resp.UserData = &xmlAttributeValue{}
		if len(in.UserData) > 0 {
			resp.UserData.Value = base64.StdEncoding.EncodeToString(in.UserData)
		}
	case "groupSet":
		gs := s.groupSet(st, in.SecurityGroupIDs)
		resp.Groups = &gs
	}
	return resp, nil
}

// DescribeSecurityGroups

type describeSecurityGroupsResponse struct {
	RequestID string                    `xml:"requestId"`
	Groups    itemSet[xmlSecurityGroup] `xml:"securityGroupInfo"`
	NextToken string                    `xml:"nextToken,omitempty"`
}

type xmlSecurityGroup struct {
	OwnerID     string                 `xml:"ownerId"`
	GroupID     string                 `xml:"groupId"`
	GroupName   string                 `xml:"groupName"`
	Description string                 `xml:"groupDescription"`
	VpcID       string                 `xml:"vpcId,omitempty"`
	Ingress     itemSet[xmlPermission] `xml:"ipPermissions"`
	Egress      itemSet[xmlPermission] `xml:"ipPermissionsEgress"`
}

type xmlPermission struct {
	Protocol      string                `xml:"ipProtocol"`
	FromPort      *int32                `xml:"fromPort,omitempty"`
	ToPort        *int32                `xml:"toPort,omitempty"`
	Groups        itemSet[xmlGroupPair] `xml:"groups"`
	IPRanges      itemSet[xmlIPRange]   `xml:"ipRanges"`
	IPv6Ranges    itemSet[xmlIPv6Range] `xml:"ipv6Ranges"`
	PrefixListIDs struct{}              `xml:"prefixListIds"`
}

type xmlGroupPair struct {
	UserID  string `xml:"userId"`
	GroupID string `xml:"groupId"`
}

type xmlIPRange struct {
	CIDR string `xml:"cidrIp"`
}

type xmlIPv6Range struct {
	CIDR string `xml:"cidrIpv6"`
}

var groupAttrs = attrs[SecurityGroup]{
	"group-id":    func(g SecurityGroup) []string { return one(g.ID) },
	"group-name":  func(g SecurityGroup) []string { return one(g.Name) },
	"description": func(g SecurityGroup) []string { return one(g.Description) },
	"owner-id":    func(g SecurityGroup) []string { return one(g.OwnerID) },
	"vpc-id":      func(g SecurityGroup) []string { return one(g.VpcID) },
}

func (s *Server) describeSecurityGroups(r *request) (any, error) {
	all := s.region(r.account, r.region).groups
	ids, names := members(r.form, "GroupId"), members(r.form, "GroupName")
	if err := checkIDs(ids, "InvalidGroupId.Malformed", "sg-"); err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		var missing []string
		all, missing = byIDs(all, ids, func(g SecurityGroup) string { return g.ID })
		if len(missing) > 0 {
			return nil, notFound("InvalidGroup.NotFound", "security group", missing, false)
		}
	}
	if len(names) > 0 {
		var missing []string
		all, missing = byIDs(all, names, func(g SecurityGroup) string { return g.Name })
		if len(missing) > 0 {
			return nil, notFound("InvalidGroup.NotFound", "security group", missing, false)
		}
	}
	all, err := filterItems(all, filters(r), groupAttrs, nil)
	if err != nil {
		return nil, err
	}
	resp := &describeSecurityGroupsResponse{RequestID: r.id}
	if len(ids) == 0 && len(names) == 0 {
		if all, resp.NextToken, err = ec2Page(s, r, all); err != nil {
			return nil, err
		}
	}
	for _, g := range all {
		resp.Groups.Items = append(resp.Groups.Items, xmlSecurityGroup{
			OwnerID:     g.OwnerID,
			GroupID:     g.ID,
			GroupName:   g.Name,
			Description: g.Description,
			VpcID:       g.VpcID,
			Ingress:     xmlPermissions(g.Ingress, g.OwnerID),
			Egress:      xmlPermissions(g.Egress, g.OwnerID),
		})
	}
	return resp, nil
}

func xmlPermissions(ps []Permission, owner string) itemSet[xmlPermission] {
	var set itemSet[xmlPermission]
	for _, p := range ps {
		x := xmlPermission{Protocol: p.Protocol}
		if p.Protocol != "-1" {
			x.FromPort, x.ToPort = &p.FromPort, &p.ToPort
		}
		for _, g := range p.GroupIDs {
			x.Groups.Items = append(x.Groups.Items, xmlGroupPair{UserID: owner, GroupID: g})
		}
		for _, c := range p.CIDRs {
			x.IPRanges.Items = append(x.IPRanges.Items, xmlIPRange{CIDR: c})
		}
		for _, c := range p.IPv6CIDRs {
			x.IPv6Ranges.Items = append(x.IPv6Ranges.Items, xmlIPv6Range{CIDR: c})
		}
		set.Items = append(set.Items, x)
	}
	return set
}

// DescribeSubnets

type describeSubnetsResponse struct {
	RequestID string             `xml:"requestId"`
	Subnets   itemSet[xmlSubnet] `xml:"subnetSet"`
	NextToken string             `xml:"nextToken,omitempty"`
}

type xmlSubnet struct {
	SubnetID     string `xml:"subnetId"`
	SubnetArn    string `xml:"subnetArn"`
	State        string `xml:"state"`
	VpcID        string `xml:"vpcId,omitempty"`
	OwnerID      string `xml:"ownerId"`
	CIDR         string `xml:"cidrBlock"`
	DefaultForAz bool   `xml:"defaultForAz"`
	MapPublicIP  bool   `xml:"mapPublicIpOnLaunch"`
}

var subnetAttrs = attrs[Subnet]{
	"subnet-id":               func(x Subnet) []string { return one(x.ID) },
	"vpc-id":                  func(x Subnet) []string { return one(x.VpcID) },
	"cidr-block":              func(x Subnet) []string { return one(x.CIDR) },
	"map-public-ip-on-launch": func(x Subnet) []string { return one(strconv.FormatBool(x.MapPublicIP)) },
	"state":                   func(Subnet) []string { return one("available") },
}

func (s *Server) describeSubnets(r *request) (any, error) {
	all := s.region(r.account, r.region).subnets
	ids := members(r.form, "SubnetId")
	if err := checkIDs(ids, "InvalidSubnetID.Malformed", "subnet-"); err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		var missing []string
		all, missing = byIDs(all, ids, func(x Subnet) string { return x.ID })
		if len(missing) > 0 {
			return nil, notFound("InvalidSubnetID.NotFound", "subnet ID", missing, false)
		}
	}
	all, err := filterItems(all, filters(r), subnetAttrs, nil)
	if err != nil {
		return nil, err
	}
	resp := &describeSubnetsResponse{RequestID: r.id}
	if len(ids) == 0 {
		if all, resp.NextToken, err = ec2Page(s, r, all); err != nil {
			return nil, err
		}
	}
	for _, x := range all {
		resp.Subnets.Items = append(resp.Subnets.Items, xmlSubnet{
			SubnetID:    x.ID,
			SubnetArn:   "arn:aws:ec2:" + r.region + ":" + r.account + ":subnet/" + x.ID,
			State:       "available",
			VpcID:       x.VpcID,
			OwnerID:     r.account,
			CIDR:        x.CIDR,
			MapPublicIP: x.MapPublicIP,
		})
	}
	return resp, nil
}

// DescribeRouteTables

type describeRouteTablesResponse struct {
	RequestID string                 `xml:"requestId"`
	Tables    itemSet[xmlRouteTable] `xml:"routeTableSet"`
	NextToken string                 `xml:"nextToken,omitempty"`
}

type xmlRouteTable struct {
	RouteTableID string                  `xml:"routeTableId"`
	VpcID        string                  `xml:"vpcId,omitempty"`
	OwnerID      string                  `xml:"ownerId"`
	Routes       itemSet[xmlRoute]       `xml:"routeSet"`
	Associations itemSet[xmlAssociation] `xml:"associationSet"`
	Vgws         struct{}                `xml:"propagatingVgwSet"`
	Tags         struct{}                `xml:"tagSet"`
}

type xmlRoute struct {
	DestinationCIDR     string `xml:"destinationCidrBlock,omitempty"`
	DestinationIPv6CIDR string `xml:"destinationIpv6CidrBlock,omitempty"`
	GatewayID           string `xml:"gatewayId,omitempty"`
	NatGatewayID        string `xml:"natGatewayId,omitempty"`
	InstanceID          string `xml:"instanceId,omitempty"`
	NetworkInterfaceID  string `xml:"networkInterfaceId,omitempty"`
	State               string `xml:"state"`
	Origin              string `xml:"origin"`
}

type xmlAssociation struct {
	AssociationID string              `xml:"routeTableAssociationId"`
	RouteTableID  string              `xml:"routeTableId"`
	SubnetID      string              `xml:"subnetId,omitempty"`
	Main          bool                `xml:"main"`
	State         xmlAssociationState `xml:"associationState"`
}

type xmlAssociationState struct {
	State string `xml:"state"`
}

var tableAttrs = attrs[RouteTable]{
	"route-table-id":        func(t RouteTable) []string { return one(t.ID) },
	"vpc-id":                func(t RouteTable) []string { return one(t.VpcID) },
	"association.subnet-id": func(t RouteTable) []string { return t.SubnetIDs },
	"association.main": func(t RouteTable) []string {
		// As in EC2, a table without associations matches neither value.
		var vs []string
		if t.Main {
			vs = append(vs, "true")
		}
		if len(t.SubnetIDs) > 0 {
			vs = append(vs, "false")
		}
		return vs
	},
	"association.route-table-association-id": func(t RouteTable) []string {
		var vs []string
		for _, a := range associations(t) {
			vs = append(vs, a.AssociationID)
		}
		return vs
	},
	"route.destination-cidr-block": func(t RouteTable) []string {
		var vs []string
		for _, rt := range t.Routes {
			vs = append(vs, rt.DestinationCIDR)
		}
		return vs
	},
	"route.gateway-id": func(t RouteTable) []string {
		var vs []string
		for _, rt := range t.Routes {
			vs = append(vs, rt.GatewayID)
		}
		return vs
	},
}

// associations returns the main association (if any) and one per subnet.
func associations(t RouteTable) []xmlAssociation {
	var as []xmlAssociation
	ok := xmlAssociationState{State: "associated"}
	if t.Main {
		as = append(as, xmlAssociation{AssociationID: fakeID("rtbassoc-", t.ID, "main"), RouteTableID: t.ID, Main: true, State: ok})
	}
	for _, sn := range t.SubnetIDs {
		as = append(as, xmlAssociation{AssociationID: fakeID("rtbassoc-", t.ID, sn), RouteTableID: t.ID, SubnetID: sn, State: ok})
	}
	return as
}

func (s *Server) describeRouteTables(r *request) (any, error) {
	all := s.region(r.account, r.region).tables
	ids := members(r.form, "RouteTableId")
	if err := checkIDs(ids, "InvalidRouteTableID.Malformed", "rtb-"); err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		var missing []string
		all, missing = byIDs(all, ids, func(t RouteTable) string { return t.ID })
		if len(missing) > 0 {
			return nil, notFound("InvalidRouteTableID.NotFound", "routeTable ID", missing, false)
		}
	}
	all, err := filterItems(all, filters(r), tableAttrs, nil)
	if err != nil {
		return nil, err
	}
	resp := &describeRouteTablesResponse{RequestID: r.id}
	if len(ids) == 0 {
		if all, resp.NextToken, err = ec2Page(s, r, all); err != nil {
			return nil, err
		}
	}
	for _, t := range all {
		x := xmlRouteTable{RouteTableID: t.ID, VpcID: t.VpcID, OwnerID: r.account, Associations: items(associations(t))}
		for _, rt := range t.Routes {
			state, origin := rt.State, "CreateRoute"
			if state == "" {
				state = "active"
			}
			if rt.GatewayID == "local" {
				origin = "CreateRouteTable"
			}
			x.Routes.Items = append(x.Routes.Items, xmlRoute{
				DestinationCIDR:     rt.DestinationCIDR,
				DestinationIPv6CIDR: rt.DestinationIPv6CIDR,
				GatewayID:           rt.GatewayID,
				NatGatewayID:        rt.NatGatewayID,
				InstanceID:          rt.InstanceID,
				NetworkInterfaceID:  rt.NetworkInterfaceID,
				State:               state,
				Origin:              origin,
			})
		}
		resp.Tables.Items = append(resp.Tables.Items, x)
	}
	return resp, nil
}
