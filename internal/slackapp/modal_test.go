package slackapp_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// TestModalErrors: a submission the rules refuse keeps the modal open with
// the rule's message on the member field (response_action errors keyed by
// the input block), and changes nothing.
func TestModalErrors(t *testing.T) {
	tests := []struct {
		name      string
		before    func(f *fixture)
		submitter string
		recipient string
		want      string
		wantOpen  bool // a transfer remains pending (made by before)
	}{
		{name: "recipient left between open and submit", before: func(f *fixture) {
			if err := f.store.Leave(f.ctx, org, "sari"); err != nil {
				f.t.Fatal(err)
			}
		}, submitter: dina, recipient: "sari", want: "no longer a member"},
		{name: "a second pending transfer", before: func(f *fixture) { f.requestTransfer("omar") },
			submitter: dina, recipient: "sari", want: "already pending", wantOpen: true},
		{name: "recipient cannot be reached in Slack", submitter: dina, recipient: "nora", want: "cannot be reached in Slack"},
		{name: "recipient is not a member", submitter: dina, recipient: "ghost", want: "not a member"},
		{name: "submitter does not hold Billing", submitter: omar, recipient: "sari", want: "Only the Billing holder"},
		{name: "submitter is no member", submitter: stray, recipient: "sari", want: "no longer an active member"},
		{name: "nothing chosen", submitter: dina, recipient: "", want: "Choose the member"},
		{name: "the request cannot be delivered", before: func(f *fixture) { f.slack.FailNext("conversations.open", "cannot_dm_bot") },
			submitter: dina, recipient: "sari", want: "withdrawn"},
		{name: "Slack does not answer within the request's budget", before: func(f *fixture) {
			f.app = slackapp.New(slackapp.Config{Store: f.store, Workspaces: slackapp.OneWorkspace(f.slack.Client()), SigningSecret: testSecret, Now: time.Now, Budget: 1500 * time.Millisecond})
			f.slack.HangNext("chat.postMessage")
		}, submitter: dina, recipient: "sari", want: "withdrawn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.before != nil {
				tt.before(f)
			}
			before := f.pending()
			r := f.interact(submitPayload(tt.submitter, org, tt.recipient))
			var resp struct {
				Action string            `json:"response_action"`
				Errors map[string]string `json:"errors"`
			}
			if err := json.Unmarshal([]byte(r.Body), &resp); err != nil || r.StatusCode != 200 {
				t.Fatalf("answer %d %q: %v", r.StatusCode, r.Body, err)
			}
			if resp.Action != "errors" || !strings.Contains(resp.Errors["recipient"], tt.want) {
				t.Fatalf("answer = %+v, want errors on block recipient containing %q", resp, tt.want)
			}
			after := f.pending()
			switch {
			case tt.wantOpen && (after == nil || before == nil || after.ID != before.ID):
				t.Errorf("the pending transfer changed: %+v → %+v", before, after)
			case !tt.wantOpen && after != nil:
				t.Errorf("a refused submission left a pending transfer: %+v", after)
			}
		})
	}
}

// TestTransferCommandRefusals: who cannot start a transfer is told why and
// gets no modal.
func TestTransferCommandRefusals(t *testing.T) {
	tests := []struct {
		name   string
		before func(f *fixture)
		user   string
		want   string
	}{
		{name: "an Admin without Billing", user: omar, want: "Only the Billing holder"},
		{name: "a member of no organization", user: stray, want: "not a member of any organization"},
		{name: "a transfer is pending", before: func(f *fixture) { f.requestTransfer("sari") }, user: dina, want: "/billing cancel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.before != nil {
				tt.before(f)
			}
			f.slack.Reset()
			if got := ephemeralText(t, f.billing(tt.user, "transfer")); !strings.Contains(got, tt.want) {
				t.Errorf("answer = %q, want it to contain %q", got, tt.want)
			}
			if n := len(f.slack.Calls("views.open")); n != 0 {
				t.Errorf("views.open called %d times", n)
			}
		})
	}
}
