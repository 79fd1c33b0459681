package awstest

import (
	"maps"
	"slices"
)

// tagItem is one tag of a resource, as DescribeTags lists it.
type tagItem struct {
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Key          string `xml:"key"`
	Value        string `xml:"value"`
}

var tagAttrs = attrs[tagItem]{
	"resource-id":   func(t tagItem) []string { return one(t.ResourceID) },
	"resource-type": func(t tagItem) []string { return one(t.ResourceType) },
	"key":           func(t tagItem) []string { return one(t.Key) },
	"value":         func(t tagItem) []string { return one(t.Value) },
}

type describeTagsResponse struct {
	RequestID string           `xml:"requestId"`
	Tags      itemSet[tagItem] `xml:"tagSet"`
	NextToken string           `xml:"nextToken,omitempty"`
}

// describeTags lists the tags of the account's images and instances in
// the region.
func (s *Server) describeTags(r *request) (any, error) {
	st := s.region(r.account, r.region)
	var all []tagItem
	for _, img := range st.images {
		for _, k := range slices.Sorted(maps.Keys(img.Tags)) {
			all = append(all, tagItem{ResourceID: img.ID, ResourceType: "image", Key: k, Value: img.Tags[k]})
		}
	}
	for _, in := range st.instances {
		for _, k := range slices.Sorted(maps.Keys(in.Tags)) {
			all = append(all, tagItem{ResourceID: in.ID, ResourceType: "instance", Key: k, Value: in.Tags[k]})
		}
	}
	all, err := filterItems(all, filters(r), tagAttrs, nil)
	if err != nil {
		return nil, err
	}
	resp := describeTagsResponse{RequestID: r.id}
	if all, resp.NextToken, err = ec2Page(s, r, all); err != nil {
		return nil, err
	}
	resp.Tags = items(all)
	return resp, nil
}
