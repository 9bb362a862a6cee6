// Package envelope seals small secrets (the Slack app's bot tokens, one
// per workspace) for storage with envelope encryption: every secret gets a
// fresh 256-bit data key from a key service, is encrypted under it with
// AES-256-GCM, and is stored together with the data key as the key
// service wrapped it. Only the key service can unwrap a data key, so the
// stored bytes alone (a table export, a backup) reveal nothing.
//
// Every seal is bound to a context, such as {"slack_team_id": "T0123"}:
// the key service binds the wrapped data key to it (AWS KMS's encryption
// context) and AES-GCM authenticates it as additional data, so a sealed
// secret opens only under the context it was sealed with. A bot token
// copied onto another workspace's item does not open there.
//
// The key service is AWS KMS in AWS (internal/kmskeys) and LocalKeys, a
// key held in memory, for the local run and tests.
package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// KeyService makes and unwraps data keys. A data key wrapped under an
// encryption context unwraps only under the same context.
type KeyService interface {
	// GenerateDataKey returns a new 256-bit data key, in clear and
	// wrapped.
	GenerateDataKey(ctx context.Context, encryption map[string]string) (plaintext, wrapped []byte, err error)
	// DecryptDataKey unwraps a data key; an error wrapping ErrCannotOpen
	// when it was wrapped by another key or under another context.
	DecryptDataKey(ctx context.Context, wrapped []byte, encryption map[string]string) ([]byte, error)
}

// ErrCannotOpen is the error of a sealed secret that cannot be opened
// here: sealed under another context (another workspace), by another key,
// or altered. Retrying cannot help.
var ErrCannotOpen = errors.New("the sealed secret cannot be opened: it was sealed for another context or with another key, or it was altered")

// Format of a sealed secret, version 1:
//
//	0x01 | len(wrapped) uint16 big-endian | wrapped data key | nonce (12) | AES-256-GCM ciphertext and tag (16)
//
// The GCM additional data is "orgcredit-envelope-v1" followed by the
// context in canonical form (keys sorted, every key and value prefixed by
// its length), so the context is authenticated without being stored.
const (
	version1 = 0x01
	dataKey  = 32
	nonceLen = 12
	tagLen   = 16
	aadLabel = "orgcredit-envelope-v1"
)

// Sealer seals and opens secrets with one key service.
type Sealer struct {
	keys KeyService
}

// New makes a Sealer on keys.
func New(keys KeyService) *Sealer { return &Sealer{keys: keys} }

// Seal encrypts secret, bound to binding (the encryption context).
func (s *Sealer) Seal(ctx context.Context, secret []byte, binding map[string]string) ([]byte, error) {
	plain, wrapped, err := s.keys.GenerateDataKey(ctx, binding)
	if err != nil {
		return nil, fmt.Errorf("envelope: new data key: %w", err)
	}
	defer clear(plain)
	if len(plain) != dataKey {
		return nil, fmt.Errorf("envelope: the key service gave a %d-byte data key, want %d", len(plain), dataKey)
	}
	if len(wrapped) == 0 || len(wrapped) > 0xFFFF {
		return nil, fmt.Errorf("envelope: the key service gave a wrapped data key of %d bytes", len(wrapped))
	}
	aead, err := gcm(plain)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 3+len(wrapped)+nonceLen+len(secret)+tagLen)
	out = append(out, version1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(wrapped)))
	out = append(out, wrapped...)
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("envelope: nonce: %w", err)
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, secret, additionalData(binding)), nil
}

// Open decrypts a sealed secret with the binding it was sealed with; an
// error wrapping ErrCannotOpen when it was sealed under another binding
// or key, or altered.
func (s *Sealer) Open(ctx context.Context, sealed []byte, binding map[string]string) ([]byte, error) {
	if len(sealed) < 3 || sealed[0] != version1 {
		return nil, fmt.Errorf("%w (not a version 1 envelope)", ErrCannotOpen)
	}
	n := int(binary.BigEndian.Uint16(sealed[1:3]))
	rest := sealed[3:]
	if len(rest) < n+nonceLen+tagLen {
		return nil, fmt.Errorf("%w (truncated)", ErrCannotOpen)
	}
	wrapped, nonce, ciphertext := rest[:n], rest[n:n+nonceLen], rest[n+nonceLen:]
	plain, err := s.keys.DecryptDataKey(ctx, wrapped, binding)
	if err != nil {
		return nil, fmt.Errorf("envelope: unwrap the data key: %w", err)
	}
	defer clear(plain)
	aead, err := gcm(plain)
	if err != nil {
		return nil, err
	}
	secret, err := aead.Open(nil, nonce, ciphertext, additionalData(binding))
	if err != nil {
		return nil, fmt.Errorf("%w (authentication failed)", ErrCannotOpen)
	}
	return secret, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return cipher.NewGCM(block)
}

// additionalData is the GCM additional data for a binding.
func additionalData(binding map[string]string) []byte {
	return append([]byte(aadLabel), Canonical(binding)...)
}

// Canonical encodes a binding unambiguously: keys sorted, each key and
// value prefixed by its length (uint32 big-endian).
func Canonical(binding map[string]string) []byte {
	var out []byte
	for _, k := range slices.Sorted(maps.Keys(binding)) {
		for _, s := range []string{k, binding[k]} {
			out = binary.BigEndian.AppendUint32(out, uint32(len(s)))
			out = append(out, s...)
		}
	}
	return out
}
