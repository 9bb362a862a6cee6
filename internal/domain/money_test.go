package domain

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCredits(t *testing.T) {
	tests := []struct {
		m    Micros
		want string
	}{
		{0, "0"},
		{1, "0.000001"},
		{1_000_000, "1"},
		{1_500_000, "1.5"},
		{1_234_567_890, "1,234.56789"},
		{999_999_999_999, "999,999.999999"},
		{1_000_000_000_000_000, "1,000,000,000"},
		{-2_500_000, "-2.5"},
	}
	for _, tt := range tests {
		if got := tt.m.Credits(); got != tt.want {
			t.Errorf("Micros(%d).Credits() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestPeriod(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC), "2026-11"},
		{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "2026-12"},
		// 2026-12-01 00:30 in UTC+1 is still November in UTC.
		{time.Date(2026, 12, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), "2026-11"},
	}
	for _, tt := range tests {
		if got := Period(tt.t); got != tt.want {
			t.Errorf("Period(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}
}

func TestUsageEventValidate(t *testing.T) {
	long := make([]byte, 129)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name string
		e    UsageEvent
		ok   bool
	}{
		{"fine", UsageEvent{ID: "evt-1", Amount: 1}, true},
		{"max amount", UsageEvent{ID: "evt-1", Amount: MaxUsageMicros}, true},
		{"over max", UsageEvent{ID: "evt-1", Amount: MaxUsageMicros + 1}, false},
		{"zero", UsageEvent{ID: "evt-1", Amount: 0}, false},
		{"negative", UsageEvent{ID: "evt-1", Amount: -5}, false},
		{"empty id", UsageEvent{ID: "", Amount: 1}, false},
		{"id with #", UsageEvent{ID: "a#b", Amount: 1}, false},
		{"id too long", UsageEvent{ID: string(long), Amount: 1}, false},
	}
	for _, tt := range tests {
		err := tt.e.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v is not an invalid-input refusal", tt.name, err)
		}
	}
}

func TestFingerprint(t *testing.T) {
	base := UsageEvent{ID: "x", Amount: 5, Kind: "conversation"}
	same := base
	if base.Fingerprint("a") != same.Fingerprint("a") {
		t.Fatal("same content, different fingerprints")
	}
	others := []struct {
		name  string
		e     UsageEvent
		agent string
	}{
		{"other agent", base, "b"},
		{"other amount", UsageEvent{ID: "x", Amount: 6, Kind: "conversation"}, "a"},
		{"other kind", UsageEvent{ID: "x", Amount: 5, Kind: "tool"}, "a"},
		{"occurred_at given", UsageEvent{ID: "x", Amount: 5, Kind: "conversation", OccurredAt: time.Unix(1, 0)}, "a"},
	}
	for _, o := range others {
		if o.e.Fingerprint(o.agent) == base.Fingerprint("a") {
			t.Errorf("%s: same fingerprint", o.name)
		}
	}
}

func TestTokens(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || !LooksLikeToken(a) || len(a) != len(TokenPrefix)+43 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if HashToken(a) == HashToken(b) || len(HashToken(a)) != 64 {
		t.Fatal("hashes")
	}
	for _, bad := range []string{"", "ocp_", "Bearer " + a, a + "x", "xyz_" + a[4:]} {
		if LooksLikeToken(bad) {
			t.Errorf("LooksLikeToken(%q) = true", bad)
		}
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"Dina", true},
		{"Sari (Finance)", true},
		{strings.Repeat("日", 200), true}, // 600 bytes, 200 characters
		{strings.Repeat("日", 201), false},
		{"", false},
		{"   ", false},
		{"bell\a", false},
		{"tab\tname", false},
		{"\xff", false},
		// Bidirectional and other invisible format controls let a name
		// display as something it is not.
		{"Sari\u202egnp.exe", false}, // RIGHT-TO-LEFT OVERRIDE
		{"\u202aDina", false},        // LEFT-TO-RIGHT EMBEDDING
		{"Dina\u2066x\u2069", false}, // ISOLATES
		{"Dina\u200e", false},        // LEFT-TO-RIGHT MARK
		{"Dina\u200f", false},        // RIGHT-TO-LEFT MARK
		{"Dina\u061c", false},        // ARABIC LETTER MARK
		{"Di\u200bna", false},        // ZERO WIDTH SPACE
		{"\ufeffDina", false},        // BYTE ORDER MARK
		{"Di\u00adna", false},        // SOFT HYPHEN
		// Joiners are part of scripts and emoji, and stay allowed.
		{"\U0001F469\u200d\U0001F4BB Team", true},
		{"\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", true},
		// Markup characters are allowed in names (they are escaped
		// wherever a name is shown).
		{"<!channel> & co", true},
	}
	for _, tt := range tests {
		if err := ValidateName("member", tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestValidateReason(t *testing.T) {
	tests := []struct {
		reason string
		ok     bool
	}{
		{"", true},
		{"purchase 1001", true},
		{strings.Repeat("é", MaxReasonChars), true}, // 1,000 bytes, 500 characters
		{strings.Repeat("é", MaxReasonChars+1), false},
		{"line one\nline two", true},
		{"null\x00", false},
		{"refund \u202eevil", false},
		{"\xff", false},
	}
	for _, tt := range tests {
		err := ValidateReason(tt.reason)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateReason(%q) = %v, want ok=%v", tt.reason, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "characters") && utf8.RuneCountInString(tt.reason) > MaxReasonChars {
			t.Errorf("ValidateReason: the refusal of a long reason should count characters: %v", err)
		}
	}
}

func TestCeilingIsFarBelowInt64(t *testing.T) {
	// Every running total is kept below MaxRunningTotalMicros by a
	// condition of the write that raises it; the largest single change
	// added to the largest allowed total must still fit in an int64, so no
	// arithmetic on stored totals can overflow.
	if MaxRunningTotalMicros+MaxGrantMicros > math.MaxInt64/2 {
		t.Fatalf("ceiling %d is too close to the int64 limit", MaxRunningTotalMicros)
	}
	if MaxRunningTotalMicros < 100*MaxGrantMicros {
		t.Fatalf("ceiling %d leaves room for fewer than 100 of the largest grants", MaxRunningTotalMicros)
	}
	if MaxCapMicros > MaxRunningTotalMicros {
		t.Fatal("a group cap above the ceiling would let a group's spend pass it")
	}
}
