package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Lifetimes of the role templates (§4.11: the names refreshed hourly, a
// body kept a minute).
const (
	DefaultTemplateNamesTTL = time.Hour
	DefaultTemplateTTL      = time.Minute
	maxTemplateBytes        = 1 << 20
)

// Templates reads the protected roles' policy templates from fullstop's
// own S3 bucket: <prefix>/<role>.json, the role names being the objects
// directly under the prefix.
type Templates struct {
	Client *s3.Client
	Bucket string
	Prefix string // without the trailing slash

	mu      sync.Mutex
	keys    []string
	keysAt  time.Time
	bodies  map[string]template
	nowFunc func() time.Time
}

type template struct {
	body []byte
	at   time.Time
}

func (t *Templates) now() time.Time {
	if t.nowFunc != nil {
		return t.nowFunc()
	}
	return time.Now()
}

// Keys lists the object keys directly under the prefix, every page,
// kept an hour (listed again at once while the list is empty).
func (t *Templates) Keys(ctx context.Context) ([]string, error) {
	t.mu.Lock()
	if len(t.keys) > 0 && t.now().Sub(t.keysAt) < DefaultTemplateNamesTTL {
		defer t.mu.Unlock()
		return t.keys, nil
	}
	t.mu.Unlock()
	prefix := ""
	if t.Prefix != "" {
		prefix = strings.TrimSuffix(t.Prefix, "/") + "/"
	}
	var keys []string
	p := s3.NewListObjectsV2Paginator(t.Client, &s3.ListObjectsV2Input{Bucket: awssdk.String(t.Bucket), Prefix: awssdk.String(prefix), Delimiter: awssdk.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the role templates s3://%s/%s: %w", t.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, awssdk.ToString(o.Key))
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.keys, t.keysAt = keys, t.now()
	return keys, nil
}

// Body returns the object at key, kept a minute; found is false when there
// is none.
func (t *Templates) Body(ctx context.Context, key string) ([]byte, bool, error) {
	t.mu.Lock()
	if b, ok := t.bodies[key]; ok && t.now().Sub(b.at) < DefaultTemplateTTL {
		t.mu.Unlock()
		return b.body, true, nil
	}
	t.mu.Unlock()
	out, err := t.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: awssdk.String(t.Bucket), Key: awssdk.String(key)})
	var nsk *s3types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read the role template s3://%s/%s: %w", t.Bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, maxTemplateBytes+1))
	if err != nil {
		return nil, false, fmt.Errorf("read the role template s3://%s/%s: %w", t.Bucket, key, err)
	}
	if len(body) > maxTemplateBytes {
		return nil, false, fmt.Errorf("the role template s3://%s/%s is larger than %d bytes", t.Bucket, key, maxTemplateBytes)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bodies == nil {
		t.bodies = map[string]template{}
	}
	t.bodies[key] = template{body: body, at: t.now()}
	return body, true, nil
}
