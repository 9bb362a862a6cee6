package dynamo_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

func installation(team string, at time.Time, sealed string) domain.Installation {
	return domain.Installation{
		TeamID: team, TeamName: "Team " + team, AppID: "A0APP", BotUserID: "U0BOT",
		BotScopes: []string{"commands", "chat:write"}, InstalledBy: "U0ALICE",
		InstalledAt: at, SealedBotToken: []byte(sealed),
	}
}

func TestInstallations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		s := w.s
		t0 := w.clock.Now()

		if _, err := s.GetInstallation(ctx, "T0A"); !domain.IsNotFound(err) {
			t.Fatalf("GetInstallation of a workspace never installed: %v, want not found", err)
		}

		first := installation("T0A", t0, "sealed-1")
		first.EnterpriseID, first.EnterpriseName = "E0GRID", "Grid"
		if err := s.SaveInstallation(ctx, first); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetInstallation(ctx, "T0A")
		if err != nil {
			t.Fatal(err)
		}
		if got.TeamID != "T0A" || got.TeamName != "Team T0A" || got.EnterpriseID != "E0GRID" || got.EnterpriseName != "Grid" ||
			got.AppID != "A0APP" || got.BotUserID != "U0BOT" || !slices.Equal(got.BotScopes, first.BotScopes) ||
			got.InstalledBy != "U0ALICE" || !got.InstalledAt.Equal(t0) || !bytes.Equal(got.SealedBotToken, []byte("sealed-1")) {
			t.Errorf("read back %+v, want %+v", got, first)
		}
		// Another workspace is another item.
		if err := s.SaveInstallation(ctx, installation("T0B", t0, "sealed-b")); err != nil {
			t.Fatal(err)
		}

		// A re-install replaces the token; an older install finishing late
		// does not overwrite it.
		if err := s.SaveInstallation(ctx, installation("T0A", t0.Add(time.Minute), "sealed-2")); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveInstallation(ctx, installation("T0A", t0.Add(30*time.Second), "sealed-late")); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetInstallation(ctx, "T0A"); string(got.SealedBotToken) != "sealed-2" {
			t.Errorf("after a re-install and a late older one, token %q, want sealed-2", got.SealedBotToken)
		}

		// An uninstall decided on the first installation does not remove
		// the re-install.
		if removed, err := s.DeleteInstallation(ctx, "T0A", t0); err != nil || removed {
			t.Errorf("DeleteInstallation of the replaced installation = %v, %v; want false, nil", removed, err)
		}
		if _, err := s.GetInstallation(ctx, "T0A"); err != nil {
			t.Errorf("the re-install is gone: %v", err)
		}
		if removed, err := s.DeleteInstallation(ctx, "T0A", t0.Add(time.Minute)); err != nil || !removed {
			t.Errorf("DeleteInstallation of the current installation = %v, %v; want true, nil", removed, err)
		}
		if _, err := s.GetInstallation(ctx, "T0A"); !domain.IsNotFound(err) {
			t.Errorf("after the uninstall: %v, want not found", err)
		}
		if removed, err := s.DeleteInstallation(ctx, "T0A", t0.Add(time.Minute)); err != nil || removed {
			t.Errorf("DeleteInstallation again = %v, %v; want false, nil", removed, err)
		}
		if got, err := s.GetInstallation(ctx, "T0B"); err != nil || string(got.SealedBotToken) != "sealed-b" {
			t.Errorf("the other workspace's installation = %+v, %v", got, err)
		}
		// Installing again after the uninstall restores it.
		if err := s.SaveInstallation(ctx, installation("T0A", t0.Add(time.Hour), "sealed-3")); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetInstallation(ctx, "T0A"); err != nil || string(got.SealedBotToken) != "sealed-3" {
			t.Errorf("after installing again: %+v, %v", got, err)
		}
	})
}

func TestInstallationRefusals(t *testing.T) {
	s := dynamotest.NewStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	bad := map[string]domain.Installation{
		"no team":       installation("", now, "x"),
		"not a team id": installation("acme", now, "x"),
		"no token":      installation("T0A", now, ""),
		"no time":       installation("T0A", time.Time{}, "x"),
		"huge token":    installation("T0A", now, string(make([]byte, 5000))),
		"bad installer": func() domain.Installation { in := installation("T0A", now, "x"); in.InstalledBy = "@alice"; return in }(),
	}
	for name, in := range bad {
		if err := s.SaveInstallation(ctx, in); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("%s: SaveInstallation = %v, want an invalid refusal", name, err)
		}
	}
	if _, err := s.GetInstallation(ctx, "T0A"); !domain.IsNotFound(err) {
		t.Errorf("a refused installation was stored: %v", err)
	}
}

// TestInstallationItemsAreNotAlerts: the stream carries installation
// items too; the notifier's decoder ignores them.
func TestInstallationItemsAreNotAlerts(t *testing.T) {
	s := dynamotest.NewStore(t)
	ctx := context.Background()
	if err := s.SaveInstallation(ctx, installation("T0A", time.Now(), "sealed")); err != nil {
		t.Fatal(err)
	}
	out, err := s.Client().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table()),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "SLACKTEAM#T0A"}, "SK": &types.AttributeValueMemberS{Value: "INSTALLATION"}}})
	if err != nil || out.Item == nil {
		t.Fatalf("the installation item is not at SLACKTEAM#T0A / INSTALLATION: %v", err)
	}
	if _, ok := out.Item["sealed_bot_token"].(*types.AttributeValueMemberB); !ok {
		t.Errorf("sealed_bot_token is stored as %T, want binary", out.Item["sealed_bot_token"])
	}
	img := map[string]events.DynamoDBAttributeValue{
		"PK":   events.NewStringAttribute("SLACKTEAM#T0A"),
		"SK":   events.NewStringAttribute("INSTALLATION"),
		"type": events.NewStringAttribute("slack_installation"),
	}
	rec := events.DynamoDBEventRecord{Change: events.DynamoDBStreamRecord{NewImage: img}}
	if v, err := dynamo.DecodeRecord(rec); v != nil || err != nil {
		t.Errorf("DecodeRecord of an installation = %v, %v; want nil, nil", v, err)
	}
}
