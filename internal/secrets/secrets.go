// Package secrets reads the Slack app's credentials from AWS Secrets
// Manager. The function reads them once, at cold start, so the values
// never sit in the function's environment.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Slack holds the Slack app's credentials. The secret's value is the JSON
// {"signing_secret": "...", "bot_token": "xoxb-..."}.
type Slack struct {
	SigningSecret string `json:"signing_secret"`
	BotToken      string `json:"bot_token"`
}

// Getter is the one Secrets Manager call used; *secretsmanager.Client has it.
type Getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// LoadSlack reads and checks the Slack credentials stored in secret id (an
// ARN or name).
func LoadSlack(ctx context.Context, sm Getter, id string) (Slack, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return Slack{}, fmt.Errorf("read secret %s: %w", id, err)
	}
	if out.SecretString == nil {
		return Slack{}, fmt.Errorf("secret %s has no string value; store the JSON {\"signing_secret\",\"bot_token\"}", id)
	}
	s, err := ParseSlack(*out.SecretString)
	if err != nil {
		return Slack{}, fmt.Errorf("secret %s: %w", id, err)
	}
	return s, nil
}

// ParseSlack reads the secret's JSON value; both fields are required.
func ParseSlack(v string) (Slack, error) {
	var s Slack
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Slack{}, errors.New(`the value is not the JSON {"signing_secret": "...", "bot_token": "xoxb-..."}`)
	}
	var missing []string
	if s.SigningSecret == "" {
		missing = append(missing, "signing_secret")
	}
	if s.BotToken == "" {
		missing = append(missing, "bot_token")
	}
	if len(missing) > 0 {
		return Slack{}, fmt.Errorf("the value lacks %s (from the Slack app's Basic Information and OAuth pages)", strings.Join(missing, " and "))
	}
	return s, nil
}

// SlackFromEnv reads the Slack credentials a function was given: the
// Secrets Manager secret named by SLACK_SECRET_ARN (in AWS), or, when that
// is unset (local invokes), SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN. The
// caller checks for the value it needs.
func SlackFromEnv(ctx context.Context, getenv func(string) string) (Slack, error) {
	arn := getenv("SLACK_SECRET_ARN")
	if arn == "" {
		return Slack{SigningSecret: getenv("SLACK_SIGNING_SECRET"), BotToken: getenv("SLACK_BOT_TOKEN")}, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Slack{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return LoadSlack(ctx, secretsmanager.NewFromConfig(cfg), arn)
}
