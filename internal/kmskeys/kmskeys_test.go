package kmskeys_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/orgcredit/orgcredit/internal/envelope"
	"github.com/orgcredit/orgcredit/internal/kmskeys"
)

// fakeKMS behaves as KMS does for symmetric keys: a wrapped data key
// decrypts only with the key that wrapped it and the same encryption
// context. It records the requests.
type fakeKMS struct {
	mu       sync.Mutex
	keys     map[string]bool // key ARNs that exist
	wrapped  map[string]wrapping
	gens     []*kms.GenerateDataKeyInput
	decrypts []*kms.DecryptInput
	fail     error
}

type wrapping struct {
	key     string
	context map[string]string
	plain   []byte
}

func newFake(keys ...string) *fakeKMS {
	f := &fakeKMS{keys: map[string]bool{}, wrapped: map[string]wrapping{}}
	for _, k := range keys {
		f.keys[k] = true
	}
	return f
}

func (f *fakeKMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gens = append(f.gens, in)
	if f.fail != nil {
		return nil, f.fail
	}
	if !f.keys[aws.ToString(in.KeyId)] {
		return nil, &types.NotFoundException{Message: aws.String("no such key")}
	}
	plain := make([]byte, 32)
	blob := make([]byte, 128)
	_, _ = rand.Read(plain)
	_, _ = rand.Read(blob)
	f.wrapped[string(blob)] = wrapping{key: aws.ToString(in.KeyId), context: maps.Clone(in.EncryptionContext), plain: bytes.Clone(plain)}
	return &kms.GenerateDataKeyOutput{Plaintext: plain, CiphertextBlob: blob, KeyId: in.KeyId}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decrypts = append(f.decrypts, in)
	if f.fail != nil {
		return nil, f.fail
	}
	w, ok := f.wrapped[string(in.CiphertextBlob)]
	switch {
	case ok && in.KeyId != nil && aws.ToString(in.KeyId) != w.key:
		return nil, &types.IncorrectKeyException{Message: aws.String("the key ID in the request does not identify the key that encrypted the ciphertext")}
	case !ok || !maps.Equal(w.context, in.EncryptionContext):
		return nil, &types.InvalidCiphertextException{}
	}
	return &kms.DecryptOutput{Plaintext: bytes.Clone(w.plain), KeyId: aws.String(w.key)}, nil
}

const (
	keyA = "arn:aws:kms:us-east-1:123456789012:key/aaaa"
	keyB = "arn:aws:kms:us-east-1:123456789012:key/bbbb"
)

func team(id string) map[string]string {
	return map[string]string{"purpose": "slack-bot-token", "slack_team_id": id}
}

func TestSealWithKMS(t *testing.T) {
	ctx := context.Background()
	fake := newFake(keyA, keyB)
	s := envelope.New(kmskeys.New(fake, keyA))
	sealed, err := s.Seal(ctx, []byte("xoxb-a"), team("T0A"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(ctx, sealed, team("T0A")); err != nil || string(got) != "xoxb-a" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	g := fake.gens[0]
	if aws.ToString(g.KeyId) != keyA || g.KeySpec != types.DataKeySpecAes256 || !maps.Equal(g.EncryptionContext, team("T0A")) {
		t.Errorf("GenerateDataKey input = key %s, spec %s, context %v", aws.ToString(g.KeyId), g.KeySpec, g.EncryptionContext)
	}
	d := fake.decrypts[0]
	if aws.ToString(d.KeyId) != keyA || !maps.Equal(d.EncryptionContext, team("T0A")) {
		t.Errorf("Decrypt input = key %s, context %v; want the key named and the context", aws.ToString(d.KeyId), d.EncryptionContext)
	}

	// Another workspace's context, or a service on another key: the
	// sealed token cannot be opened, and retrying would not help.
	if _, err := s.Open(ctx, sealed, team("T0B")); !errors.Is(err, envelope.ErrCannotOpen) {
		t.Errorf("Open under another team = %v, want ErrCannotOpen", err)
	}
	other := envelope.New(kmskeys.New(fake, keyB))
	if _, err := other.Open(ctx, sealed, team("T0A")); !errors.Is(err, envelope.ErrCannotOpen) {
		t.Errorf("Open with another key = %v, want ErrCannotOpen", err)
	}

	// KMS down or throttling is not "cannot open": a retry may succeed.
	fake.fail = &types.KMSInternalException{Message: aws.String("internal")}
	if _, err := s.Open(ctx, sealed, team("T0A")); err == nil || errors.Is(err, envelope.ErrCannotOpen) {
		t.Errorf("Open with KMS failing = %v, want a retryable error", err)
	}
	if _, err := s.Seal(ctx, []byte("x"), team("T0A")); err == nil {
		t.Error("Seal with KMS failing succeeded")
	}
}

func TestOpenNeedsAKey(t *testing.T) {
	if _, err := kmskeys.Open(context.Background(), ""); err == nil {
		t.Error("Open with no key ARN succeeded")
	}
}

func TestFromEnv(t *testing.T) {
	ctx := context.Background()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	if _, err := kmskeys.FromEnv(ctx, env(nil)); err == nil || !strings.Contains(err.Error(), kmskeys.EnvKeyARN) {
		t.Errorf("FromEnv with nothing set = %v, want an error naming %s", err, kmskeys.EnvKeyARN)
	}
	keys, err := kmskeys.FromEnv(ctx, env(map[string]string{kmskeys.EnvLocalKey: envelope.GenerateLocalKey()}))
	if _, ok := keys.(*envelope.LocalKeys); err != nil || !ok {
		t.Errorf("FromEnv with a local key = %T, %v", keys, err)
	}
	if _, err := kmskeys.FromEnv(ctx, env(map[string]string{kmskeys.EnvLocalKey: "short"})); err == nil {
		t.Error("FromEnv accepted a bad local key")
	}
	if _, err := kmskeys.FromEnv(ctx, env(map[string]string{kmskeys.EnvLocalKey: envelope.GenerateLocalKey(), "AWS_LAMBDA_FUNCTION_NAME": "OrgCredit-slack"})); err == nil || !strings.Contains(err.Error(), kmskeys.EnvKeyARN) {
		t.Errorf("FromEnv inside Lambda with only a local key = %v, want an error naming %s", err, kmskeys.EnvKeyARN)
	}
	keys, err = kmskeys.FromEnv(ctx, env(map[string]string{kmskeys.EnvKeyARN: keyA, kmskeys.EnvLocalKey: envelope.GenerateLocalKey()}))
	if _, ok := keys.(*kmskeys.Keys); err != nil || !ok {
		t.Errorf("FromEnv with a KMS key = %T, %v; want KMS, which wins", keys, err)
	}
}
