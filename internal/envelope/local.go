package envelope

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// LocalKeys is a key service without AWS, for the local run and tests: a
// 256-bit key-encryption key held in memory wraps each data key with
// AES-256-GCM, the encryption context as additional data, as KMS binds
// it. It protects nothing a process memory dump would not reveal; it keeps
// the local run on the same sealed format and code path as AWS.
type LocalKeys struct {
	kek []byte
	id  []byte // the first bytes of SHA-256(kek), to name the key in wrapped data keys
}

// localMagic starts a data key wrapped by LocalKeys.
const localMagic = "LK1"

// NewLocalKeys makes a key service on a 32-byte key-encryption key.
func NewLocalKeys(kek []byte) (*LocalKeys, error) {
	if len(kek) != dataKey {
		return nil, fmt.Errorf("envelope: a local key is %d bytes, got %d", dataKey, len(kek))
	}
	sum := sha256.Sum256(kek)
	return &LocalKeys{kek: bytes.Clone(kek), id: sum[:8]}, nil
}

// GenerateLocalKey makes a new random key for NewLocalKeys, encoded as
// ParseLocalKey reads it.
func GenerateLocalKey() string {
	k := make([]byte, dataKey)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// ParseLocalKey reads a local key: 32 bytes in standard base64, as
// GenerateLocalKey writes it (or `openssl rand -base64 32`).
func ParseLocalKey(s string) (*LocalKeys, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != dataKey {
		return nil, fmt.Errorf("envelope: a local key is 32 bytes in base64 (make one with `openssl rand -base64 32`)")
	}
	return NewLocalKeys(k)
}

// GenerateDataKey implements KeyService.
func (l *LocalKeys) GenerateDataKey(_ context.Context, encryption map[string]string) ([]byte, []byte, error) {
	plain := make([]byte, dataKey)
	if _, err := rand.Read(plain); err != nil {
		return nil, nil, err
	}
	aead, err := gcm(l.kek)
	if err != nil {
		return nil, nil, err
	}
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	wrapped := append(append([]byte(localMagic), l.id...), nonce...)
	wrapped = aead.Seal(wrapped, nonce, plain, Canonical(encryption))
	return plain, wrapped, nil
}

// DecryptDataKey implements KeyService.
func (l *LocalKeys) DecryptDataKey(_ context.Context, wrapped []byte, encryption map[string]string) ([]byte, error) {
	head := len(localMagic) + len(l.id)
	if len(wrapped) < head+nonceLen+tagLen || string(wrapped[:len(localMagic)]) != localMagic {
		return nil, fmt.Errorf("%w (not a data key wrapped by a local key)", ErrCannotOpen)
	}
	if !bytes.Equal(wrapped[len(localMagic):head], l.id) {
		return nil, fmt.Errorf("%w (wrapped by another local key: set the key it was sealed with)", ErrCannotOpen)
	}
	aead, err := gcm(l.kek)
	if err != nil {
		return nil, err
	}
	nonce := wrapped[head : head+nonceLen]
	plain, err := aead.Open(nil, nonce, wrapped[head+nonceLen:], Canonical(encryption))
	if err != nil {
		return nil, fmt.Errorf("%w (the data key's context differs or it was altered)", ErrCannotOpen)
	}
	return plain, nil
}
