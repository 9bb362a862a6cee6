package domain

import (
	"fmt"
	"strings"
)

// ParseCredits reads an amount of credits as a person types it ("1500",
// "12.5", "0.000001", or "1,234.5" as the app itself shows amounts) into
// micro-credits, exactly, with integer arithmetic. At most six decimals;
// commas only between groups of three digits of the whole part; no sign
// or exponent; at most MaxGrantMicros (= MaxCapMicros), the largest amount
// any field takes. The Slack commands and the operators' CLI read amounts
// with it.
func ParseCredits(s string) (Micros, error) {
	s = strings.TrimSpace(s)
	bad := func() (Micros, error) {
		return 0, fmt.Errorf("%q is not an amount of credits: write digits with at most 6 decimals, like 1500 or 12.75", s)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && frac == "" || hasDot && frac == "" {
		return bad()
	}
	if len(frac) > 6 {
		return 0, fmt.Errorf("%q has more than 6 decimals; one micro-credit (0.000001) is the smallest amount", s)
	}
	if strings.Contains(whole, ",") {
		var ok bool
		if whole, ok = ungroup(whole); !ok {
			return 0, fmt.Errorf("%q is not an amount of credits: a comma may only separate thousands (1,500.25); decimals follow a dot", s)
		}
	}
	if whole == "" {
		whole = "0"
	}
	maxCredits := int64(MaxGrantMicros / MicrosPerCredit)
	var w int64
	for _, c := range whole {
		if c < '0' || c > '9' {
			return bad()
		}
		w = w*10 + int64(c-'0')
		if w > maxCredits {
			return 0, fmt.Errorf("%q is more than the maximum of %s credits", s, MaxGrantMicros.Credits())
		}
	}
	var f int64
	for i := 0; i < 6; i++ {
		f *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return bad()
			}
			f += int64(c - '0')
		}
	}
	v := Micros(w)*MicrosPerCredit + Micros(f)
	if v > MaxGrantMicros {
		return 0, fmt.Errorf("%q is more than the maximum of %s credits", s, MaxGrantMicros.Credits())
	}
	return v, nil
}

// ungroup removes thousands separators from "1,234,567": the first group
// has one to three characters, every later one exactly three.
func ungroup(whole string) (string, bool) {
	groups := strings.Split(whole, ",")
	if n := len(groups[0]); n < 1 || n > 3 {
		return "", false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return "", false
		}
	}
	return strings.Join(groups, ""), true
}
