package slackapp

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Workspaces gives the Slack Web API client of a workspace: one with the
// bot token of the app's installation there. One deployment serves every
// organization in its own workspace, so every call the app makes goes
// through the client of the workspace it concerns (the request's team, or
// the organization's), never another workspace's.
type Workspaces interface {
	// Client is the workspace's client; ErrNotInstalled when the app has
	// no installation there.
	Client(ctx context.Context, teamID string) (*slack.Client, error)
}

// Uninstaller forgets a workspace's installation when Slack says the app
// was uninstalled or its tokens revoked. Workspaces that keep
// installations implement it.
type Uninstaller interface {
	Uninstall(ctx context.Context, teamID string) error
}

// ErrNotInstalled is returned for a workspace the app is not installed in.
// Nothing can be sent there, so it is a domain.ErrUndeliverable too.
var ErrNotInstalled error = notInstalled{}

type notInstalled struct{}

func (notInstalled) Error() string        { return "orgcredit is not installed in this workspace" }
func (notInstalled) Is(target error) bool { return target == domain.ErrUndeliverable }

// OneWorkspace is the simple configuration: one bot token, one workspace
// (any team is served with it). It is how the local server and a
// single-workspace deployment run.
func OneWorkspace(c *slack.Client) Workspaces { return oneWorkspace{c} }

type oneWorkspace struct{ c *slack.Client }

func (w oneWorkspace) Client(context.Context, string) (*slack.Client, error) { return w.c, nil }

// api is the client for team, or an error that names the workspace.
func (a *App) api(ctx context.Context, teamID string) (*slack.Client, error) {
	c, err := a.workspaces.Client(ctx, teamID)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", teamID, err)
	}
	return c, nil
}
