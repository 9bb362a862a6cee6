package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// stored answers GetSecretValue from a map, as Secrets Manager would.
type stored map[string]*string

func (s stored) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	v, ok := s[aws.ToString(in.SecretId)]
	if !ok {
		return nil, errors.New("ResourceNotFoundException")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: v}, nil
}

func TestLoadSlack(t *testing.T) {
	sm := stored{
		"good":        aws.String(`{"signing_secret":"s3cr3t","bot_token":"xoxb-1"}`),
		"no-token":    aws.String(`{"signing_secret":"s3cr3t"}`),
		"extra":       aws.String(`{"signing_secret":"s","bot_token":"t","other":1}`),
		"text":        aws.String(`s3cr3t`),
		"binary":      nil,
		"oauth":       aws.String(`{"signing_secret":"s","client_id":"111.222","client_secret":"cs"}`),
		"oauth-empty": aws.String(`{"signing_secret":"s","bot_token":"","client_id":"111.222","client_secret":"cs"}`),
		"both":        aws.String(`{"signing_secret":"s","bot_token":"xoxb-1","client_id":"111.222","client_secret":"cs"}`),
		"id-only":     aws.String(`{"signing_secret":"s","bot_token":"xoxb-1","client_id":"111.222"}`),
		"secret-only": aws.String(`{"signing_secret":"s","client_secret":"cs"}`),
		"no-signing":  aws.String(`{"client_id":"111.222","client_secret":"cs"}`),
		"placeholder": aws.String(`{"signing_secret":"","bot_token":""}`),
	}
	tests := []struct {
		id      string
		want    Slack
		wantErr string
	}{
		{"good", Slack{SigningSecret: "s3cr3t", BotToken: "xoxb-1"}, ""},
		{"no-token", Slack{}, "lacks bot_token"},
		{"extra", Slack{}, "not the JSON"},
		{"text", Slack{}, "not the JSON"},
		{"binary", Slack{}, "no string value"},
		{"missing", Slack{}, "ResourceNotFound"},
		{"oauth", Slack{SigningSecret: "s", ClientID: "111.222", ClientSecret: "cs"}, ""},
		{"oauth-empty", Slack{SigningSecret: "s", ClientID: "111.222", ClientSecret: "cs"}, ""},
		{"both", Slack{SigningSecret: "s", BotToken: "xoxb-1", ClientID: "111.222", ClientSecret: "cs"}, ""},
		{"id-only", Slack{}, "lacks client_secret"},
		{"secret-only", Slack{}, "lacks client_id"},
		{"no-signing", Slack{}, "lacks signing_secret"},
		{"placeholder", Slack{}, "lacks signing_secret and bot_token (or client_id and client_secret"},
	}
	for _, tt := range tests {
		got, err := LoadSlack(context.Background(), sm, tt.id)
		if tt.wantErr == "" && (err != nil || got != tt.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tt.id, got, err, tt.want)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: err %v, want it to contain %q", tt.id, err, tt.wantErr)
		}
	}
}

func TestSlackFromEnvWithoutSecret(t *testing.T) {
	env := map[string]string{"SLACK_SIGNING_SECRET": "sss", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "cs"}
	s, err := SlackFromEnv(context.Background(), func(k string) string { return env[k] })
	want := Slack{SigningSecret: "sss", BotToken: "xoxb-1", ClientID: "111.222", ClientSecret: "cs"}
	if err != nil || s != want || !s.OAuth() {
		t.Fatalf("SlackFromEnv = %+v, %v; want %+v", s, err, want)
	}
}
