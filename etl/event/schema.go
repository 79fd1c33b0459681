// Package event holds the fixed Arrow schema of a CloudTrail event and the
// decoder that turns one CloudTrail log object ({"Records":[...]}) into
// record batches of that schema.
//
// Top-level CloudTrail fields are typed, userIdentity is flattened, and the
// JSON sub-documents whose shape varies between APIs (requestParameters,
// responseElements, additionalEventData, resources, serviceEventDetails,
// tlsDetails) are kept as raw JSON text.
package event

import "github.com/apache/arrow-go/v18/arrow"

// Column names of Schema, in order. Rules in sql/rules refer to these names.
const (
	ColObjectKey                = "object_key"
	ColKeyAccount               = "key_account"
	ColKeyRegion                = "key_region"
	ColRecordIndex              = "record_index"
	ColEventVersion             = "event_version"
	ColEventTime                = "event_time"
	ColEventSource              = "event_source"
	ColEventName                = "event_name"
	ColAWSRegion                = "aws_region"
	ColSourceIPAddress          = "source_ip_address"
	ColUserAgent                = "user_agent"
	ColErrorCode                = "error_code"
	ColErrorMessage             = "error_message"
	ColRequestID                = "request_id"
	ColEventID                  = "event_id"
	ColEventType                = "event_type"
	ColEventCategory            = "event_category"
	ColRecipientAccountID       = "recipient_account_id"
	ColReadOnly                 = "read_only"
	ColManagementEvent          = "management_event"
	ColSharedEventID            = "shared_event_id"
	ColVPCEndpointID            = "vpc_endpoint_id"
	ColAPIVersion               = "api_version"
	ColUserIdentityType         = "user_identity_type"
	ColUserIdentityPrincipalID  = "user_identity_principal_id"
	ColUserIdentityARN          = "user_identity_arn"
	ColUserIdentityAccountID    = "user_identity_account_id"
	ColUserIdentityAccessKeyID  = "user_identity_access_key_id"
	ColUserIdentityUserName     = "user_identity_user_name"
	ColUserIdentityInvokedBy    = "user_identity_invoked_by"
	ColSessionIssuerType        = "session_issuer_type"
	ColSessionIssuerPrincipalID = "session_issuer_principal_id"
	ColSessionIssuerARN         = "session_issuer_arn"
	ColSessionIssuerAccountID   = "session_issuer_account_id"
	ColSessionIssuerUserName    = "session_issuer_user_name"
	ColMFAAuthenticated         = "mfa_authenticated"
	ColRequestParameters        = "request_parameters"
	ColResponseElements         = "response_elements"
	ColAdditionalEventData      = "additional_event_data"
	ColResources                = "resources"
	ColServiceEventDetails      = "service_event_details"
	ColTLSDetails               = "tls_details"
)

// Column indexes of Schema.
const (
	idxObjectKey = iota
	idxKeyAccount
	idxKeyRegion
	idxRecordIndex
	idxEventVersion
	idxEventTime
	idxEventSource
	idxEventName
	idxAWSRegion
	idxSourceIPAddress
	idxUserAgent
	idxErrorCode
	idxErrorMessage
	idxRequestID
	idxEventID
	idxEventType
	idxEventCategory
	idxRecipientAccountID
	idxReadOnly
	idxManagementEvent
	idxSharedEventID
	idxVPCEndpointID
	idxAPIVersion
	idxUserIdentityType
	idxUserIdentityPrincipalID
	idxUserIdentityARN
	idxUserIdentityAccountID
	idxUserIdentityAccessKeyID
	idxUserIdentityUserName
	idxUserIdentityInvokedBy
	idxSessionIssuerType
	idxSessionIssuerPrincipalID
	idxSessionIssuerARN
	idxSessionIssuerAccountID
	idxSessionIssuerUserName
	idxMFAAuthenticated
	idxRequestParameters
	idxResponseElements
	idxAdditionalEventData
	idxResources
	idxServiceEventDetails
	idxTLSDetails
	numColumns
)

func str(name string, nullable bool) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: nullable}
}

// Schema is the one fixed schema of every event batch. event_time is a UTC
// timestamp with microsecond precision; JSON sub-documents are strings.
var Schema = arrow.NewSchema([]arrow.Field{
	str(ColObjectKey, false),
	str(ColKeyAccount, true),
	str(ColKeyRegion, true),
	{Name: ColRecordIndex, Type: arrow.PrimitiveTypes.Int32},
	str(ColEventVersion, true),
	{Name: ColEventTime, Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	str(ColEventSource, true),
	str(ColEventName, true),
	str(ColAWSRegion, true),
	str(ColSourceIPAddress, true),
	str(ColUserAgent, true),
	str(ColErrorCode, true),
	str(ColErrorMessage, true),
	str(ColRequestID, true),
	str(ColEventID, false),
	str(ColEventType, true),
	str(ColEventCategory, true),
	str(ColRecipientAccountID, true),
	{Name: ColReadOnly, Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: ColManagementEvent, Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	str(ColSharedEventID, true),
	str(ColVPCEndpointID, true),
	str(ColAPIVersion, true),
	str(ColUserIdentityType, true),
	str(ColUserIdentityPrincipalID, true),
	str(ColUserIdentityARN, true),
	str(ColUserIdentityAccountID, true),
	str(ColUserIdentityAccessKeyID, true),
	str(ColUserIdentityUserName, true),
	str(ColUserIdentityInvokedBy, true),
	str(ColSessionIssuerType, true),
	str(ColSessionIssuerPrincipalID, true),
	str(ColSessionIssuerARN, true),
	str(ColSessionIssuerAccountID, true),
	str(ColSessionIssuerUserName, true),
	{Name: ColMFAAuthenticated, Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	str(ColRequestParameters, true),
	str(ColResponseElements, true),
	str(ColAdditionalEventData, true),
	str(ColResources, true),
	str(ColServiceEventDetails, true),
	str(ColTLSDetails, true),
}, nil)
