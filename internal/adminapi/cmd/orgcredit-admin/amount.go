package main

import (
	"fmt"
	"strconv"
	"strings"
)

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
