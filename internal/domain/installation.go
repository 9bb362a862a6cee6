package domain

import (
	"time"
)

// Installation is the Slack app's installation in one workspace: what the
// OAuth install stored when a person of that workspace approved it. One
// deployment serves many workspaces, each organization in its own; every
// Web API call about a workspace is made with that workspace's bot token.
//
// The bot token is kept only sealed (envelope-encrypted, bound to TeamID
// so that a sealed token cannot be moved onto another workspace's
// installation); this package never sees it in clear.
type Installation struct {
	// TeamID is the workspace (T…). Organizations name it as their
	// slack_team_id.
	TeamID   string
	TeamName string
	// EnterpriseID is the Enterprise Grid organization (E…) the workspace
	// belongs to, if any.
	EnterpriseID   string
	EnterpriseName string
	AppID          string
	BotUserID      string
	// BotScopes are the scopes Slack granted the bot token.
	BotScopes []string
	// InstalledBy is the Slack user who approved the install.
	InstalledBy string
	InstalledAt time.Time
	// SealedBotToken is the bot token, sealed.
	SealedBotToken []byte
}

// maxSealedToken bounds a sealed token: a bot token is under 100 bytes;
// its envelope (a KMS-wrapped data key, a nonce, a tag) adds a few hundred.
const maxSealedToken = 4096

// Validate checks an installation before it is stored.
func (in Installation) Validate() error {
	switch {
	case in.TeamID == "":
		return Refusef(RuleInvalid, "an installation needs its workspace's id")
	case len(in.SealedBotToken) == 0:
		return Refusef(RuleInvalid, "an installation of workspace %s needs its sealed bot token", in.TeamID)
	case len(in.SealedBotToken) > maxSealedToken:
		return Refusef(RuleInvalid, "the sealed bot token of workspace %s is %d bytes; at most %d", in.TeamID, len(in.SealedBotToken), maxSealedToken)
	case in.InstalledAt.IsZero():
		return Refusef(RuleInvalid, "an installation of workspace %s needs its time", in.TeamID)
	}
	if err := ValidateSlackTeamID(in.TeamID); err != nil {
		return err
	}
	if in.EnterpriseID != "" {
		if err := ValidateSlackTeamID(in.EnterpriseID); err != nil {
			return err
		}
	}
	if in.BotUserID != "" {
		if err := ValidateSlackUserID(in.BotUserID); err != nil {
			return err
		}
	}
	return ValidateSlackUserID(in.InstalledBy)
}
