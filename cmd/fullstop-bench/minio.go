package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

const minioRegion = "us-east-1"

// minioServer is a MinIO server started by the bench, the way
// etl/s3/s3test starts one for the tests.
type minioServer struct {
	endpoint  string
	accessKey string
	secretKey string
	dir       string
	cmd       *exec.Cmd
	exited    chan struct{}
	client    *awss3.Client
	out       bytes.Buffer
}

// startMinIO starts bin (a minio binary) on a free port with its data in a
// temporary folder.
func startMinIO(ctx context.Context, bin string) (*minioServer, error) {
	if bin == "" {
		return nil, errors.New("no minio binary: pass --minio or set FULLSTOP_MINIO_BIN (make bench builds it)")
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("minio binary: %w", err)
	}
	var lastErr error
	for range 3 { // a free port can be taken before MinIO binds it
		m, err := launchMinIO(ctx, bin)
		if err == nil {
			return m, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launchMinIO(ctx context.Context, bin string) (*minioServer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	console, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "fullstop-bench-minio-")
	if err != nil {
		return nil, fmt.Errorf("create minio data folder: %w", err)
	}
	m := &minioServer{
		endpoint:  "http://" + addr,
		accessKey: "bench-" + randomHex(4),
		secretKey: randomHex(16),
		dir:       dir,
		exited:    make(chan struct{}),
	}
	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"), "--address", addr, "--console-address", console, "--quiet")
	cmd.Env = append(childEnv(),
		"MINIO_ROOT_USER="+m.accessKey,
		"MINIO_ROOT_PASSWORD="+m.secretKey,
		"MINIO_REGION="+minioRegion,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1",
	)
	cmd.Stdout, cmd.Stderr = &m.out, &m.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	m.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(m.exited)
	}()
	if err := m.waitReady(ctx); err != nil {
		m.stop()
		return nil, fmt.Errorf("minio at %s: %w", addr, err)
	}
	m.client = awss3.New(awss3.Options{
		Region:       minioRegion,
		BaseEndpoint: aws.String(m.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(m.accessKey, m.secretKey, ""),

		DisableLogOutputChecksumValidationSkipped: true,
	})
	return m, nil
}

func (m *minioServer) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := hc.Get(m.endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-m.exited:
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("not ready after a minute")
		}
	}
}

// stop kills the server and removes its data.
func (m *minioServer) stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
	os.RemoveAll(m.dir)
}

// env is the AWS environment of a fullstop process reading from the server.
func (m *minioServer) env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + m.accessKey,
		"AWS_SECRET_ACCESS_KEY=" + m.secretKey,
		"AWS_REGION=" + minioRegion,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
}

func (m *minioServer) createBucket(ctx context.Context, name string) error {
	if _, err := m.client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

func (m *minioServer) put(ctx context.Context, bucket, key string, body []byte) error {
	_, err := m.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
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

// freeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
