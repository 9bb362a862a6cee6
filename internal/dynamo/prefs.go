package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// A person's preferences in Slack (the organization they last chose in My
// Credit, the default of their commands) and an organization's cached
// usage chart are small items read by key; neither is a product rule.

const (
	skPrefs = "PREFS"
	skChart = "CHART"
)

type prefsItem struct {
	PK    string `dynamodbav:"PK"`
	SK    string `dynamodbav:"SK"`
	Type  string `dynamodbav:"type"`
	OrgID string `dynamodbav:"org_id"`
}

func prefsPK(team, user string) string { return compose("SLACKUSER", team, user) }

// PreferredOrg is the organization a Slack user last chose ("" for none).
func (s *Store) PreferredOrg(ctx context.Context, slackTeamID, slackUserID string) (string, error) {
	it, _, err := getItem[prefsItem](ctx, s, prefsPK(slackTeamID, slackUserID), skPrefs)
	return it.OrgID, err
}

// SetPreferredOrg remembers the organization a Slack user chose.
func (s *Store) SetPreferredOrg(ctx context.Context, slackTeamID, slackUserID, orgID string) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table,
		Item: marshal(prefsItem{PK: prefsPK(slackTeamID, slackUserID), SK: skPrefs, Type: "slack_prefs", OrgID: orgID})})
	if err != nil {
		return unavailable("write", err)
	}
	return nil
}

type chartItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	Type   string `dynamodbav:"type"`
	Key    string `dynamodbav:"chart_key"`
	FileID string `dynamodbav:"file_id"`
	At     string `dynamodbav:"uploaded_at,omitempty"`
}

// ChartFile is the Slack file of the organization's last rendered usage
// chart, the key of the numbers it shows and when it was uploaded ("" and
// the zero time for none).
func (s *Store) ChartFile(ctx context.Context, orgID string) (key, fileID string, at time.Time, err error) {
	it, _, err := getItem[chartItem](ctx, s, orgPK(orgID), skChart)
	if it.At != "" {
		at, _ = time.Parse(time.RFC3339Nano, it.At)
	}
	return it.Key, it.FileID, at, err
}

// SetChartFile records the organization's rendered usage chart, uploaded
// at at; an empty fileID forgets it.
func (s *Store) SetChartFile(ctx context.Context, orgID, key, fileID string, at time.Time) error {
	it := chartItem{PK: orgPK(orgID), SK: skChart, Type: "chart", Key: key, FileID: fileID}
	if !at.IsZero() {
		it.At = at.UTC().Format(time.RFC3339Nano)
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table, Item: marshal(it)})
	if err != nil {
		return unavailable("write", err)
	}
	return nil
}
