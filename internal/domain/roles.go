package domain

import (
	"fmt"
	"strings"
)

// Role is an everyday role of a member. Billing is deliberately not a Role:
// it is held by exactly one member, whatever their role, and moves only by
// a transfer that the recipient accepts.
type Role string

const (
	RoleOwner   Role = "owner"
	RoleAdmin   Role = "admin"
	RoleBuilder Role = "builder"
	RoleMember  Role = "member"
)

// Roles lists the everyday roles, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleBuilder, RoleMember}

// ParseRole reads a role name, case-insensitively. "billing" is refused with
// a message that points to the transfer, because Billing cannot be set by a
// role edit.
func ParseRole(s string) (Role, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	switch Role(name) {
	case RoleOwner, RoleAdmin, RoleBuilder, RoleMember:
		return Role(name), nil
	}
	if name == "billing" {
		return "", refuse(RuleBillingNotARole,
			"Billing is not an everyday role and cannot be set by a role edit. The Billing holder moves it with a transfer (`/billing transfer`), which the recipient accepts.")
	}
	return "", refuse(RuleUnknownRole, fmt.Sprintf("%q is not a role. Roles are owner, admin, builder and member.", s))
}

// Title is the role's display name.
func (r Role) Title() string {
	if r == "" {
		return ""
	}
	return strings.ToUpper(string(r[:1])) + string(r[1:])
}

// canEditRoles reports whether a member of role r may edit everyday roles.
func (r Role) canEditRoles() bool { return r == RoleOwner || r == RoleAdmin }

// RoleChange is a decided role edit, ready to be written. OwnerDelta is the
// change in the organization's number of Owners, which the store applies
// with a condition so that the last Owner can never be demoted.
type RoleChange struct {
	Target     Member
	From, To   Role
	OwnerDelta int
}

// DecideRoleChange applies the role-edit rules: Owners and Admins edit; only
// an Owner makes or unmakes an Owner; the last Owner cannot be demoted.
// actor is nil when an operator edits through the admin API; operators are
// not members and are bound only by the organization's invariants.
func DecideRoleChange(org Org, actor *Member, target Member, to Role) (RoleChange, error) {
	if !target.Active() {
		return RoleChange{}, refuse(RuleNotMember, fmt.Sprintf("%s is not an active member of %s.", target.Name, org.Name))
	}
	if actor != nil {
		if !actor.Active() {
			return RoleChange{}, refuse(RuleNotMember, "You are not an active member of this organization.")
		}
		if !actor.Role.canEditRoles() {
			return RoleChange{}, refuse(RuleNotOwnerOrAdmin, "Only Owners and Admins can change roles. Ask an Owner or Admin.")
		}
		if (target.Role == RoleOwner || to == RoleOwner) && actor.Role != RoleOwner {
			return RoleChange{}, refuse(RuleOnlyOwnerEditsOwner, "Only an Owner can make or unmake an Owner. Ask an Owner.")
		}
	}
	if target.Role == to {
		return RoleChange{}, refuse(RuleRoleUnchanged, fmt.Sprintf("%s is already %s.", target.Name, to.Title()))
	}
	c := RoleChange{Target: target, From: target.Role, To: to}
	switch {
	case target.Role == RoleOwner:
		c.OwnerDelta = -1
		if org.OwnerCount <= 1 {
			return RoleChange{}, refuse(RuleLastOwner, fmt.Sprintf("%s is the last Owner of %s and cannot be demoted. Make another member an Owner first.", target.Name, org.Name))
		}
	case to == RoleOwner:
		c.OwnerDelta = 1
	}
	return c, nil
}
