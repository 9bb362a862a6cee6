package slackinstall

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestState(t *testing.T) {
	key := stateKey("client-secret")
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	good, err := newState(key, now.Add(DefaultStateTTL))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newState(key, now.Add(DefaultStateTTL))
	if good == other {
		t.Fatal("two states are equal: the nonce is not random")
	}
	foreign, _ := newState(stateKey("another app's secret"), now.Add(DefaultStateTTL))
	parts := strings.Split(good, ".")
	longer := strings.Join([]string{parts[0], "9999999999", parts[2], parts[3]}, ".")

	tests := []struct {
		name  string
		state string
		at    time.Time
		want  error
	}{
		{"good", good, now, nil},
		{"just before expiry", good, now.Add(DefaultStateTTL - time.Second), nil},
		{"at expiry", good, now.Add(DefaultStateTTL), errStateExpired},
		{"empty", "", now, errStateMissing},
		{"signed with another key", foreign, now, errStateInvalid},
		{"expiry extended", longer, now, errStateInvalid},
		{"signature cut", strings.Join(parts[:3], "."), now, errStateInvalid},
		{"other version", "v2." + strings.Join(parts[1:], "."), now, errStateInvalid},
		{"garbage", "x.y.z.w", now, errStateInvalid},
	}
	for _, tt := range tests {
		nonce, err := parseState(key, tt.state, tt.at)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
		if tt.want == nil && nonce != parts[2] {
			t.Errorf("%s: nonce %q, want %q", tt.name, nonce, parts[2])
		}
	}
}
