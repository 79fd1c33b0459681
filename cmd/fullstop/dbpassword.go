package main

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// kmsPrefix marks a DATABASE_PASSWORD encrypted with KMS: the rest is the
// base64 ciphertext, decrypted at start-up (as the reference did).
const kmsPrefix = "aws:kms:"

// kmsTimeout bounds the decryption at start-up.
const kmsTimeout = 10 * time.Second

// databasePassword returns the password as given, or decrypted with KMS
// (the process's AWS credentials and region; AWS_ENDPOINT_URL_KMS points
// it elsewhere) when it starts with aws:kms:.
func databasePassword(ctx context.Context, password string) (string, error) {
	enc, ok := strings.CutPrefix(password, kmsPrefix)
	if !ok {
		return password, nil
	}
	blob, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", usagef("DATABASE_PASSWORD (--database-password): the text after %s is not base64: %v", kmsPrefix, err)
	}
	ctx, cancel := context.WithTimeout(ctx, kmsTimeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return "", usagef("DATABASE_PASSWORD (--database-password): load the AWS configuration to decrypt it with KMS: %v", err)
	}
	out, err := kms.NewFromConfig(cfg).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
	if err != nil {
		return "", usagef("DATABASE_PASSWORD (--database-password): decrypt it with KMS: %v", err)
	}
	return string(out.Plaintext), nil
}
