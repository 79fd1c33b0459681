package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ErrNotCloudTrail is returned for a JSON document that is not a CloudTrail
// log file: not an object, or without a "Records" array.
var ErrNotCloudTrail = errors.New("not a CloudTrail log document")

// maxRecordErrors is how many record errors a Result keeps (all are counted).
const maxRecordErrors = 5

// defaultBatchSize is the number of rows per record batch.
const defaultBatchSize = 8192

// Origin says where an object's records come from; it fills the object_key,
// key_account and key_region columns.
type Origin struct {
	Key     string
	Account string
	Region  string
}

// RecordError is a single CloudTrail record that could not be decoded and
// was skipped.
type RecordError struct {
	Key   string
	Index int
	Err   error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record %d of %q: %v", e.Index, e.Key, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Result is what decoding one object produced. The caller releases Batches.
type Result struct {
	Batches []arrow.RecordBatch
	Events  int            // records decoded into Batches
	Skipped int            // records that could not be decoded
	Errors  []*RecordError // the first few skipped records' reasons
}

// Release releases every batch of the result.
func (r *Result) Release() {
	for _, b := range r.Batches {
		b.Release()
	}
	r.Batches = nil
}

// Decoder decodes CloudTrail log documents. A Decoder is not safe for
// concurrent use; use one per worker.
type Decoder struct {
	mem       memory.Allocator
	batchSize int
	b         *array.RecordBuilder
}

// NewDecoder returns a decoder allocating from mem (nil: the Go allocator)
// and cutting batches of batchSize rows (0: 8192).
func NewDecoder(mem memory.Allocator, batchSize int) *Decoder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if batchSize <= 0 {
		batchSize = defaultBatchSize
	}
	return &Decoder{mem: mem, batchSize: batchSize}
}

// Decode reads one whole CloudTrail document from r. A document that is not
// valid JSON, is truncated, or is not CloudTrail fails as a whole; a single
// record that cannot be decoded is skipped and reported in the Result.
func (d *Decoder) Decode(r io.Reader, o Origin) (*Result, error) {
	if d.b == nil {
		d.b = array.NewRecordBuilder(d.mem, Schema)
	}
	res := &Result{}
	ok := false
	defer func() {
		if !ok {
			res.Release()
			d.reset()
		}
	}()
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("read document: %w", err)
		}
		name, _ := tok.(string)
		if name != "Records" || found {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fmt.Errorf("read document: %w", err)
			}
			continue
		}
		found = true
		if err := d.decodeRecords(dec, o, res); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // closing }
		return nil, fmt.Errorf("read document: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("read document: trailing data after the document")
	}
	if !found {
		return nil, ErrNotCloudTrail
	}
	d.flush(res)
	ok = true
	return res, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return fmt.Errorf("read document: empty: %w", ErrNotCloudTrail)
		}
		return fmt.Errorf("read document: %w", err)
	}
	if tok != want {
		return fmt.Errorf("document starts with %v, want %q: %w", tok, want, ErrNotCloudTrail)
	}
	return nil
}

func (d *Decoder) decodeRecords(dec *json.Decoder, o Origin, res *Result) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("read Records: %w", err)
	}
	if tok == nil { // "Records": null
		return nil
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("Records is %T, want an array: %w", tok, ErrNotCloudTrail)
	}
	var raw json.RawMessage
	for i := 0; dec.More(); i++ {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("read record %d: %w", i, err)
		}
		var rec record
		err := rec.parse(raw)
		if err != nil {
			res.Skipped++
			if len(res.Errors) < maxRecordErrors {
				res.Errors = append(res.Errors, &RecordError{Key: o.Key, Index: i, Err: err})
			}
			continue
		}
		d.append(o, i, &rec)
		res.Events++
		if d.b.Field(0).Len() >= d.batchSize {
			d.flush(res)
		}
	}
	if _, err := dec.Token(); err != nil { // closing ]
		return fmt.Errorf("read Records: %w", err)
	}
	return nil
}

func (d *Decoder) flush(res *Result) {
	if d.b.Field(0).Len() == 0 {
		return
	}
	res.Batches = append(res.Batches, d.b.NewRecordBatch())
}

func (d *Decoder) reset() {
	if d.b != nil && d.b.Field(0).Len() > 0 {
		d.b.NewRecordBatch().Release()
	}
}

// Release frees the decoder's builders.
func (d *Decoder) Release() {
	if d.b != nil {
		d.b.Release()
		d.b = nil
	}
}

// record is one CloudTrail record as far as the schema types it.
type record struct {
	EventVersion       *string         `json:"eventVersion"`
	UserIdentity       *userIdentity   `json:"userIdentity"`
	EventTime          *string         `json:"eventTime"`
	EventSource        *string         `json:"eventSource"`
	EventName          *string         `json:"eventName"`
	AWSRegion          *string         `json:"awsRegion"`
	SourceIPAddress    *string         `json:"sourceIPAddress"`
	UserAgent          *string         `json:"userAgent"`
	ErrorCode          *string         `json:"errorCode"`
	ErrorMessage       *string         `json:"errorMessage"`
	RequestID          *string         `json:"requestID"`
	EventID            *string         `json:"eventID"`
	EventType          *string         `json:"eventType"`
	EventCategory      *string         `json:"eventCategory"`
	RecipientAccountID *string         `json:"recipientAccountId"`
	ReadOnly           *looseBool      `json:"readOnly"`
	ManagementEvent    *looseBool      `json:"managementEvent"`
	SharedEventID      *string         `json:"sharedEventID"`
	VPCEndpointID      *string         `json:"vpcEndpointId"`
	APIVersion         *string         `json:"apiVersion"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	AdditionalData     json.RawMessage `json:"additionalEventData"`
	Resources          json.RawMessage `json:"resources"`
	ServiceEvent       json.RawMessage `json:"serviceEventDetails"`
	TLSDetails         json.RawMessage `json:"tlsDetails"`

	time time.Time
}

type userIdentity struct {
	Type           *string         `json:"type"`
	PrincipalID    *string         `json:"principalId"`
	ARN            *string         `json:"arn"`
	AccountID      *string         `json:"accountId"`
	AccessKeyID    *string         `json:"accessKeyId"`
	UserName       *string         `json:"userName"`
	InvokedBy      *string         `json:"invokedBy"`
	SessionContext *sessionContext `json:"sessionContext"`
}

type sessionContext struct {
	SessionIssuer *struct {
		Type        *string `json:"type"`
		PrincipalID *string `json:"principalId"`
		ARN         *string `json:"arn"`
		AccountID   *string `json:"accountId"`
		UserName    *string `json:"userName"`
	} `json:"sessionIssuer"`
	Attributes *struct {
		MFAAuthenticated *looseBool `json:"mfaAuthenticated"`
	} `json:"attributes"`
}

// looseBool accepts true/false and the strings "true"/"false" (CloudTrail
// writes mfaAuthenticated as a string).
type looseBool bool

func (b *looseBool) UnmarshalJSON(p []byte) error {
	switch string(bytes.ToLower(p)) {
	case "true", `"true"`:
		*b = true
	case "false", `"false"`:
		*b = false
	default:
		return fmt.Errorf("want a boolean, got %s", truncate(p, 40))
	}
	return nil
}

func truncate(p []byte, n int) string {
	if len(p) > n {
		return string(p[:n]) + "..."
	}
	return string(p)
}

func (r *record) parse(raw []byte) error {
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("record is not a JSON object")
	}
	if err := json.Unmarshal(raw, r); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("field %s: unexpected %s", te.Field, te.Value)
		}
		return err
	}
	if r.EventID == nil || *r.EventID == "" {
		return errors.New("no eventID")
	}
	if r.EventTime == nil {
		return errors.New("no eventTime")
	}
	t, err := time.Parse(time.RFC3339Nano, *r.EventTime)
	if err != nil {
		return fmt.Errorf("eventTime %q is not RFC 3339", *r.EventTime)
	}
	r.time = t.UTC()
	return nil
}

func (d *Decoder) append(o Origin, i int, r *record) {
	f := d.b.Fields()
	f[idxObjectKey].(*array.StringBuilder).Append(o.Key)
	appendOptString(f[idxKeyAccount], nonEmpty(o.Account))
	appendOptString(f[idxKeyRegion], nonEmpty(o.Region))
	f[idxRecordIndex].(*array.Int32Builder).Append(int32(i))
	appendOptString(f[idxEventVersion], r.EventVersion)
	f[idxEventTime].(*array.TimestampBuilder).Append(arrow.Timestamp(r.time.UnixMicro()))
	appendOptString(f[idxEventSource], r.EventSource)
	appendOptString(f[idxEventName], r.EventName)
	appendOptString(f[idxAWSRegion], r.AWSRegion)
	appendOptString(f[idxSourceIPAddress], r.SourceIPAddress)
	appendOptString(f[idxUserAgent], r.UserAgent)
	appendOptString(f[idxErrorCode], r.ErrorCode)
	appendOptString(f[idxErrorMessage], r.ErrorMessage)
	appendOptString(f[idxRequestID], r.RequestID)
	f[idxEventID].(*array.StringBuilder).Append(*r.EventID)
	appendOptString(f[idxEventType], r.EventType)
	appendOptString(f[idxEventCategory], r.EventCategory)
	appendOptString(f[idxRecipientAccountID], r.RecipientAccountID)
	appendOptBool(f[idxReadOnly], r.ReadOnly)
	appendOptBool(f[idxManagementEvent], r.ManagementEvent)
	appendOptString(f[idxSharedEventID], r.SharedEventID)
	appendOptString(f[idxVPCEndpointID], r.VPCEndpointID)
	appendOptString(f[idxAPIVersion], r.APIVersion)

	var ui userIdentity
	if r.UserIdentity != nil {
		ui = *r.UserIdentity
	}
	appendOptString(f[idxUserIdentityType], ui.Type)
	appendOptString(f[idxUserIdentityPrincipalID], ui.PrincipalID)
	appendOptString(f[idxUserIdentityARN], ui.ARN)
	appendOptString(f[idxUserIdentityAccountID], ui.AccountID)
	appendOptString(f[idxUserIdentityAccessKeyID], ui.AccessKeyID)
	appendOptString(f[idxUserIdentityUserName], ui.UserName)
	appendOptString(f[idxUserIdentityInvokedBy], ui.InvokedBy)
	var issType, issPrincipal, issARN, issAccount, issUser *string
	var mfa *looseBool
	if sc := ui.SessionContext; sc != nil {
		if si := sc.SessionIssuer; si != nil {
			issType, issPrincipal, issARN, issAccount, issUser = si.Type, si.PrincipalID, si.ARN, si.AccountID, si.UserName
		}
		if sc.Attributes != nil {
			mfa = sc.Attributes.MFAAuthenticated
		}
	}
	appendOptString(f[idxSessionIssuerType], issType)
	appendOptString(f[idxSessionIssuerPrincipalID], issPrincipal)
	appendOptString(f[idxSessionIssuerARN], issARN)
	appendOptString(f[idxSessionIssuerAccountID], issAccount)
	appendOptString(f[idxSessionIssuerUserName], issUser)
	appendOptBool(f[idxMFAAuthenticated], mfa)

	appendRaw(f[idxRequestParameters], r.RequestParameters)
	appendRaw(f[idxResponseElements], r.ResponseElements)
	appendRaw(f[idxAdditionalEventData], r.AdditionalData)
	appendRaw(f[idxResources], r.Resources)
	appendRaw(f[idxServiceEventDetails], r.ServiceEvent)
	appendRaw(f[idxTLSDetails], r.TLSDetails)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func appendOptString(b array.Builder, s *string) {
	sb := b.(*array.StringBuilder)
	if s == nil {
		sb.AppendNull()
		return
	}
	sb.Append(*s)
}

func appendOptBool(b array.Builder, v *looseBool) {
	bb := b.(*array.BooleanBuilder)
	if v == nil {
		bb.AppendNull()
		return
	}
	bb.Append(bool(*v))
}

// appendRaw stores a JSON sub-document as text; absent and JSON null are NULL.
func appendRaw(b array.Builder, raw json.RawMessage) {
	sb := b.(*array.StringBuilder)
	if len(raw) == 0 || string(raw) == "null" {
		sb.AppendNull()
		return
	}
	sb.BinaryBuilder.Append(raw)
}
