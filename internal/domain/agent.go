package domain

import "time"

// Agent is an AI agent of an organization. Its usage is debited from the
// organization's pool, within its budget group's cap if it has one.
type Agent struct {
	OrgID         string
	ID            string
	Name          string
	BudgetGroupID string
	Revoked       bool
	CreatedAt     time.Time
	// Version is the organization's agents version (Pool.AgentsVersion)
	// this view of the agent was read at. A debit made with it is written
	// only while the version is still current, so a revocation or a group
	// move made anywhere takes effect at the very next debit, however
	// long the agent was cached.
	Version int64
}

// NewAgent checks a new agent; without a name it is named by its id.
func NewAgent(a Agent, now time.Time) (Agent, error) {
	if err := ValidateID("agent", a.ID); err != nil {
		return Agent{}, withField(err, "id")
	}
	if a.Name == "" {
		a.Name = a.ID
	}
	if err := ValidateName("agent", a.Name); err != nil {
		return Agent{}, withField(err, "name")
	}
	if a.BudgetGroupID != "" {
		if err := ValidateID("budget group", a.BudgetGroupID); err != nil {
			return Agent{}, withField(err, "budget_group_id")
		}
	}
	a.CreatedAt, a.Revoked = now.UTC(), false
	return a, nil
}

// CanChangeAgent refuses changes to a revoked agent: its token is gone for
// good, so a new agent is the way back.
func CanChangeAgent(a Agent) error {
	if a.Revoked {
		return Refusef(RuleAgentRevoked, "agent %q is revoked; create a new agent (with a new id) for a new token", a.ID)
	}
	return nil
}
