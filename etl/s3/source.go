// Package s3 is an etl.Source over an Amazon S3 bucket or an S3-compatible
// server (MinIO ...), using aws-sdk-go-v2.
//
// Keys are full object keys in the bucket. Credentials come from the
// standard AWS chain (environment, shared config and credentials files, SSO,
// web identity, container and instance roles).
package s3

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/fullstop-audit/fullstop/etl"
)

var _ etl.Source = (*Source)(nil)

// Defaults of Config.
const (
	DefaultRegion     = "us-east-1"
	DefaultMaxRetries = 4
)

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
}

// Source reads objects from an S3 bucket. It is safe for concurrent use.
type Source struct {
	client *awss3.Client
	cfg    Config
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

// New returns a source for cfg. It loads the AWS configuration but makes
// no request.
func New(ctx context.Context, cfg Config) (*Source, error) {
	if err := checkBucket(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("s3 source: %w", err)
	}
	if cfg.MaxKeys < 0 {
		return nil, fmt.Errorf("s3 source: max keys must not be negative, not %d", cfg.MaxKeys)
	}
	retries := cmp.Or(cfg.MaxRetries, DefaultMaxRetries)
	opts := []func(*config.LoadOptions) error{
		config.WithRetryMaxAttempts(max(retries, 0) + 1),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 source: load aws config: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = DefaultRegion
	}
	client := awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// CloudTrail's objects carry no checksum; do not log that for
		// every GET.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return &Source{client: client, cfg: cfg}, nil
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
		page, err := pages.NextPage(ctx)
		if err != nil {
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
// os.ErrNotExist.
func (s *Source) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	s.gets.Add(1)
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound") {
			return nil, fmt.Errorf("open object %q in %s: %w: %w", key, s, os.ErrNotExist, err)
		}
		return nil, fmt.Errorf("open object %q in %s: %w", key, s, err)
	}
	return out.Body, nil
}
