package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	t0    = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	dina  = Member{ID: "dina", Name: "Dina", SlackUserID: "U1", Role: RoleOwner, Status: MemberActive}
	sari  = Member{ID: "sari", Name: "Sari", SlackUserID: "U2", Role: RoleMember, Status: MemberActive}
	omar  = Member{ID: "omar", Name: "Omar", SlackUserID: "U3", Role: RoleAdmin, Status: MemberActive}
	ravi  = Member{ID: "ravi", Name: "Ravi", SlackUserID: "U4", Role: RoleBuilder, Status: MemberActive}
	gone  = Member{ID: "gone", Name: "Gone", SlackUserID: "U5", Role: RoleMember, Status: MemberLeft}
	mute  = Member{ID: "mute", Name: "Mute", Role: RoleMember, Status: MemberActive} // no Slack identity
	acme  = Org{ID: "acme", Name: "Acme", BillingHolderID: "dina", OwnerCount: 1}
	acme2 = Org{ID: "acme", Name: "Acme", BillingHolderID: "dina", OwnerCount: 2}
)

func ruleOf(err error) Rule {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Rule
	}
	return ""
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in   string
		want Role
		rule Rule
	}{
		{"owner", RoleOwner, ""},
		{" Admin ", RoleAdmin, ""},
		{"BUILDER", RoleBuilder, ""},
		{"member", RoleMember, ""},
		{"billing", "", RuleBillingNotARole},
		{"Billing", "", RuleBillingNotARole},
		{"boss", "", RuleUnknownRole},
	}
	for _, tt := range tests {
		got, err := ParseRole(tt.in)
		if got != tt.want || ruleOf(err) != tt.rule {
			t.Errorf("ParseRole(%q) = %q, %v", tt.in, got, err)
		}
	}
	_, err := ParseRole("billing")
	if !strings.Contains(err.Error(), "transfer") {
		t.Errorf("billing refusal does not point to the transfer: %v", err)
	}
}

func TestDecideRoleChange(t *testing.T) {
	owner2 := Member{ID: "o2", Name: "O2", Role: RoleOwner, Status: MemberActive}
	tests := []struct {
		name   string
		org    Org
		actor  *Member
		target Member
		to     Role
		rule   Rule
		delta  int
	}{
		{"owner promotes member", acme, &dina, sari, RoleAdmin, "", 0},
		{"owner makes owner", acme, &dina, sari, RoleOwner, "", 1},
		{"admin edits builder", acme, &omar, ravi, RoleMember, "", 0},
		{"admin makes owner", acme, &omar, ravi, RoleOwner, RuleOnlyOwnerEditsOwner, 0},
		{"admin demotes owner", acme2, &omar, owner2, RoleAdmin, RuleOnlyOwnerEditsOwner, 0},
		{"member edits", acme, &sari, ravi, RoleAdmin, RuleNotOwnerOrAdmin, 0},
		{"builder edits", acme, &ravi, sari, RoleAdmin, RuleNotOwnerOrAdmin, 0},
		{"last owner demoted", acme, &dina, dina, RoleAdmin, RuleLastOwner, 0},
		{"last owner demoted by operator", acme, nil, dina, RoleMember, RuleLastOwner, 0},
		{"one of two owners demoted", acme2, &dina, owner2, RoleAdmin, "", -1},
		{"unchanged", acme, &dina, sari, RoleMember, RuleRoleUnchanged, 0},
		{"target left", acme, &dina, gone, RoleAdmin, RuleNotMember, 0},
		{"operator makes owner", acme, nil, sari, RoleOwner, "", 1},
	}
	for _, tt := range tests {
		c, err := DecideRoleChange(tt.org, tt.actor, tt.target, tt.to)
		if ruleOf(err) != tt.rule {
			t.Errorf("%s: err = %v, want rule %q", tt.name, err, tt.rule)
			continue
		}
		if err == nil && c.OwnerDelta != tt.delta {
			t.Errorf("%s: owner delta %d, want %d", tt.name, c.OwnerDelta, tt.delta)
		}
	}
}

func TestDecideRequest(t *testing.T) {
	pending := &Transfer{ID: "t1", InitiatorID: "dina", RecipientID: "sari", Status: TransferPending, RequestedAt: t0, ExpiresAt: t0.Add(DefaultTransferTTL)}
	notOwnerHolder := acme
	notOwnerHolder.BillingHolderID = "sari"
	tests := []struct {
		name      string
		org       Org
		actor     Member
		to        string
		recipient *Member
		pending   *Transfer
		now       time.Time
		rule      Rule
	}{
		{"worked example", acme, dina, "sari", &sari, nil, t0, ""},
		{"non-holder owner", acme, Member{ID: "o2", Role: RoleOwner, Status: MemberActive}, "sari", &sari, nil, t0, RuleNotBillingHolder},
		{"non-owner non-holder", acme, sari, "ravi", &ravi, nil, t0, RuleNotBillingHolder},
		{"holder who is not an owner", notOwnerHolder, sari, "ravi", &ravi, nil, t0, RuleNotOwner},
		{"to self", acme, dina, "dina", &dina, nil, t0, RuleIneligibleRecipient},
		{"to nobody", acme, dina, "nobody", nil, nil, t0, RuleIneligibleRecipient},
		{"to a member who left", acme, dina, "gone", &gone, nil, t0, RuleIneligibleRecipient},
		{"to someone not in Slack", acme, dina, "mute", &mute, nil, t0, RuleIneligibleRecipient},
		{"second pending", acme, dina, "ravi", &ravi, pending, t0.Add(time.Hour), RuleTransferPending},
		{"pending has expired", acme, dina, "ravi", &ravi, pending, t0.Add(DefaultTransferTTL), ""},
	}
	for _, tt := range tests {
		tr, err := DecideRequest(tt.org, tt.actor, tt.to, tt.recipient, tt.pending, nil, "new", tt.now, 0)
		if ruleOf(err) != tt.rule {
			t.Errorf("%s: err = %v, want rule %q", tt.name, err, tt.rule)
			continue
		}
		if err == nil && (tr.Status != TransferPending || !tr.ExpiresAt.Equal(tt.now.Add(DefaultTransferTTL)) || tr.RecipientID != tt.to) {
			t.Errorf("%s: transfer %+v", tt.name, tr)
		}
		var r *Refusal
		if tt.rule == RuleTransferPending && (!errors.As(err, &r) || r.Transfer == nil || r.Transfer.ID != "t1" || !strings.Contains(r.Message, "cancel")) {
			t.Errorf("%s: the refusal does not name the pending transfer and how to cancel it: %v", tt.name, err)
		}
	}
}

func TestDecideAnswers(t *testing.T) {
	tr := Transfer{ID: "t1", InitiatorID: "dina", RecipientID: "sari", Status: TransferPending, RequestedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	closed := tr
	closed.Status = TransferDeclined
	demoted := dina
	demoted.Role = RoleAdmin
	moved := acme
	moved.BillingHolderID = "ravi"
	tests := []struct {
		name       string
		decide     func() (Outcome, error)
		rule       Rule
		outcome    TransferStatus
		withRefuse bool
	}{
		{"accept", func() (Outcome, error) { return DecideAccept(acme, tr, sari, dina, sari, t0) }, "", TransferAccepted, false},
		{"accept by initiator", func() (Outcome, error) { return DecideAccept(acme, tr, dina, dina, sari, t0) }, RuleNotRecipient, "", false},
		{"accept by other", func() (Outcome, error) { return DecideAccept(acme, tr, ravi, dina, sari, t0) }, RuleNotRecipient, "", false},
		{"accept closed", func() (Outcome, error) { return DecideAccept(acme, closed, sari, dina, sari, t0) }, RuleTransferClosed, "", false},
		{"accept expired", func() (Outcome, error) { return DecideAccept(acme, tr, sari, dina, sari, t0.Add(time.Hour)) }, "", TransferExpired, true},
		{"accept, initiator demoted", func() (Outcome, error) { return DecideAccept(acme, tr, sari, demoted, sari, t0) }, "", TransferInvalidated, true},
		{"accept, holder moved", func() (Outcome, error) { return DecideAccept(moved, tr, sari, dina, sari, t0) }, "", TransferInvalidated, true},
		{"accept, recipient left", func() (Outcome, error) {
			return DecideAccept(acme, tr, sari, dina, Member{ID: "sari", Status: MemberLeft}, t0)
		}, "", TransferInvalidated, true},
		{"decline", func() (Outcome, error) { return DecideDecline(tr, sari, t0) }, "", TransferDeclined, false},
		{"decline by initiator", func() (Outcome, error) { return DecideDecline(tr, dina, t0) }, RuleNotRecipient, "", false},
		{"decline closed", func() (Outcome, error) { return DecideDecline(closed, sari, t0) }, RuleTransferClosed, "", false},
		{"cancel", func() (Outcome, error) { return DecideCancel(tr, dina, t0) }, "", TransferCancelled, false},
		{"cancel by recipient", func() (Outcome, error) { return DecideCancel(tr, sari, t0) }, RuleNotInitiator, "", false},
		{"cancel expired", func() (Outcome, error) { return DecideCancel(tr, dina, t0.Add(2*time.Hour)) }, "", TransferExpired, true},
	}
	for _, tt := range tests {
		out, err := tt.decide()
		if ruleOf(err) != tt.rule || out.Status != tt.outcome || (out.Refusal != nil) != tt.withRefuse {
			t.Errorf("%s: outcome %+v, err %v", tt.name, out, err)
		}
	}
}

func TestDecideLeave(t *testing.T) {
	pendingToSari := &Transfer{ID: "t1", InitiatorID: "dina", RecipientID: "sari", Status: TransferPending, ExpiresAt: t0.Add(time.Hour)}
	holderSari := acme2
	holderSari.BillingHolderID = "sari"
	tests := []struct {
		name      string
		org       Org
		m         Member
		actor     *Member
		pending   *Transfer
		rule      Rule
		hint      string
		cancelled bool
	}{
		{"member leaves", acme, ravi, nil, nil, "", "", false},
		{"holder leaves", acme, dina, nil, nil, RuleHolderCannotLeave, "Transfer Billing first", false},
		{"non-owner holder leaves", holderSari, sari, nil, nil, RuleHolderCannotLeave, "make them an Owner", false},
		{"holder removed by operator", acme, dina, nil, nil, RuleHolderCannotLeave, "", false},
		{"last owner leaves", Org{BillingHolderID: "sari", OwnerCount: 1}, dina, nil, nil, RuleLastOwner, "", false},
		{"recipient leaves", acme, sari, nil, pendingToSari, "", "", true},
		{"bystander leaves", acme, ravi, nil, pendingToSari, "", "", false},
		{"admin removes member", acme, ravi, &omar, nil, "", "", false},
		{"member removes member", acme, ravi, &sari, nil, RuleNotOwnerOrAdmin, "", false},
		{"already gone", acme, gone, nil, nil, RuleNotMember, "", false},
	}
	for _, tt := range tests {
		dep, err := DecideLeave(tt.org, tt.m, tt.actor, MemberLeft, tt.pending, t0)
		if ruleOf(err) != tt.rule || (dep.Closes != nil) != tt.cancelled || (tt.cancelled && (dep.As != TransferInvalidated || !strings.Contains(dep.Reason, "left"))) {
			t.Errorf("%s: departure %+v, err %v", tt.name, dep, err)
		}
		if tt.hint != "" && (err == nil || !strings.Contains(err.Error(), tt.hint)) {
			t.Errorf("%s: refusal %v does not say %q", tt.name, err, tt.hint)
		}
	}
}

func TestDecideLeaveClosesAnExpiredTransferAsExpired(t *testing.T) {
	p := &Transfer{ID: "t1", InitiatorID: "dina", RecipientID: "sari", Status: TransferPending, ExpiresAt: t0}
	dep, err := DecideLeave(acme, sari, &dina, MemberRemoved, p, t0.Add(time.Minute))
	if err != nil || dep.Closes == nil || dep.As != TransferExpired {
		t.Fatalf("departure %+v, err %v", dep, err)
	}
	dep, err = DecideLeave(acme, sari, &dina, MemberRemoved, p, t0.Add(-time.Minute))
	if err != nil || dep.As != TransferInvalidated || !strings.Contains(dep.Reason, "removed") {
		t.Fatalf("departure %+v, err %v", dep, err)
	}
}

func TestEligibleRecipients(t *testing.T) {
	got := EligibleRecipients(acme, dina, []Member{dina, sari, omar, ravi, gone, mute})
	var ids []string
	for _, m := range got {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "omar,ravi,sari" {
		t.Fatalf("eligible = %v", ids)
	}
}

func TestEffectiveStatus(t *testing.T) {
	tr := Transfer{Status: TransferPending, ExpiresAt: t0}
	if tr.EffectiveStatus(t0.Add(-time.Nanosecond)) != TransferPending || tr.EffectiveStatus(t0) != TransferExpired {
		t.Fatal("expiry is not decided from the stored expiry")
	}
	tr.Status = TransferAccepted
	if tr.EffectiveStatus(t0.Add(time.Hour)) != TransferAccepted {
		t.Fatal("a closed transfer changed status")
	}
}
