package domain

import "time"

// BudgetGroup caps how much of the pool one team's agents may spend in a
// period (a UTC calendar month).
type BudgetGroup struct {
	OrgID     string
	ID        string
	Name      string
	Cap       Micros
	CreatedAt time.Time
}

// GroupStatus is a budget group's position in one period.
type GroupStatus struct {
	Group     BudgetGroup
	Period    string
	Spent     Micros
	Remaining Micros
	// CapReached is set once a debit of the period was refused for the
	// cap: the group is at its limit even if its spend is a little below
	// the cap.
	CapReached bool
}

// NewGroupStatus computes the remaining headroom; it is zero, never
// negative, when a lowered cap is already below the spend.
func NewGroupStatus(g BudgetGroup, period string, spent Micros) GroupStatus {
	rem := g.Cap - spent
	if rem < 0 {
		rem = 0
	}
	return GroupStatus{Group: g, Period: period, Spent: spent, Remaining: rem}
}

// GroupSpend is what a group has spent in one period, as the debits keep
// it. Cap is the cap as of the last debit.
type GroupSpend struct {
	OrgID   string
	GroupID string
	Period  string
	Spent   Micros
	Cap     Micros
	// CapReached is set once a debit of the period was refused for the
	// cap: the group is at 100% for its agents even when its spend is a
	// little below the cap, since no debit that would cross it is made.
	CapReached bool
}

// NewBudgetGroup checks a new budget group; without a name it is named
// by its id.
func NewBudgetGroup(g BudgetGroup, now time.Time) (BudgetGroup, error) {
	if err := ValidateID("budget group", g.ID); err != nil {
		return BudgetGroup{}, withField(err, "id")
	}
	if g.Name == "" {
		g.Name = g.ID
	}
	if err := ValidateName("budget group", g.Name); err != nil {
		return BudgetGroup{}, withField(err, "name")
	}
	if err := ValidateCap(g.Cap); err != nil {
		return BudgetGroup{}, err
	}
	g.CreatedAt = now.UTC()
	return g, nil
}

// ValidateCap checks a budget group's cap. Zero is a valid cap: the group
// is stopped.
func ValidateCap(c Micros) error { return ValidateAmount("cap_micros", c, MaxCapMicros, true) }

// Period is the budget period of t: its UTC calendar month, "2026-11".
// Spend is kept per (group, period), so a new month starts from zero with no
// reset job.
func Period(t time.Time) string { return t.UTC().Format("2006-01") }

// PreviousPeriod is the period before p ("2026-10" for "2026-11").
func PreviousPeriod(p string) string {
	t, err := time.Parse("2006-01", p)
	if err != nil {
		return ""
	}
	return Period(t.AddDate(0, -1, 0))
}

// DayUsage is an organization's debits of one UTC day.
type DayUsage struct {
	Day    string // "2006-01-02"
	Amount Micros
	Count  int
}

// Changes of the items the notifier watches, as a stream of the table's
// writes reports them: the value before (nil when the item is new) and
// after (nil when it was deleted).
type (
	PoolChange     struct{ Old, New *Pool }
	SpendChange    struct{ Old, New *GroupSpend }
	TransferChange struct{ Old, New *Transfer }
)

// SharePercent is the share of the cap spent, in whole percent rounded
// down; a zero cap spent or reached is 100.
func (s GroupStatus) SharePercent() int64 {
	if s.Group.Cap <= 0 {
		if s.Spent > 0 || s.CapReached {
			return 100
		}
		return 0
	}
	return int64(s.Spent * 100 / s.Group.Cap)
}

// AtCap reports whether the group can take no more this period: its spend
// reached the cap, or a debit was refused for it.
func (s GroupStatus) AtCap() bool {
	return s.CapReached || (s.Spent >= s.Group.Cap)
}

// NearCap reports whether the group has used at least the first alert
// level of its cap (80 %) without being at it.
func (s GroupStatus) NearCap() bool {
	return !s.AtCap() && s.SharePercent() >= int64(SpendLevels[0])
}
