package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
)

// minioServer is a MinIO server the bench starts with etl/s3/s3test's
// launcher, plus the bench's own bulk uploads.
type minioServer struct{ *s3test.Server }

// startMinIO starts bin (a minio binary) on a free port with its data in a
// temporary folder.
func startMinIO(bin string) (*minioServer, error) {
	if bin == "" {
		return nil, errors.New("no minio binary: pass --minio or set FULLSTOP_MINIO_BIN (make bench builds it)")
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("minio binary: %w", err)
	}
	s, err := s3test.Launch(bin)
	if err != nil {
		return nil, err
	}
	return &minioServer{s}, nil
}

// stop kills the server and removes its data.
func (m *minioServer) stop() { m.Close() }

// env is the AWS environment of a fullstop process reading from the server.
func (m *minioServer) env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + m.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + m.SecretKey,
		"AWS_REGION=" + m.Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
}

func (m *minioServer) createBucket(ctx context.Context, name string) error {
	if _, err := m.Client().CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

func (m *minioServer) put(ctx context.Context, bucket, key string, body []byte) error {
	_, err := m.Client().PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// uploadTree puts every file below dir/AWSLogs into bucket under its path
// relative to dir, workers at a time, and returns the objects and bytes
// uploaded.
func (m *minioServer) uploadTree(ctx context.Context, bucket, dir string, workers int) (int, int64, error) {
	var keys []string
	err := filepath.WalkDir(filepath.Join(dir, "AWSLogs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		keys = append(keys, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("upload %s: %w", dir, err)
	}
	var total atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, k := range keys {
		g.Go(func() error {
			body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(k)))
			if err != nil {
				return fmt.Errorf("upload: %w", err)
			}
			total.Add(int64(len(body)))
			return m.put(gctx, bucket, k, body)
		})
	}
	if err := g.Wait(); err != nil {
		return 0, 0, err
	}
	return len(keys), total.Load(), nil
}
