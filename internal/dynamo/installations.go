package dynamo

import (
	"context"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// The Slack app's installations, one item per workspace under its own
// partition (SLACKTEAM#<team>): read by key on a token cache miss, written
// by an install, deleted by an uninstall. The bot token is stored sealed
// (binary), as the Slack installer hands it over; the store never sees it
// in clear.

type installationItem struct {
	PK             string   `dynamodbav:"PK"`
	SK             string   `dynamodbav:"SK"`
	Type           string   `dynamodbav:"type"`
	TeamID         string   `dynamodbav:"team_id"`
	TeamName       string   `dynamodbav:"team_name,omitempty"`
	EnterpriseID   string   `dynamodbav:"enterprise_id,omitempty"`
	EnterpriseName string   `dynamodbav:"enterprise_name,omitempty"`
	AppID          string   `dynamodbav:"app_id,omitempty"`
	BotUserID      string   `dynamodbav:"bot_user_id,omitempty"`
	BotScopes      []string `dynamodbav:"bot_scopes,omitempty"`
	InstalledBy    string   `dynamodbav:"installed_by,omitempty"`
	InstalledAt    string   `dynamodbav:"installed_at"`
	SealedBotToken []byte   `dynamodbav:"sealed_bot_token"`
}

func (it installationItem) domain() domain.Installation {
	return domain.Installation{
		TeamID: it.TeamID, TeamName: it.TeamName, EnterpriseID: it.EnterpriseID, EnterpriseName: it.EnterpriseName,
		AppID: it.AppID, BotUserID: it.BotUserID, BotScopes: it.BotScopes, InstalledBy: it.InstalledBy,
		InstalledAt: parseTime(it.InstalledAt), SealedBotToken: it.SealedBotToken,
	}
}

// SaveInstallation stores a workspace's installation, replacing the one
// it had: a re-install brings a new token (and maybe other scopes). An
// installation stored with a later time is kept instead, so that an
// install that finishes late cannot overwrite a newer one.
func (s *Store) SaveInstallation(ctx context.Context, in domain.Installation) error {
	if err := in.Validate(); err != nil {
		return err
	}
	at := fmtTime(in.InstalledAt)
	it := installationItem{
		PK: installationPK(in.TeamID), SK: skInstallation, Type: typeInstallation,
		TeamID: in.TeamID, TeamName: in.TeamName, EnterpriseID: in.EnterpriseID, EnterpriseName: in.EnterpriseName,
		AppID: in.AppID, BotUserID: in.BotUserID, BotScopes: in.BotScopes, InstalledBy: in.InstalledBy,
		InstalledAt: at, SealedBotToken: in.SealedBotToken,
	}
	return s.mutate(ctx, "Slack installation", func(ctx context.Context) (*write, error) {
		older := name(PartitionKey).AttributeNotExists().Or(name("installed_at").LessThanEqual(value(at)))
		tx := new(txn).add("installation", put(marshal(it), when(older)))
		// A cancellation means a newer installation is stored: it stays.
		return &write{tx: tx, canceled: func(*canceled) error { return nil }}, nil
	})
}

// GetInstallation reads a workspace's installation; domain.ErrNotFound when
// the app is not installed there.
func (s *Store) GetInstallation(ctx context.Context, teamID string) (domain.Installation, error) {
	return getDomain[installationItem](ctx, s, installationPK(teamID), skInstallation, "Slack installation of workspace", teamID)
}

// DeleteInstallation removes a workspace's installation, the one installed
// at installedAt only: an uninstall decided on what it read must not take
// away a re-install that happened meanwhile. It reports whether it
// removed it.
func (s *Store) DeleteInstallation(ctx context.Context, teamID string, installedAt time.Time) (bool, error) {
	removed := true
	err := s.mutate(ctx, "Slack uninstall", func(ctx context.Context) (*write, error) {
		same := when(name("installed_at").Equal(value(fmtTime(installedAt))))
		tx := new(txn).add("installation", remove(itemKey(installationPK(teamID), skInstallation), same))
		return &write{tx: tx, canceled: func(*canceled) error {
			removed = false // gone already, or replaced by a newer install
			return nil
		}}, nil
	})
	return removed && err == nil, err
}
