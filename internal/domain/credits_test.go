package domain

import "testing"

func TestParseCredits(t *testing.T) {
	tests := []struct {
		in      string
		want    Micros
		wantErr bool
	}{
		{"1500", 1500_000000, false},
		{"12.75", 12_750000, false},
		{"0.000001", 1, false},
		{".5", 500000, false},
		{" 7 ", 7_000000, false},
		{"0", 0, false},
		{"19.99", 19_990000, false}, // not exact as a float64
		{"0.29", 290000, false},     // nor this
		{"1000000000", MaxCapMicros, false},
		{"1000000000.000001", 0, true},
		{"99999999999999999999999", 0, true},
		{"0.0000001", 0, true}, // 7 decimals
		{"1.", 0, true},
		{"", 0, true},
		{".", 0, true},
		{"-1", 0, true},
		{"+1", 0, true},
		{"1e3", 0, true},
		{"1,000", 1000_000000, false}, // as the app shows amounts
		{"1,234.5", 1234_500000, false},
		{"1,000,000,000", MaxCapMicros, false},
		{"1,00", 0, true},
		{"1,5", 0, true}, // a decimal comma: refused, not read as 15
		{",500", 0, true},
		{"1000,000", 0, true},
		{"1,,000", 0, true},
		{"1,000.", 0, true},
		{"-1,000", 0, true},
		{"1.2.3", 0, true},
		{"١٢", 0, true}, // non-ASCII digits
	}
	for _, tt := range tests {
		got, err := ParseCredits(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseCredits(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
