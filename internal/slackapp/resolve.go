package slackapp

import (
	"context"
	"sort"
	"strings"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// Who acts is resolved from the Slack identity of the request (the team
// and user Slack signed), never from a value in a button or a form.

// maxChoices bounds how many organizations an answer lists by name.
const maxChoices = 20

// memberships are the organizations a Slack user is an active member of,
// by name.
func (a *App) memberships(ctx context.Context, teamID, userID string) ([]domain.Membership, error) {
	ms, err := a.store.Memberships(ctx, teamID, userID)
	if err != nil {
		return nil, err
	}
	sort.Slice(ms, func(i, j int) bool {
		x, y := strings.ToLower(ms[i].Org.Name), strings.ToLower(ms[j].Org.Name)
		if x != y {
			return x < y
		}
		return ms[i].Org.ID < ms[j].Org.ID
	})
	return ms, nil
}

// notAMember is the answer for someone no organization here knows.
var notAMember = mrkdwn.F("You're not a member of any organization that uses orgcredit in this Slack workspace. Ask whoever runs orgcredit for your organization to add you.")

// choose picks the membership a command acts in: the organization named
// with org:<id>; else the only one; else the one the person last chose in
// My Credit. When none of those decides, reply asks them to choose.
func (a *App) choose(ctx context.Context, teamID, userID, named string) (m domain.Membership, reply md, err error) {
	ms, err := a.memberships(ctx, teamID, userID)
	if err != nil {
		return m, md{}, err
	}
	if len(ms) == 0 {
		return m, notAMember, nil
	}
	if named != "" {
		for _, x := range ms {
			if x.Org.ID == named {
				return x, md{}, nil
			}
		}
		return m, mrkdwn.F("You're not a member of an organization %s. Yours: %s.", mrkdwn.Code("org:"+named), orgList(ms)), nil
	}
	if len(ms) == 1 {
		return ms[0], md{}, nil
	}
	if pref, err := a.store.PreferredOrg(ctx, teamID, userID); err == nil && pref != "" {
		for _, x := range ms {
			if x.Org.ID == pref {
				return x, md{}, nil
			}
		}
	}
	return m, mrkdwn.F("You belong to %d organizations: %s. Choose one in *My Credit* (this app's Home tab) and your commands use it from then on, or add %s to this command.",
		len(ms), orgList(ms), mrkdwn.Code("org:<id>")), nil
}

// in resolves a Slack user to their member in orgID; ok is false when they
// are not an active member of it.
func (a *App) in(ctx context.Context, teamID, userID, orgID string) (domain.Membership, bool, error) {
	ms, err := a.store.Memberships(ctx, teamID, userID)
	if err != nil {
		return domain.Membership{}, false, err
	}
	for _, m := range ms {
		if m.Org.ID == orgID {
			return m, true, nil
		}
	}
	return domain.Membership{}, false, nil
}

// orgList names organizations with the id to type, at most maxChoices.
func orgList(ms []domain.Membership) md {
	parts := make([]md, 0, min(len(ms), maxChoices)+1)
	for _, m := range ms[:min(len(ms), maxChoices)] {
		parts = append(parts, mrkdwn.F("%s (%s)", orgName(m.Org), mrkdwn.Code("org:"+m.Org.ID)))
	}
	if len(ms) > maxChoices {
		parts = append(parts, mrkdwn.F("and %d more", len(ms)-maxChoices))
	}
	return mrkdwn.Join(", ", parts...)
}
