package slackapp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
)

type click struct {
	user, action string
	onInitiator  bool // the click is on Dina's confirmation, not Sari's request
	stale        bool // the clicked message was already rewritten (no buttons)
}

// TestClicks: only the recipient answers and only the initiator cancels;
// late, repeated and wrong clicks change nothing and say where the
// transfer stands; every outcome leaves no live button and tells the other
// party exactly once.
func TestClicks(t *testing.T) {
	tests := []struct {
		name          string
		expire        bool // the store's clock passes the expiry before the clicks
		clicks        []click
		wantHolder    string
		wantStatus    domain.TransferStatus
		wantEphemeral string // said to the last clicker, "" for nothing
		wantToDina    int    // outcome DMs to Dina after the request
		wantToSari    int    // outcome DMs to Sari after the request
	}{
		{name: "accept", clicks: []click{{sari, "transfer_accept", false, false}},
			wantHolder: "sari", wantStatus: domain.TransferAccepted, wantToDina: 1},
		{name: "decline", clicks: []click{{sari, "transfer_decline", false, false}},
			wantHolder: "dina", wantStatus: domain.TransferDeclined, wantToDina: 1},
		{name: "cancel by the initiator", clicks: []click{{dina, "transfer_cancel", true, false}},
			wantHolder: "dina", wantStatus: domain.TransferCancelled, wantToSari: 1},
		{name: "wrong clicker: an Admin clicks Accept", clicks: []click{{omar, "transfer_accept", false, false}},
			wantHolder: "dina", wantStatus: domain.TransferPending, wantEphemeral: "Only the recipient"},
		{name: "wrong clicker: the initiator clicks Accept", clicks: []click{{dina, "transfer_accept", false, false}},
			wantHolder: "dina", wantStatus: domain.TransferPending, wantEphemeral: "Only the recipient"},
		{name: "wrong clicker: the recipient clicks Cancel", clicks: []click{{sari, "transfer_cancel", true, false}},
			wantHolder: "dina", wantStatus: domain.TransferPending, wantEphemeral: "Only the Owner who started"},
		{name: "wrong clicker: not a member at all", clicks: []click{{stray, "transfer_accept", false, false}},
			wantHolder: "dina", wantStatus: domain.TransferPending, wantEphemeral: "not an active member"},
		{name: "double click on Accept", clicks: []click{{sari, "transfer_accept", false, false}, {sari, "transfer_accept", false, false}},
			wantHolder: "sari", wantStatus: domain.TransferAccepted, wantEphemeral: "already accepted", wantToDina: 1},
		{name: "accept after cancel", clicks: []click{{dina, "transfer_cancel", true, false}, {sari, "transfer_accept", false, true}},
			wantHolder: "dina", wantStatus: domain.TransferCancelled, wantEphemeral: "already cancelled", wantToSari: 1},
		{name: "accept after decline", clicks: []click{{sari, "transfer_decline", false, false}, {sari, "transfer_accept", false, true}},
			wantHolder: "dina", wantStatus: domain.TransferDeclined, wantEphemeral: "already declined", wantToDina: 1},
		{name: "cancel after accept", clicks: []click{{sari, "transfer_accept", false, false}, {dina, "transfer_cancel", true, true}},
			wantHolder: "sari", wantStatus: domain.TransferAccepted, wantEphemeral: "already accepted", wantToDina: 1},
		{name: "accept after expiry tells both once", expire: true,
			clicks:     []click{{sari, "transfer_accept", false, false}, {sari, "transfer_accept", false, false}},
			wantHolder: "dina", wantStatus: domain.TransferExpired, wantEphemeral: "already expired", wantToDina: 1, wantToSari: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tr := f.requestTransfer("sari")
			f.slack.Reset()
			if tt.expire {
				f.ahead.Store(int64(domain.DefaultTransferTTL + time.Hour))
			}
			value := org + "|" + tr.ID
			var last click
			for _, c := range tt.clicks {
				msg := tr.RecipientMessage
				if c.onInitiator {
					msg = tr.InitiatorMessage
				}
				r := f.interact(clickPayload(c.user, c.action, value, msg.Channel, msg.TS, !c.stale))
				if r.StatusCode != 200 {
					t.Fatalf("click %v: status %d %s", c, r.StatusCode, r.Body)
				}
				last = c
			}

			if got := f.orgNow().BillingHolderID; got != tt.wantHolder {
				t.Errorf("Billing holder = %q, want %q", got, tt.wantHolder)
			}
			got, err := f.store.GetTransfer(f.ctx, org, tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantStatus {
				t.Errorf("transfer status = %s, want %s", got.Status, tt.wantStatus)
			}

			var said string
			for _, c := range f.slack.Calls("chat.postEphemeral") {
				if c.Param("user") == last.user {
					said = c.Param("text")
				}
			}
			if tt.wantEphemeral == "" && said != "" {
				t.Errorf("unexpected ephemeral answer %q", said)
			}
			if tt.wantEphemeral != "" && !strings.Contains(said, tt.wantEphemeral) {
				t.Errorf("ephemeral answer to %s = %q, want it to contain %q", last.user, said, tt.wantEphemeral)
			}

			updates := f.slack.Calls("chat.update")
			for _, u := range updates {
				if u.HasTransferButtons() {
					t.Errorf("a rewritten message still has buttons: %s", u.Text())
				}
			}
			if tt.wantStatus == domain.TransferPending {
				if len(updates) != 0 {
					t.Errorf("a refused click rewrote %d messages", len(updates))
				}
			} else {
				assertRewritten(t, f.slack, tr.RecipientMessage, tr.InitiatorMessage, string(tt.wantStatus))
			}
			if n := len(f.posted(dmChannel(dina))); n != tt.wantToDina {
				t.Errorf("DMs to Dina = %d, want %d", n, tt.wantToDina)
			}
			if n := len(f.posted(dmChannel(sari))); n != tt.wantToSari {
				t.Errorf("DMs to Sari = %d, want %d", n, tt.wantToSari)
			}
		})
	}
}

// TestCancelCommand: `/billing cancel` closes the pending transfer like the
// button, rewriting both messages and telling the recipient.
func TestCancelCommand(t *testing.T) {
	f := newFixture(t)
	if got := ephemeralText(t, f.billing(dina, "cancel")); !strings.Contains(got, "No transfer") {
		t.Errorf("cancel with nothing pending = %q", got)
	}
	tr := f.requestTransfer("sari")
	f.slack.Reset()
	if got := ephemeralText(t, f.billing(sari, "cancel")); !strings.Contains(got, "Only the Owner who started") {
		t.Errorf("cancel by the recipient = %q", got)
	}
	if f.pending() == nil {
		t.Fatal("the recipient's /billing cancel closed the transfer")
	}
	if got := ephemeralText(t, f.billing(dina, "cancel")); !strings.Contains(got, "cancelled") {
		t.Errorf("cancel by Dina = %q", got)
	}
	if f.pending() != nil {
		t.Fatal("still pending after /billing cancel")
	}
	assertRewritten(t, f.slack, tr.RecipientMessage, tr.InitiatorMessage, "cancelled")
	if n := len(f.posted(dmChannel(sari))); n != 1 {
		t.Errorf("DMs to Sari = %d, want 1", n)
	}
}

// TestAnnounceTransferOutcome: what the notifier calls after the sweeper
// expired a transfer.
func TestAnnounceTransferOutcome(t *testing.T) {
	f := newFixture(t)
	tr := f.requestTransfer("sari")
	f.slack.Reset()
	f.ahead.Store(int64(domain.DefaultTransferTTL + time.Minute))
	expired, err := f.store.ExpireDueTransfers(f.ctx)
	if err != nil || len(expired) != 1 {
		t.Fatalf("ExpireDueTransfers = %v, %v", expired, err)
	}
	if err := f.app.AnnounceTransferOutcome(f.ctx, expired[0]); err != nil {
		t.Fatal(err)
	}
	assertRewritten(t, f.slack, tr.RecipientMessage, tr.InitiatorMessage, "expired")
	if len(f.posted(dmChannel(dina))) != 1 || len(f.posted(dmChannel(sari))) != 1 {
		t.Errorf("both parties should be told of the expiry")
	}
	publishedFor(t, f.slack, sari)
	publishedFor(t, f.slack, dina)
}
