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
		"good":     aws.String(`{"signing_secret":"s3cr3t","bot_token":"xoxb-1"}`),
		"no-token": aws.String(`{"signing_secret":"s3cr3t"}`),
		"extra":    aws.String(`{"signing_secret":"s","bot_token":"t","other":1}`),
		"text":     aws.String(`s3cr3t`),
		"binary":   nil,
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
	env := map[string]string{"SLACK_SIGNING_SECRET": "sss", "SLACK_BOT_TOKEN": "xoxb-1"}
	s, err := SlackFromEnv(context.Background(), func(k string) string { return env[k] })
	if err != nil || s.SigningSecret != "sss" || s.BotToken != "xoxb-1" {
		t.Fatalf("SlackFromEnv = %+v, %v", s, err)
	}
}
