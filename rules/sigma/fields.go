package sigma

import (
	"fmt"
	"regexp"
	"strings"
)

// columns maps Sigma's CloudTrail field names to the columns of the view
// events (etl/event's schema).
var columns = map[string]string{
	"eventVersion":             "event_version",
	"eventTime":                "event_time",
	"eventSource":              "event_source",
	"eventName":                "event_name",
	"awsRegion":                "aws_region",
	"sourceIPAddress":          "source_ip_address",
	"userAgent":                "user_agent",
	"errorCode":                "error_code",
	"errorMessage":             "error_message",
	"requestID":                "request_id",
	"eventID":                  "event_id",
	"eventType":                "event_type",
	"eventCategory":            "event_category",
	"recipientAccountId":       "recipient_account_id",
	"readOnly":                 "read_only",
	"managementEvent":          "management_event",
	"sharedEventID":            "shared_event_id",
	"vpcEndpointId":            "vpc_endpoint_id",
	"apiVersion":               "api_version",
	"userIdentity.type":        "user_identity_type",
	"userIdentity.principalId": "user_identity_principal_id",
	"userIdentity.arn":         "user_identity_arn",
	"userIdentity.accountId":   "user_identity_account_id",
	"userIdentity.accessKeyId": "user_identity_access_key_id",
	"userIdentity.userName":    "user_identity_user_name",
	"userIdentity.invokedBy":   "user_identity_invoked_by",
	"userIdentity.sessionContext.sessionIssuer.type":          "session_issuer_type",
	"userIdentity.sessionContext.sessionIssuer.principalId":   "session_issuer_principal_id",
	"userIdentity.sessionContext.sessionIssuer.arn":           "session_issuer_arn",
	"userIdentity.sessionContext.sessionIssuer.accountId":     "session_issuer_account_id",
	"userIdentity.sessionContext.sessionIssuer.userName":      "session_issuer_user_name",
	"userIdentity.sessionContext.attributes.mfaAuthenticated": "mfa_authenticated",
}

// jsonColumns are the JSON sub-documents a field may reach into, by the
// Sigma field's first segment.
var jsonColumns = map[string]string{
	"requestParameters":   "request_parameters",
	"responseElements":    "response_elements",
	"additionalEventData": "additional_event_data",
	"serviceEventDetails": "service_event_details",
	"tlsDetails":          "tls_details",
}

// typed are the columns that are not text: compared through their text.
var typed = map[string]bool{"event_time": true, "read_only": true, "management_event": true, "mfa_authenticated": true}

var segmentRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// fieldRef is where a Sigma field is in fullstop's event columns: a
// column, or an object path in a JSON column's text (none: the whole
// document, as JSON text, for contains).
type fieldRef struct {
	col  string
	path []string
}

// resolve finds a Sigma field's column and path.
func resolve(field string) (fieldRef, error) {
	if c, ok := columns[field]; ok {
		return fieldRef{col: c}, nil
	}
	head, rest, hasPath := strings.Cut(field, ".")
	c, found := jsonColumns[head]
	if !found {
		return fieldRef{}, fmt.Errorf("field %q has no mapping to fullstop's event columns: %w", field, ErrUnsupported)
	}
	if !hasPath {
		return fieldRef{col: c}, nil
	}
	segs := strings.Split(rest, ".")
	for _, s := range segs {
		if !segmentRE.MatchString(s) {
			return fieldRef{}, fmt.Errorf("field %q: the path segment %q has characters the compiler does not quote: %w", field, s, ErrUnsupported)
		}
	}
	return fieldRef{col: c, path: segs}, nil
}

// column returns the SQL expression of a Sigma field, as text.
func column(field string) (string, error) {
	f, err := resolve(field)
	switch {
	case err != nil:
		return "", err
	case f.path != nil:
		return fmt.Sprintf("json_extract_string(%s, '$.%s')", f.col, strings.Join(f.path, ".")), nil
	case typed[f.col]:
		return "lower(" + f.col + "::VARCHAR)", nil
	}
	return f.col, nil
}

// Fields returns the Sigma field names the compiler maps to a column, and
// the prefixes of the JSON sub-documents, for the documentation.
func Fields() (direct map[string]string, documents map[string]string) {
	d := make(map[string]string, len(columns))
	for k, v := range columns {
		d[k] = v
	}
	j := make(map[string]string, len(jsonColumns))
	for k, v := range jsonColumns {
		j[k+".*"] = v
	}
	return d, j
}
