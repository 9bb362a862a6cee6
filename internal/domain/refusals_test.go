package domain

import (
	"strings"
	"testing"
)

// TestTransferRefusalsSayWhatToDo: an answer that lands on a transfer
// that expired or lost its validity is refused with its rule, and the
// message tells the person what they can do now: the holder can start a
// new transfer.
func TestTransferRefusalsSayWhatToDo(t *testing.T) {
	pending := Transfer{OrgID: "acme", ID: "tr1", InitiatorID: "dina", RecipientID: "sari", Status: TransferPending, RequestedAt: t0, ExpiresAt: t0.Add(DefaultTransferTTL)}
	late := t0.Add(DefaultTransferTTL)
	demoted := dina
	demoted.Role = RoleAdmin
	invalidated := pending
	invalidated.Status, invalidated.Reason = TransferInvalidated, "Sari left the organization."
	expired := pending
	expired.Status = TransferExpired
	cases := []struct {
		name   string
		refuse func() *Refusal
		rule   Rule
	}{
		{"accept after expiry", func() *Refusal { o, _ := DecideAccept(acme, pending, sari, dina, sari, late); return o.Refusal }, RuleTransferExpired},
		{"decline after expiry", func() *Refusal { o, _ := DecideDecline(pending, sari, late); return o.Refusal }, RuleTransferExpired},
		{"cancel after expiry", func() *Refusal { o, _ := DecideCancel(pending, dina, late); return o.Refusal }, RuleTransferExpired},
		{"accept when the initiator is no longer an Owner", func() *Refusal {
			o, _ := DecideAccept(acme2, pending, sari, demoted, sari, t0)
			return o.Refusal
		}, RuleTransferInvalidated},
		{"click on an invalidated transfer", func() *Refusal {
			_, err := DecideAccept(acme, invalidated, sari, dina, sari, t0)
			return err.(*Refusal)
		}, RuleTransferInvalidated},
		{"click on a swept expired transfer", func() *Refusal { _, err := DecideDecline(expired, sari, t0); return err.(*Refusal) }, RuleTransferExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.refuse()
			if r == nil || r.Rule != c.rule {
				t.Fatalf("refusal %+v, want rule %s", r, c.rule)
			}
			if !strings.Contains(r.Message, "new transfer") || !strings.Contains(r.Message, "`/billing transfer`") {
				t.Fatalf("message %q does not say what to do", r.Message)
			}
			if r.Transfer == nil && c.rule != RuleTransferInvalidated {
				t.Fatal("refusal does not carry the transfer")
			}
		})
	}
}
