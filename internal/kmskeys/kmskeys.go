// Package kmskeys is internal/envelope's key service on AWS KMS: data keys
// come from GenerateDataKey under one symmetric KMS key of the stack and
// are unwrapped with Decrypt, both under the seal's encryption context,
// which KMS binds to the wrapped key (and writes into CloudTrail with
// every use). The key never leaves KMS; the functions may only use it
// (the stack grants GenerateDataKey to the slack function, which stores
// installations, and Decrypt to the functions that send messages).
package kmskeys

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/orgcredit/orgcredit/internal/envelope"
)

// API is the two KMS calls used; *kms.Client has them.
type API interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Keys is the key service on one KMS key.
type Keys struct {
	api   API
	keyID string
}

var _ envelope.KeyService = (*Keys)(nil)

// New makes the key service on the KMS key keyID (its ARN).
func New(api API, keyID string) *Keys { return &Keys{api: api, keyID: keyID} }

// Open makes the key service on keyARN with the default AWS configuration
// (the function's role).
func Open(ctx context.Context, keyARN string) (*Keys, error) {
	if keyARN == "" {
		return nil, errors.New("kmskeys: no KMS key ARN given")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("kmskeys: load AWS configuration: %w", err)
	}
	return New(kms.NewFromConfig(cfg), keyARN), nil
}

// GenerateDataKey implements envelope.KeyService: a new AES-256 data key.
func (k *Keys) GenerateDataKey(ctx context.Context, encryption map[string]string) ([]byte, []byte, error) {
	out, err := k.api.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(k.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: encryption,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("kms GenerateDataKey: %w", err)
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// DecryptDataKey implements envelope.KeyService. The key is named too, so
// that a data key wrapped under any other KMS key is refused rather than
// unwrapped with whatever key it names.
func (k *Keys) DecryptDataKey(ctx context.Context, wrapped []byte, encryption map[string]string) ([]byte, error) {
	out, err := k.api.Decrypt(ctx, &kms.DecryptInput{
		KeyId:             aws.String(k.keyID),
		CiphertextBlob:    wrapped,
		EncryptionContext: encryption,
	})
	if err != nil {
		var bad *types.InvalidCiphertextException
		var other *types.IncorrectKeyException
		if errors.As(err, &bad) || errors.As(err, &other) {
			// Another context, another key, or altered bytes: retrying
			// cannot help.
			return nil, fmt.Errorf("%w (kms Decrypt: %v)", envelope.ErrCannotOpen, err)
		}
		return nil, fmt.Errorf("kms Decrypt: %w", err)
	}
	return out.Plaintext, nil
}

// The environment that names the key service of the bot tokens.
const (
	// EnvKeyARN is the stack's KMS key (in AWS).
	EnvKeyARN = "SLACK_KMS_KEY_ARN"
	// EnvLocalKey is a local key-encryption key, 32 bytes in base64, for
	// local invokes of the functions (never in AWS).
	EnvLocalKey = "SLACK_LOCAL_KEY"
)

// FromEnv is the key service a function was given: the KMS key named by
// SLACK_KMS_KEY_ARN, or, for local invokes, the local key in
// SLACK_LOCAL_KEY. Inside Lambda (AWS_LAMBDA_FUNCTION_NAME set) only the
// KMS key is taken: a deployment missing its key must fail, not seal
// workspaces' tokens under a key kept in its environment.
func FromEnv(ctx context.Context, getenv func(string) string) (envelope.KeyService, error) {
	if arn := getenv(EnvKeyARN); arn != "" {
		return Open(ctx, arn)
	}
	if fn := getenv("AWS_LAMBDA_FUNCTION_NAME"); fn != "" {
		return nil, fmt.Errorf("no key for the Slack bot tokens: function %s has no %s (the stack sets it to its KMS key)", fn, EnvKeyARN)
	}
	if k := getenv(EnvLocalKey); k != "" {
		return envelope.ParseLocalKey(k)
	}
	return nil, fmt.Errorf("no key for the Slack bot tokens: set %s to the stack's KMS key (or, for a local invoke, %s to a local key)", EnvKeyARN, EnvLocalKey)
}
