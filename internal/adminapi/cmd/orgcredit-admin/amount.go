package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// microsPerCredit is the API's unit: amounts are integer micro-credits
// (domain.MicrosPerCredit; the tests check they agree).
const microsPerCredit = 1_000_000

// parseMicros reads an integer number of micro-credits.
func parseMicros(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if strings.ContainsAny(s, ".eE") {
			return 0, fmt.Errorf("%q is not a whole number of micro-credits; for credits with decimals use the -credits flag", s)
		}
		return 0, fmt.Errorf("%q is not a whole number of micro-credits", s)
	}
	return n, nil
}

// parseCredits reads a decimal number of credits with at most six
// decimals and converts it to micro-credits exactly, in integers: "12.5"
// is 12500000. There is no floating point on the way.
func parseCredits(s string) (int64, error) {
	bad := fmt.Errorf("%q is not an amount of credits such as 100, 12.5 or 0.000001 (digits, at most 6 decimals)", s)
	t := s
	neg := strings.HasPrefix(t, "-")
	if neg {
		t = t[1:]
	}
	whole, frac, hasDot := strings.Cut(t, ".")
	if whole == "" || !digits(whole) || (hasDot && (frac == "" || !digits(frac))) {
		return 0, bad
	}
	if len(frac) > 6 {
		return 0, fmt.Errorf("%q has more than 6 decimals: the smallest amount is 0.000001 credit (1 micro-credit)", s)
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (math.MaxInt64-f)/microsPerCredit {
		return 0, errors.New(s + " credits is too large")
	}
	n := w*microsPerCredit + f
	if neg {
		n = -n
	}
	return n, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
