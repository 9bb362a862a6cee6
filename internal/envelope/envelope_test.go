package envelope_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/orgcredit/orgcredit/internal/envelope"
)

func newSealer(t *testing.T) *envelope.Sealer {
	t.Helper()
	keys, err := envelope.ParseLocalKey(envelope.GenerateLocalKey())
	if err != nil {
		t.Fatal(err)
	}
	return envelope.New(keys)
}

func team(id string) map[string]string {
	return map[string]string{"purpose": "slack-bot-token", "slack_team_id": id}
}

func TestSealOpen(t *testing.T) {
	ctx := context.Background()
	s := newSealer(t)
	secret := []byte("xoxb-1234-5678-abcdefghijklmnop")
	sealed, err := s.Seal(ctx, secret, team("T0A"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) || bytes.Contains(sealed, []byte("xoxb-")) {
		t.Fatal("the sealed bytes contain the secret in clear")
	}
	got, err := s.Open(ctx, sealed, team("T0A"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v; want the secret", got, err)
	}
	again, _ := s.Seal(ctx, secret, team("T0A"))
	if bytes.Equal(sealed, again) {
		t.Error("two seals of the same secret are equal: data keys or nonces are reused")
	}
}

// TestSealedSecretsStayWhereTheyWereSealed: a sealed token does not open
// under another workspace's binding, by another key, or altered anywhere.
func TestSealedSecretsStayWhereTheyWereSealed(t *testing.T) {
	ctx := context.Background()
	s := newSealer(t)
	sealed, err := s.Seal(ctx, []byte("xoxb-secret"), team("T0A"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	// The wrapped data key follows the 3-byte header; the nonce and the
	// ciphertext are the last 12+len+16 bytes.
	tests := []struct {
		name    string
		sealed  []byte
		binding map[string]string
		sealer  *envelope.Sealer
	}{
		{"another workspace", sealed, team("T0B"), s},
		{"no binding", sealed, nil, s},
		{"an extra binding", sealed, map[string]string{"purpose": "slack-bot-token", "slack_team_id": "T0A", "x": ""}, s},
		{"another key", sealed, team("T0A"), newSealer(t)},
		{"version altered", flip(0), team("T0A"), s},
		{"length altered", flip(2), team("T0A"), s},
		{"wrapped key altered", flip(10), team("T0A"), s},
		{"nonce altered", flip(len(sealed) - 16 - len("xoxb-secret") - 1), team("T0A"), s},
		{"ciphertext altered", flip(len(sealed) - 17), team("T0A"), s},
		{"tag altered", flip(len(sealed) - 1), team("T0A"), s},
		{"truncated", sealed[:len(sealed)-1], team("T0A"), s},
		{"empty", nil, team("T0A"), s},
	}
	for _, tt := range tests {
		got, err := tt.sealer.Open(ctx, tt.sealed, tt.binding)
		if !errors.Is(err, envelope.ErrCannotOpen) {
			t.Errorf("%s: Open = %q, %v; want ErrCannotOpen", tt.name, got, err)
		}
	}
}

// TestCanonical: bindings that differ encode differently, however their
// keys and values are split.
func TestCanonical(t *testing.T) {
	pairs := [][2]map[string]string{
		{{"a": "bc"}, {"ab": "c"}},
		{{"a": "", "b": ""}, {"a": "\x00\x00\x00\x01b"}},
		{{"k": "v"}, {}},
	}
	for _, p := range pairs {
		if bytes.Equal(envelope.Canonical(p[0]), envelope.Canonical(p[1])) {
			t.Errorf("Canonical(%q) == Canonical(%q)", p[0], p[1])
		}
	}
	if !bytes.Equal(envelope.Canonical(map[string]string{"x": "1", "y": "2"}), envelope.Canonical(map[string]string{"y": "2", "x": "1"})) {
		t.Error("Canonical depends on map order")
	}
}

func TestParseLocalKey(t *testing.T) {
	for _, bad := range []string{"", "not base64!", "c2hvcnQ="} {
		if _, err := envelope.ParseLocalKey(bad); err == nil {
			t.Errorf("ParseLocalKey(%q) accepted it", bad)
		}
	}
	k := envelope.GenerateLocalKey()
	if _, err := envelope.ParseLocalKey(k + "\n"); err != nil {
		t.Errorf("ParseLocalKey(generated) = %v", err)
	}
	if k == envelope.GenerateLocalKey() {
		t.Error("two generated keys are equal")
	}
}

// failingKeys is a key service that fails, as KMS does when it is down.
type failingKeys struct{ err error }

func (f failingKeys) GenerateDataKey(context.Context, map[string]string) ([]byte, []byte, error) {
	return nil, nil, f.err
}
func (f failingKeys) DecryptDataKey(context.Context, []byte, map[string]string) ([]byte, error) {
	return nil, f.err
}

func TestKeyServiceFailures(t *testing.T) {
	ctx := context.Background()
	down := errors.New("ThrottlingException")
	s := envelope.New(failingKeys{down})
	if _, err := s.Seal(ctx, []byte("x"), team("T0A")); !errors.Is(err, down) {
		t.Errorf("Seal with the key service down = %v, want its error", err)
	}
	sealed, _ := newSealer(t).Seal(ctx, []byte("x"), team("T0A"))
	if _, err := s.Open(ctx, sealed, team("T0A")); !errors.Is(err, down) || errors.Is(err, envelope.ErrCannotOpen) {
		t.Errorf("Open with the key service down = %v, want its error, not ErrCannotOpen", err)
	}
}
