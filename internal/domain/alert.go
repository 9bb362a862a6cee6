package domain

import "strconv"

// AlertKind names what an alert to the Billing holder is about.
type AlertKind string

const (
	AlertLowBalance AlertKind = "low_balance"
	AlertExhausted  AlertKind = "exhausted"
	AlertGroupSpend AlertKind = "budget_group_spend"
)

// SpendLevels are the shares of a group's cap, in percent, at which the
// Billing holder is told.
var SpendLevels = []int{80, 100}

// Alert is one message owed to an organization's Billing holder.
type Alert struct {
	Kind  AlertKind
	OrgID string
	// Pool alerts: the pool as the crossing left it.
	Balance, Threshold Micros
	// Spend alerts: the group's spend in the period as the crossing left
	// it, and the level crossed (80 or 100).
	GroupID, Period string
	Spent, Cap      Micros
	Level           int
	// Keys are the alert's once-keys: the first names it, the others are
	// lower levels it makes stale (see SpendAlert). A key names the
	// crossing itself, not the record that reported it, so the same
	// crossing reported twice is sent once.
	Keys []OnceKey
}

// Key is the alert's own once-key.
func (a Alert) Key() OnceKey { return a.Keys[0] }

// SharePercent is the share of the cap spent, in whole percent, rounded
// down (82 for 82.9 %): what the holder reads, which may be above the
// level crossed.
func (a Alert) SharePercent() int64 {
	if a.Cap <= 0 {
		return 0
	}
	return int64(a.Spent * 100 / a.Cap)
}

// PoolAlerts finds the alerts one change of a pool owes its Billing holder.
// old is nil for a pool that did not exist before (a new organization's
// empty pool), which owes nothing.
//
// Low balance is a state: the pool is "armed" while balance >= threshold,
// and the holder is told when it goes from armed to below. Each side is
// judged against its own threshold, so raising the threshold above the
// balance also alerts (the holder learns the pool is now below it), and a
// grant (or a lowered threshold) that re-arms the pool lets the next
// crossing alert again. A threshold of zero never alerts: a balance cannot
// go below zero.
//
// Exhaustion (the balance reaching zero, so every agent is refused) is one
// more message. A single debit that does both sends both.
func PoolAlerts(old, new *Pool) []Alert {
	if old == nil || new == nil {
		return nil
	}
	var out []Alert
	granted := "g" + strconv.FormatInt(int64(new.Granted), 10)
	if old.Balance >= old.Threshold && new.Balance < new.Threshold {
		out = append(out, Alert{
			Kind: AlertLowBalance, OrgID: new.OrgID, Balance: new.Balance, Threshold: new.Threshold,
			// Between two grants the balance only goes down, so (granted,
			// balance) names a debit's crossing uniquely; a pool re-armed by
			// a grant crosses at a new granted total. A crossing made by a
			// threshold change at a balance already announced shares that
			// key and is not repeated: the holder knows that balance.
			Keys: []OnceKey{NewOnceKey("lowbal", new.OrgID, granted, "b"+strconv.FormatInt(int64(new.Balance), 10))},
		})
	}
	// The balance never goes below zero; <= keeps a corrupt image from
	// alerting forever.
	if old.Balance > 0 && new.Balance <= 0 {
		out = append(out, Alert{
			Kind: AlertExhausted, OrgID: new.OrgID, Balance: new.Balance, Threshold: new.Threshold,
			// Only a grant lifts an empty pool, and a grant raises granted,
			// so each exhaustion has its own granted total.
			Keys: []OnceKey{NewOnceKey("exhausted", new.OrgID, granted)},
		})
	}
	return out
}

// SpendAlert finds the alert one change of a group's spend owes. old is nil
// when the debit created the spend (the group's first debit of the
// period), which counts as zero spent.
//
// A change that crosses both 80% and 100% at once (70% to 100%) sends only
// the 100% message: "80% used" would already be stale when it arrives. The
// alert then also carries the 80% key, so that a later crossing of 80% in
// the same period (after the cap was raised) does not send it late. Each
// (group, period, level) is told at most once, whatever the cap does.
func SpendAlert(old, new *GroupSpend) (Alert, bool) {
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
		Kind: AlertGroupSpend, OrgID: new.OrgID, GroupID: new.GroupID, Period: new.Period,
		Spent: new.Spent, Cap: new.Cap, Level: now,
	}
	for i := len(SpendLevels) - 1; i >= 0; i-- {
		if l := SpendLevels[i]; l <= now && l > was {
			a.Keys = append(a.Keys, NewOnceKey("spend", new.OrgID, new.GroupID, new.Period, strconv.Itoa(l)))
		}
	}
	return a, true
}

// level is the highest alert level the spend shows.
func (s GroupSpend) level() int {
	if s.CapReached {
		return SpendLevels[len(SpendLevels)-1]
	}
	return reached(s.Spent, s.Cap)
}

// reached is the highest alert level spent has reached against cap, 0 for
// none. Integer arithmetic: spent and cap are at most MaxRunningTotalMicros,
// so spent*100 cannot overflow.
func reached(spent, cap Micros) int {
	if cap <= 0 {
		return 0
	}
	level := 0
	for _, l := range SpendLevels {
		if spent*100 >= cap*Micros(l) {
			level = l
		}
	}
	return level
}
