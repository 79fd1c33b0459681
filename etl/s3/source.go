// Package s3 is an etl.Source over an Amazon S3 bucket or an S3-compatible
// server (MinIO ...), using aws-sdk-go-v2.
//
// Keys are full object keys in the bucket. Credentials come from the
// standard AWS chain (environment, shared config and credentials files, SSO,
// web identity, container and instance roles).
//
// # Credentials check
//
// New retrieves the credentials once, bounded by Config.CredentialsTimeout,
// so a run without any fails at start-up, before any work, with an error
// that wraps ErrNoCredentials and names the settings to fix. The instance
// metadata service (IMDS) is asked with short timeouts and one retry, so a
// machine that is not an EC2 instance does not wait long for it.
//
// # Timeouts
//
// No request to S3 can hang:
//
//   - Connecting (TCP dial and TLS handshake) is bounded by
//     Config.ConnectTimeout.
//   - Each attempt waits at most Config.RequestTimeout for the response
//     headers, and every read from a connection (headers and bodies) that
//     gets no data for Config.ReadTimeout fails, so a body that stops
//     arriving fails its Read; a slow but progressing body does not.
//   - An operation - one LIST page, or a GET until its headers - with its
//     retries and the waits between them, is bounded by (MaxRetries+1) x
//     RequestTimeout. The body an Open returns is not bounded in total: it
//     stays readable until it is closed (and ReadTimeout bounds each wait).
package s3

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/fullstop-audit/fullstop/etl"
)

var _ etl.Source = (*Source)(nil)

// Defaults of Config.
const (
	DefaultRegion     = "us-east-1"
	DefaultMaxRetries = 4
	// maxRetryBackoff bounds the wait between two attempts of a request.
	maxRetryBackoff           = 3 * time.Second
	DefaultConnectTimeout     = 10 * time.Second
	DefaultRequestTimeout     = time.Minute
	DefaultCredentialsTimeout = 5 * time.Second
)

// Timeouts and retries of the instance metadata service (IMDS) client used
// for instance-role credentials. It answers within milliseconds on an EC2
// instance; elsewhere its address does not answer at all.
const (
	imdsMaxAttempts = 2
	imdsMaxBackoff  = 200 * time.Millisecond
)

// ErrNoCredentials is wrapped by New's error when the AWS credential chain
// yields no credentials.
var ErrNoCredentials = errors.New("no AWS credentials")

// Config configures a Source. Zero fields get the documented defaults.
type Config struct {
	// Bucket is the bucket name; required.
	Bucket string
	// Prefix is the CloudTrail key prefix within the bucket (the path of
	// s3://bucket/prefix). The source does not restrict itself to it: it
	// is shown by String, and is what an etl.Lister's Prefix should be.
	Prefix string
	// Region is the bucket's region; default: the AWS environment's
	// (AWS_REGION, shared config), else DefaultRegion.
	Region string
	// Endpoint is the base URL of an S3-compatible server, e.g.
	// "http://127.0.0.1:9000"; default: Amazon S3.
	Endpoint string
	// PathStyle addresses buckets as a path element (endpoint/bucket/key)
	// instead of a host name; S3-compatible servers usually need it.
	PathStyle bool
	// MaxRetries is how often a failed request is retried; default
	// DefaultMaxRetries; negative means never.
	MaxRetries int
	// MaxKeys is the number of keys per LIST page; default (0): the
	// server's, 1000 on S3. Smaller values are for tests.
	MaxKeys int32

	// ConnectTimeout bounds the TCP dial and the TLS handshake of a
	// connection to S3; default DefaultConnectTimeout (10s).
	ConnectTimeout time.Duration
	// RequestTimeout bounds each attempt's wait for the response headers;
	// default DefaultRequestTimeout (1m). An operation (a LIST page, or a
	// GET until its headers), retries included, is bounded by
	// (MaxRetries+1) x RequestTimeout.
	RequestTimeout time.Duration
	// ReadTimeout is the longest a read from a connection may go without
	// data, for headers and bodies alike: a Read of an object's body that
	// gets nothing for ReadTimeout fails. Default: RequestTimeout.
	ReadTimeout time.Duration
	// CredentialsTimeout bounds New's retrieval of the credentials;
	// default DefaultCredentialsTimeout (5s).
	CredentialsTimeout time.Duration
}

// Source reads objects from an S3 bucket. It is safe for concurrent use.
type Source struct {
	client *awss3.Client
	cfg    Config
	opTime time.Duration // bound on one operation, retries included
	lists  atomic.Int64
	gets   atomic.Int64
}

// ParseURL splits "s3://bucket[/prefix]" into the bucket and the prefix
// (without leading or trailing "/").
func ParseURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("parse s3 url %q: want s3://bucket[/prefix]", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if err := checkBucket(bucket); err != nil {
		return "", "", fmt.Errorf("parse s3 url %q: %w", u, err)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// checkBucket checks a bucket name against S3's naming rules: 3 to 63
// lowercase letters, digits, dots and hyphens, starting and ending with a
// letter or digit.
func checkBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q: want 3 to 63 characters", b)
	}
	for i := range len(b) {
		c := b[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !alnum && ((c != '.' && c != '-') || i == 0 || i == len(b)-1) {
			return fmt.Errorf("bucket name %q: want lowercase letters, digits, dots and hyphens", b)
		}
	}
	return nil
}

// New returns a source for cfg. It loads the AWS configuration and
// retrieves the credentials (from the environment, files, or a role
// service such as the instance metadata service), bounded by
// cfg.CredentialsTimeout; when there are none, the error wraps
// ErrNoCredentials. It makes no request to S3.
func New(ctx context.Context, cfg Config) (*Source, error) {
	if err := checkBucket(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("s3 source: %w", err)
	}
	if cfg.MaxKeys < 0 {
		return nil, fmt.Errorf("s3 source: max keys must not be negative, not %d", cfg.MaxKeys)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"connect timeout", cfg.ConnectTimeout},
		{"request timeout", cfg.RequestTimeout},
		{"read timeout", cfg.ReadTimeout},
		{"credentials timeout", cfg.CredentialsTimeout},
	} {
		if d.v < 0 {
			return nil, fmt.Errorf("s3 source: %s must not be negative, not %v", d.name, d.v)
		}
	}
	cfg.ConnectTimeout = cmp.Or(cfg.ConnectTimeout, DefaultConnectTimeout)
	cfg.RequestTimeout = cmp.Or(cfg.RequestTimeout, DefaultRequestTimeout)
	cfg.ReadTimeout = cmp.Or(cfg.ReadTimeout, cfg.RequestTimeout)
	cfg.CredentialsTimeout = cmp.Or(cfg.CredentialsTimeout, DefaultCredentialsTimeout)
	retries := cmp.Or(cfg.MaxRetries, DefaultMaxRetries)
	s := &Source{cfg: cfg, opTime: time.Duration(max(retries, 0)+1) * cfg.RequestTimeout}

	withTimeouts := func(b *awshttp.BuildableClient) *awshttp.BuildableClient {
		return b.
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = cfg.ConnectTimeout }).
			WithTransportOptions(func(tr *http.Transport) {
				tr.TLSHandshakeTimeout = cfg.ConnectTimeout
				tr.ResponseHeaderTimeout = cfg.RequestTimeout
			}).
			WithReadTimeout(cfg.ReadTimeout)
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryMaxAttempts(max(retries, 0) + 1),
		config.WithHTTPClient(withTimeouts(awshttp.NewBuildableClient())),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	// The instance-role provider's IMDS client would otherwise retry as
	// often as S3 requests do. It is built from a first load of the
	// configuration so that it keeps the IMDS settings of the environment
	// and the shared config (endpoint, mode, IMDSv1 fallback, disabled).
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, loadError(s, err)
	}
	imdsClient := imds.NewFromConfig(base, func(o *imds.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = imdsMaxAttempts
			so.MaxBackoff = imdsMaxBackoff
		})
		o.DisableDefaultMaxBackoff = true // it would raise the backoff to 1s
	})
	opts = append(opts, config.WithEC2RoleCredentialOptions(func(o *ec2rolecreds.Options) { o.Client = imdsClient }))
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, loadError(s, err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = DefaultRegion
	}
	if err := checkCredentials(ctx, s, awsCfg.Credentials, cfg.CredentialsTimeout); err != nil {
		return nil, err
	}
	s.client = awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// The SDK waits up to 20 s between attempts; a server that is
		// down would make each object take a minute to give up on, and a
		// batch notice it late. Throttling still backs off, for less long.
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, maxRetryBackoff)
		// CloudTrail's objects carry no checksum; do not log that for
		// every GET.
		o.DisableLogOutputChecksumValidationSkipped = true
		// A defaults mode (AWS_DEFAULTS_MODE) other than legacy sets its
		// own connect timeouts on the client; ours win.
		if b, ok := o.HTTPClient.(*awshttp.BuildableClient); ok {
			o.HTTPClient = withTimeouts(b)
		}
	})
	return s, nil
}

// loadError is the error of a failed load of the AWS configuration. A
// profile that does not exist (AWS_PROFILE) means no credentials.
func loadError(s *Source, err error) error {
	var pe config.SharedConfigProfileNotExistError
	if errors.As(err, &pe) {
		return &noCredentialsError{url: s.String(), cause: err}
	}
	return fmt.Errorf("s3 source: load aws config: %w", err)
}

// checkCredentials retrieves the credentials of p within timeout.
func checkCredentials(ctx context.Context, s *Source, p aws.CredentialsProvider, timeout time.Duration) error {
	if p == nil {
		return &noCredentialsError{url: s.String(), cause: errors.New("no credential provider")}
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := p.Retrieve(cctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("s3 source: retrieve aws credentials: %w", context.Cause(ctx))
	case cctx.Err() != nil:
		err = fmt.Errorf("no answer within %v: %w", timeout, err)
	}
	return &noCredentialsError{url: s.String(), cause: err}
}

// noCredentialsError is New's error when there are no credentials. It is
// one line and wraps both ErrNoCredentials and the cause.
type noCredentialsError struct {
	url   string
	cause error
}

func (e *noCredentialsError) Error() string {
	return fmt.Sprintf("%v for %s: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "+
		"or run with an instance, task or web-identity role "+
		"(AWS_EC2_METADATA_DISABLED=true skips the instance metadata service): %s",
		ErrNoCredentials, e.url, shortCause(e.cause))
}

func (e *noCredentialsError) Unwrap() []error { return []error{ErrNoCredentials, e.cause} }

// maxCause is the length beyond which shortCause keeps only the end of an
// error text.
const maxCause = 240

// shortCause returns err's text on one line, and if that is long, only its
// last parts: the SDK nests "operation error ..., failed to ..., " chains
// whose end says what went wrong.
func shortCause(err error) string {
	msg := oneLine(err.Error())
	if len(msg) <= maxCause {
		return msg
	}
	parts := strings.Split(msg, ", ")
	tail := parts[len(parts)-1]
	for i := len(parts) - 2; i >= 0 && len(parts[i])+2+len(tail) <= maxCause; i-- {
		tail = parts[i] + ", " + tail
	}
	if len(tail) > maxCause {
		tail = tail[len(tail)-maxCause:]
	}
	return "..., " + tail
}

// oneLine joins the lines of msg with "; ".
func oneLine(msg string) string {
	lines := strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	lines = slices.DeleteFunc(lines, func(l string) bool { return l == "" })
	return strings.Join(lines, "; ")
}

// String returns "s3://bucket[/prefix]".
func (s *Source) String() string {
	if p := strings.Trim(s.cfg.Prefix, "/"); p != "" {
		return "s3://" + s.cfg.Bucket + "/" + p
	}
	return "s3://" + s.cfg.Bucket
}

// Requests returns the number of LIST requests (pages) and GET requests
// made so far.
func (s *Source) Requests() (lists, gets int64) {
	return s.lists.Load(), s.gets.Load()
}

// List lists the keys starting with prefix with ListObjectsV2, merging
// the pages; each page is one LIST request.
func (s *Source) List(ctx context.Context, prefix, delimiter string) (etl.Listing, error) {
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(prefix)}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	if s.cfg.MaxKeys > 0 {
		in.MaxKeys = aws.Int32(s.cfg.MaxKeys)
	}
	var out etl.Listing
	pages := awss3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		s.lists.Add(1)
		pctx, cancel := context.WithTimeout(ctx, s.opTime)
		page, err := pages.NextPage(pctx)
		timedOut := pctx.Err() != nil && ctx.Err() == nil
		cancel()
		if err != nil {
			if timedOut {
				return etl.Listing{}, fmt.Errorf("list %q in %s: no answer within %v: %w", prefix, s, s.opTime, err)
			}
			return etl.Listing{}, fmt.Errorf("list %q in %s: %w", prefix, s, err)
		}
		for _, o := range page.Contents {
			obj := etl.Object{
				Key:  aws.ToString(o.Key),
				Size: aws.ToInt64(o.Size),
				ETag: strings.Trim(aws.ToString(o.ETag), `"`),
			}
			if o.LastModified != nil {
				obj.LastModified = o.LastModified.UTC()
			}
			out.Objects = append(out.Objects, obj)
		}
		for _, p := range page.CommonPrefixes {
			out.Prefixes = append(out.Prefixes, aws.ToString(p.Prefix))
		}
	}
	// S3 returns keys in byte order; sorting keeps the promise for servers
	// that do not, and is linear on sorted input.
	slices.SortFunc(out.Objects, func(a, b etl.Object) int { return strings.Compare(a.Key, b.Key) })
	slices.Sort(out.Prefixes)
	return out, nil
}

// Open opens the object key with GetObject. A missing key is
// os.ErrNotExist. Getting the response headers, retries included, is
// bounded by (MaxRetries+1) x RequestTimeout; the body then stays readable
// until it is closed, each Read failing after ReadTimeout without data.
func (s *Source) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	s.gets.Add(1)
	// Not a context deadline: that would also end the body's reads.
	ctx, cancel := context.WithCancel(ctx)
	var timedOut atomic.Bool
	timer := time.AfterFunc(s.opTime, func() {
		timedOut.Store(true)
		cancel()
	})
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if !timer.Stop() && err == nil {
		// The timer fired as the answer came: the body is cancelled.
		out.Body.Close()
		err = context.Canceled
	}
	if err != nil {
		cancel()
		var ae smithy.APIError
		switch {
		case timedOut.Load():
			return nil, fmt.Errorf("open object %q in %s: no answer within %v: %w", key, s, s.opTime, err)
		case errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound"):
			return nil, fmt.Errorf("open object %q in %s: %w: %w", key, s, os.ErrNotExist, err)
		}
		return nil, fmt.Errorf("open object %q in %s: %w", key, s, err)
	}
	return &body{rc: out.Body, cancel: cancel, key: key, src: s}, nil
}

// body is an object's body whose read errors name the object, and whose
// Close also releases Open's context.
type body struct {
	rc     io.ReadCloser
	cancel context.CancelFunc
	key    string
	src    *Source
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("read object %q in %s: %w", b.key, b.src, err)
	}
	return n, err
}

func (b *body) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

// Put stores data as the object key with one PutObject: S3 makes the
// object visible whole or not at all.
func (s *Source) Put(ctx context.Context, key string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.opTime)
	defer cancel()
	_, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return fmt.Errorf("put object %q in %s: %w", key, s, err)
	}
	return nil
}

// Delete removes the object key with DeleteObject; a missing key is not an
// error.
func (s *Source) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.opTime)
	defer cancel()
	if _, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete object %q in %s: %w", key, s, err)
	}
	return nil
}

// ReadAt reads len(p) bytes of the object key from offset off with a
// ranged GetObject, as io.ReaderAt does.
func (s *Source) ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.gets.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.opTime)
	defer cancel()
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1)),
	})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound") {
			return 0, fmt.Errorf("read object %q in %s: %w: %w", key, s, os.ErrNotExist, err)
		}
		return 0, fmt.Errorf("read object %q in %s: %w", key, s, err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	if err != nil {
		return n, fmt.Errorf("read object %q in %s: %w", key, s, err)
	}
	return n, nil
}
