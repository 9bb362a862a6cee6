package domain

// Who may do what. Each function refuses with the rule and a message that
// says what to do; a nil actor is an operator (the admin API), who is not a
// member and is bound only by the organization's invariants. The store
// decides with these and writes the premise they read (the actor's role
// and status) as a condition of the change, so a role change racing with
// it cannot slip through.

// CanManage checks that actor may change the organization's settings:
// budget groups and their caps, agents, the low-balance threshold, members.
// Owners and Admins may.
func CanManage(actor *Member) error {
	if actor == nil {
		return nil
	}
	if !actor.Active() || !actor.Role.canEditRoles() {
		return refuse(RuleNotOwnerOrAdmin, "Only Owners and Admins can do this. Ask an Owner or Admin.")
	}
	return nil
}

// CanAddMember checks that actor may add a member with role: an Owner or
// Admin, and only an Owner adds an Owner.
func CanAddMember(actor *Member, role Role) error {
	if err := CanManage(actor); err != nil {
		return err
	}
	if actor != nil && role == RoleOwner && actor.Role != RoleOwner {
		return refuse(RuleOnlyOwnerEditsOwner, "Only an Owner can make an Owner.")
	}
	return nil
}

// CanViewCredit checks that m may view the organization's credit (My
// Credit, /credit): only the Billing holder may.
func CanViewCredit(org Org, m Member) error {
	if m.Active() && org.BillingHolderID == m.ID {
		return nil
	}
	return refuse(RuleCannotReadBilling, "Only the Billing holder can view the organization's credit.")
}

// CanViewGroups checks that m may view budget groups and their spend:
// those who manage them (Owners, Admins) and the Billing holder, who
// watches the organization's credit.
func CanViewGroups(org Org, m Member) error {
	if m.Active() && (m.Role.canEditRoles() || org.BillingHolderID == m.ID) {
		return nil
	}
	return refuse(RuleCannotReadBilling, "Budget group spend is shown to Owners, Admins and the Billing holder.")
}

// CanReadAudit checks that m may read the audit trail: Owners, Admins and
// the Billing holder.
func CanReadAudit(org Org, m Member) error {
	if m.Active() && (m.Role.canEditRoles() || org.BillingHolderID == m.ID) {
		return nil
	}
	return refuse(RuleCannotReadAudit, "Only Owners, Admins and the Billing holder can read the audit trail.")
}
