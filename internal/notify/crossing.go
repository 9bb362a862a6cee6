package notify

import (
	"fmt"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// PoolImage is the part of a pool item's stream image the notifier reads.
type PoolImage struct {
	OrgID     string
	Balance   domain.Micros
	Granted   domain.Micros
	Threshold domain.Micros
}

// SpendImage is the part of a budget group's spend item (one group, one
// period) the notifier reads. Cap is the cap as of the last debit.
type SpendImage struct {
	OrgID   string
	GroupID string
	Period  string
	Spent   domain.Micros
	Cap     domain.Micros
	// CapReached is set once a debit of the period was refused for the
	// cap: the group is at 100% for its agents even when its spend is a
	// little below the cap, since no debit that would cross it is made.
	CapReached bool
}

// Kind names what an alert is about.
type Kind string

const (
	KindLowBalance Kind = "low_balance"
	KindExhausted  Kind = "exhausted"
	KindSpend      Kind = "budget_group_spend"
)

// Spend levels, in percent of a group's cap, at which the Billing holder is
// told.
var spendLevels = []int{80, 100}

// Alert is one message owed to an organization's Billing holder.
type Alert struct {
	Kind  Kind
	OrgID string
	// Pool alerts.
	Balance, Threshold domain.Micros
	// Spend alerts.
	GroupID, Period string
	Spent, Cap      domain.Micros
	Level           int // percent of the cap: 80 or 100
	// Keys are the once-keys of the alert: the first names it, the others
	// are lower levels it makes stale (see SpendCrossing). A key names the
	// crossing itself, not the stream record, so the same crossing seen
	// twice (a redelivered record, or the same change reported by two
	// records) is sent once.
	Keys []string
}

// Key is the alert's own once-key.
func (a Alert) Key() string { return a.Keys[0] }

// PoolCrossings finds the low-balance alerts owed for one change of a pool
// item. old is nil for an item that did not exist before (a new
// organization's empty pool), which owes nothing.
//
// Low balance is a state: the pool is "armed" while balance >= threshold,
// and the holder is told when it goes from armed to below. Each image is
// judged against its own threshold, so raising the threshold above the
// balance also alerts (the holder learns the pool is now below it), and a
// grant (or a lowered threshold) that re-arms the pool lets the next
// crossing alert again. A threshold of zero never alerts: a balance cannot
// go below zero.
//
// Exhaustion (the balance reaching zero, so every agent is refused) is one
// more message. A single debit that does both sends both.
func PoolCrossings(old, new *PoolImage) []Alert {
	if old == nil || new == nil {
		return nil
	}
	var out []Alert
	armed := old.Balance >= old.Threshold
	below := new.Balance < new.Threshold
	if armed && below {
		out = append(out, Alert{
			Kind: KindLowBalance, OrgID: new.OrgID, Balance: new.Balance, Threshold: new.Threshold,
			// Between two grants the balance only goes down, so (granted,
			// balance) names a debit's crossing uniquely; a pool re-armed by
			// a grant crosses at a new granted total. A crossing made by a
			// threshold change at a balance already announced shares that
			// key and is not repeated: the holder knows that balance.
			Keys: []string{fmt.Sprintf("notify:lowbal:%s:g%d:b%d", new.OrgID, new.Granted, new.Balance)},
		})
	}
	// The balance never goes below zero; <= keeps a corrupt image from
	// alerting forever.
	if old.Balance > 0 && new.Balance <= 0 {
		out = append(out, Alert{
			Kind: KindExhausted, OrgID: new.OrgID, Balance: new.Balance, Threshold: new.Threshold,
			// Only a grant lifts an empty pool, and a grant raises granted,
			// so each exhaustion has its own granted total.
			Keys: []string{fmt.Sprintf("notify:exhausted:%s:g%d", new.OrgID, new.Granted)},
		})
	}
	return out
}

// SpendCrossing finds the alert owed for one change of a spend item. old
// is nil when the debit created the item (the group's first debit of the
// period), which counts as zero spent.
//
// A change that crosses both 80% and 100% at once (70% to 100%) sends only
// the 100% message: "80% used" would already be stale when it arrives. The
// alert then also carries the 80% key, so that a later crossing of 80% in
// the same period (after the cap was raised) does not send it late.
// Each (group, period, level) is told at most once, whatever the cap does.
func SpendCrossing(old, new *SpendImage) (Alert, bool) {
	if new == nil || new.Cap <= 0 {
		return Alert{}, false
	}
	was := 0
	if old != nil && old.Period == new.Period {
		was = old.level()
	}
	now := new.level()
	if now <= was {
		return Alert{}, false
	}
	a := Alert{
		Kind: KindSpend, OrgID: new.OrgID, GroupID: new.GroupID, Period: new.Period,
		Spent: new.Spent, Cap: new.Cap, Level: now,
	}
	for i := len(spendLevels) - 1; i >= 0; i-- {
		if l := spendLevels[i]; l <= now && l > was {
			a.Keys = append(a.Keys, fmt.Sprintf("notify:spend:%s:%s:%s:%d", new.OrgID, new.GroupID, new.Period, l))
		}
	}
	return a, true
}

// level is the highest alert level the image shows.
func (s SpendImage) level() int {
	if s.CapReached {
		return spendLevels[len(spendLevels)-1]
	}
	return reached(s.Spent, s.Cap)
}

// reached is the highest alert level spent has reached against cap, 0 for
// none. Integer arithmetic: spent and cap are at most domain.MaxCapMicros,
// so spent*100 cannot overflow.
func reached(spent, cap domain.Micros) int {
	if cap <= 0 {
		return 0
	}
	level := 0
	for _, l := range spendLevels {
		if spent*100 >= cap*domain.Micros(l) {
			level = l
		}
	}
	return level
}
