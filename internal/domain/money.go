package domain

import (
	"fmt"
	"strconv"
	"strings"
)

// Micros is an amount of credit in micro-credits: 1 credit = 1,000,000 µcr.
// Every amount in the system is an integer of this type; there is no
// floating point anywhere money is handled.
type Micros int64

// MicrosPerCredit is the number of micro-credits in one credit.
const MicrosPerCredit Micros = 1_000_000

// MaxUsageMicros is the largest amount one usage event may debit:
// one million credits. Larger amounts are refused as malformed input; they
// are almost certainly a unit mistake (credits sent as micro-credits twice).
const MaxUsageMicros Micros = 1_000_000 * MicrosPerCredit

// MaxGrantMicros is the largest single grant: one billion credits. It keeps
// every sum of grants far below the int64 limit.
const MaxGrantMicros Micros = 1_000_000_000 * MicrosPerCredit

// MaxCapMicros is the largest budget group cap or low-balance threshold.
const MaxCapMicros Micros = MaxGrantMicros

// MaxRunningTotalMicros is the ceiling of every running total: a pool's
// balance and total granted, an organization's usage of a day, a group's
// spend in a period. One hundred billion credits: a hundred of the largest
// grants, and still about 90 times below the int64 limit, so no sum the
// store keeps can overflow. The write that raises a total carries the
// ceiling as a condition; a grant that would pass it is refused with
// nothing written.
const MaxRunningTotalMicros Micros = 100_000_000_000 * MicrosPerCredit

// Credits formats m as credits with up to six decimals, trailing zeros
// trimmed and thousands separated: 1234567890 µcr is "1,234.56789".
func (m Micros) Credits() string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = uint64(-m)
	}
	whole := u / uint64(MicrosPerCredit)
	frac := u % uint64(MicrosPerCredit)

	digits := strconv.FormatUint(whole, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if frac != 0 {
		fs := strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
		b.WriteByte('.')
		b.WriteString(fs)
	}
	return b.String()
}

// String formats m for logs and messages: "1,234.5 credits", "1 credit".
func (m Micros) String() string {
	if m == MicrosPerCredit {
		return "1 credit"
	}
	return m.Credits() + " credits"
}

// ValidateAmount checks an amount of micro-credits named field against its
// documented maximum. zero tells whether 0 is allowed (a cap or threshold)
// or not (a debit or grant).
func ValidateAmount(field string, v, max Micros, zero bool) error {
	switch {
	case v < 0 || (v == 0 && !zero):
		if zero {
			return invalidField(field, "%q must be zero or a positive integer number of micro-credits.", field)
		}
		return invalidField(field, "%q must be a positive integer number of micro-credits (1 credit = 1000000).", field)
	case v > max:
		r := invalidField(field, "%q must be at most %d micro-credits (%s credits). Amounts are in micro-credits: 1 credit = 1000000.",
			field, int64(max), max.Credits())
		r.Max = max
		return r
	}
	return nil
}
