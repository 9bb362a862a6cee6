package slackinstall_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/envelope"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slackinstall"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// TestEachWorkspaceItsOwnToken: every workspace's calls use its own
// installation's token; a workspace without one is ErrNotInstalled,
// logged, and served with no token at all.
func TestEachWorkspaceItsOwnToken(t *testing.T) {
	f := newFixture(t)
	f.install("T0ACME", "xoxb-acme")
	f.install("T0GLOBEX", "xoxb-globex")
	for _, tt := range []struct{ team, want string }{
		{"T0ACME", "xoxb-acme"}, {"T0GLOBEX", "xoxb-globex"}, {"T0ACME", "xoxb-acme"},
	} {
		if tok, err := f.tokenOf(tt.team); err != nil || tok != tt.want {
			t.Errorf("%s's call used %q, %v; want %s", tt.team, tok, err, tt.want)
		}
	}
	for _, team := range []string{"T0INITECH", ""} {
		c, err := f.ws.Client(f.ctx, team)
		if !errors.Is(err, slackapp.ErrNotInstalled) {
			t.Errorf("Client(%q) = %v, want ErrNotInstalled", team, err)
		}
		// A caller that ignores the error reaches Slack with no token.
		f.slack.Reset()
		_, _, _ = c.PostMessageContext(f.ctx, "C1", slack.MsgOptionText("x", false))
		if calls := f.slack.Calls(); len(calls) != 1 || calls[0].Token != "" {
			t.Errorf("Client(%q) ignored: the call carried %+v", team, calls)
		}
	}
	if !strings.Contains(f.logs.String(), `"msg":"slack: the app is not installed in this workspace","team":"T0INITECH"`) {
		t.Errorf("the missing installation is not logged:\n%s", f.logs.String())
	}
}

// countingStore counts installation reads.
type countingStore struct {
	slackinstall.FullStore
	reads atomic.Int64
}

func (c *countingStore) GetInstallation(ctx context.Context, team string) (domain.Installation, error) {
	c.reads.Add(1)
	return c.FullStore.GetInstallation(ctx, team)
}

// countingKeys counts data keys unwrapped (KMS Decrypt calls in AWS).
type countingKeys struct {
	envelope.KeyService
	decrypts atomic.Int64
}

func (c *countingKeys) DecryptDataKey(ctx context.Context, wrapped []byte, enc map[string]string) ([]byte, error) {
	c.decrypts.Add(1)
	return c.KeyService.DecryptDataKey(ctx, wrapped, enc)
}

// TestClientsAreCachedBriefly: a workspace's token is read and opened once
// per CacheTTL, a missing installation once per NotInstalledTTL.
func TestClientsAreCachedBriefly(t *testing.T) {
	f := newFixture(t)
	f.install("T0ACME", "xoxb-acme")
	store := &countingStore{FullStore: f.store}
	keys := &countingKeys{KeyService: f.keys}
	ws, _, err := slackinstall.Setup(slackinstall.Config{ClientID: clientID, ClientSecret: clientSecret, Store: store, Keys: keys,
		APIURL: f.slack.GetAPIURL(), Logger: f.log, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	get := func(team string) {
		t.Helper()
		if _, err := ws.Client(f.ctx, team); err != nil && !errors.Is(err, slackapp.ErrNotInstalled) {
			t.Fatal(err)
		}
	}
	steps := []struct {
		advance            time.Duration
		team               string
		reads, decryptsNow int64
	}{
		{0, "T0ACME", 1, 1},
		{0, "T0ACME", 1, 1},
		{slackinstall.CacheTTL - time.Second, "T0ACME", 1, 1},
		{time.Second, "T0ACME", 2, 2}, // expired: read and opened again
		{0, "T0NONE", 3, 2},
		{slackinstall.NotInstalledTTL - time.Second, "T0NONE", 3, 2},
		{time.Second, "T0NONE", 4, 2},
	}
	for i, s := range steps {
		f.clock.Advance(s.advance)
		get(s.team)
		if store.reads.Load() != s.reads || keys.decrypts.Load() != s.decryptsNow {
			t.Fatalf("step %d: %d reads, %d decrypts; want %d, %d", i, store.reads.Load(), keys.decrypts.Load(), s.reads, s.decryptsNow)
		}
	}
}

// TestSingleToken: without OAuth the configured token serves every
// request, as slackapp.OneWorkspace does, until Slack refuses it.
func TestSingleToken(t *testing.T) {
	s := slacktestx.New(t)
	s.AddToken("xoxb-only", "T0ONE", "U0BOT")
	ws, inst, err := slackinstall.Setup(slackinstall.Config{BotToken: "xoxb-only", APIURL: s.GetAPIURL()})
	if err != nil || inst != nil {
		t.Fatalf("Setup = %v, installer %v; want no installer", err, inst)
	}
	ctx := context.Background()
	for _, team := range []string{"T0ONE", "", "T0ANY"} {
		c, err := ws.Client(ctx, team)
		if err != nil {
			t.Fatalf("Client(%q): %v", team, err)
		}
		if _, _, err := c.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range s.Calls("chat.postMessage") {
		if c.Token != "xoxb-only" {
			t.Errorf("call with %q", c.Token)
		}
	}
	// The app is uninstalled: Slack revokes the token and says so.
	s.Revoke("xoxb-only")
	if err := ws.Uninstall(ctx, "T0ONE"); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Client(ctx, "T0ONE"); !errors.Is(err, slackapp.ErrNotInstalled) {
		t.Errorf("after the uninstall: %v, want ErrNotInstalled", err)
	}
	if _, _, err := slackinstall.Setup(slackinstall.Config{}); err == nil {
		t.Error("Setup with neither a token nor OAuth succeeded")
	}
	if _, _, err := slackinstall.Setup(slackinstall.Config{ClientID: clientID}); err == nil {
		t.Error("Setup with a client id and no secret succeeded")
	}
	if _, _, err := slackinstall.Setup(slackinstall.Config{ClientID: clientID, ClientSecret: clientSecret}); err == nil {
		t.Error("Setup with OAuth and no key service succeeded")
	}
}

// TestSingleTokenIsTheFirstInstallation: with OAuth, the configured token
// serves its own workspace only (found with auth.test), until an install
// stores that workspace's own; installations serve the others.
func TestSingleTokenIsTheFirstInstallation(t *testing.T) {
	f := newFixture(t, withBotToken("xoxb-first"))
	f.slack.AddToken("xoxb-first", "T0FIRST", "U0BOT")
	f.install("T0ACME", "xoxb-acme")
	tests := []struct {
		team, want   string
		notInstalled bool
	}{
		{"T0FIRST", "xoxb-first", false},
		{"T0ACME", "xoxb-acme", false},
		{"T0OTHER", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		tok, err := f.tokenOf(tt.team)
		if tt.notInstalled != errors.Is(err, slackapp.ErrNotInstalled) || tok != tt.want {
			t.Errorf("%q: token %q, %v; want %q", tt.team, tok, err, tt.want)
		}
	}
	if n := len(f.slack.Calls("auth.test")); n != 1 {
		t.Errorf("auth.test called %d times, want once", n)
	}
	// Installing by OAuth into the first workspace replaces the token.
	f.install("T0FIRST", "xoxb-first-oauth")
	if tok, err := f.tokenOf("T0FIRST"); err != nil || tok != "xoxb-first-oauth" {
		t.Errorf("after an OAuth install of the first workspace: %q, %v", tok, err)
	}
}

// TestRefusedTokenIsDropped: when Slack refuses a workspace's token (it
// was revoked and this instance missed the event), the cached client goes
// at once and the installation is not used again until it is installed
// anew.
func TestRefusedTokenIsDropped(t *testing.T) {
	f := newFixture(t)
	f.install("T0ACME", "xoxb-acme-1")
	f.install("T0GLOBEX", "xoxb-globex")
	if _, err := f.tokenOf("T0ACME"); err != nil {
		t.Fatal(err)
	}
	f.slack.Revoke("xoxb-acme-1")
	if _, err := f.tokenOf("T0ACME"); err == nil || !strings.Contains(err.Error(), "token_revoked") {
		t.Fatalf("a call with the revoked token: %v", err)
	}
	f.slack.Reset()
	if _, err := f.ws.Client(f.ctx, "T0ACME"); !errors.Is(err, slackapp.ErrNotInstalled) {
		t.Errorf("after Slack refused the token: %v, want ErrNotInstalled", err)
	}
	if len(f.slack.Calls()) != 0 {
		t.Errorf("Slack was called again: %+v", f.slack.Calls())
	}
	if tok, err := f.tokenOf("T0GLOBEX"); err != nil || tok != "xoxb-globex" {
		t.Errorf("the other workspace: %q, %v", tok, err)
	}
	f.clock.Advance(time.Minute)
	f.install("T0ACME", "xoxb-acme-2")
	if tok, err := f.tokenOf("T0ACME"); err != nil || tok != "xoxb-acme-2" {
		t.Errorf("after installing again: %q, %v", tok, err)
	}
}

// TestUninstall: Slack's uninstall removes the installation when its
// token no longer works, and keeps it when it does (the event is about an
// earlier installation).
func TestUninstall(t *testing.T) {
	f := newFixture(t)
	f.install("T0ACME", "xoxb-acme-1")
	f.install("T0GLOBEX", "xoxb-globex")
	if _, err := f.tokenOf("T0ACME"); err != nil { // cached
		t.Fatal(err)
	}

	// A late event about an earlier installation: the token works.
	if err := f.ws.Uninstall(f.ctx, "T0ACME"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.installed("T0ACME"); !ok {
		t.Fatal("an installation whose token works was removed")
	}

	f.slack.Revoke("xoxb-acme-1")
	if err := f.ws.Uninstall(f.ctx, "T0ACME"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.installed("T0ACME"); ok {
		t.Error("the uninstalled workspace's installation is still stored")
	}
	if _, err := f.ws.Client(f.ctx, "T0ACME"); !errors.Is(err, slackapp.ErrNotInstalled) {
		t.Errorf("after the uninstall: %v, want ErrNotInstalled at once", err)
	}
	if tok, err := f.tokenOf("T0GLOBEX"); err != nil || tok != "xoxb-globex" {
		t.Errorf("the other workspace: %q, %v", tok, err)
	}
	// Uninstalling again, or a workspace never installed, is harmless.
	for _, team := range []string{"T0ACME", "T0NEVER"} {
		if err := f.ws.Uninstall(f.ctx, team); err != nil {
			t.Errorf("Uninstall(%s) = %v", team, err)
		}
	}
	f.install("T0ACME", "xoxb-acme-2")
	if tok, err := f.tokenOf("T0ACME"); err != nil || tok != "xoxb-acme-2" {
		t.Errorf("after installing again: %q, %v", tok, err)
	}
}

// TestSealedTokenCannotMove: a sealed token copied onto another
// workspace's installation does not open there; that workspace is not
// served with the other's token.
func TestSealedTokenCannotMove(t *testing.T) {
	f := newFixture(t)
	f.install("T0ACME", "xoxb-acme")
	in, _ := f.installed("T0ACME")
	in.TeamID = "T0EVIL"
	if err := f.store.SaveInstallation(f.ctx, in); err != nil {
		t.Fatal(err)
	}
	tok, err := f.tokenOf("T0EVIL")
	if !errors.Is(err, slackapp.ErrNotInstalled) || tok != "" {
		t.Errorf("the moved token: %q, %v; want ErrNotInstalled", tok, err)
	}
	if !strings.Contains(f.logs.String(), "cannot be opened") {
		t.Errorf("not logged:\n%s", f.logs.String())
	}
	// Remembered as not installed for a while: the next calls neither read
	// nor try to open it again.
	if _, err := f.tokenOf("T0EVIL"); !errors.Is(err, slackapp.ErrNotInstalled) {
		t.Errorf("again: %v", err)
	}
	if n := strings.Count(f.logs.String(), "stored bot token cannot be opened"); n != 1 {
		t.Errorf("tried to open it %d times within a minute, want 1", n)
	}
	f.clock.Advance(slackinstall.NotInstalledTTL + time.Second)
	if _, err := f.tokenOf("T0EVIL"); !errors.Is(err, slackapp.ErrNotInstalled) {
		t.Errorf("later: %v", err)
	}
	if n := strings.Count(f.logs.String(), "stored bot token cannot be opened"); n != 2 {
		t.Errorf("tried to open it %d times after the minute, want 2", n)
	}
}

// TestKeyServiceDown: when the token cannot be opened for now (KMS down),
// the error is not ErrNotInstalled (the workspace is not gone) and
// nothing is cached.
func TestKeyServiceDown(t *testing.T) {
	f := newFixture(t)
	f.install("T0ACME", "xoxb-acme")
	ws, _, err := slackinstall.Setup(slackinstall.Config{ClientID: clientID, ClientSecret: clientSecret, Store: f.store, Keys: downKeys{},
		APIURL: f.slack.GetAPIURL(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Client(f.ctx, "T0ACME"); err == nil || errors.Is(err, slackapp.ErrNotInstalled) {
		t.Errorf("Client with KMS down = %v, want a retryable error", err)
	}
}
