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
// {"signing_secret": "...", "bot_token": "xoxb-...", "client_id": "...",
// "client_secret": "..."}: the signing secret always; the bot token for a
// single workspace; the client id and secret (both) for installs into
// many workspaces by OAuth, where bot_token may be left out or empty.
type Slack struct {
	SigningSecret string `json:"signing_secret"`
	BotToken      string `json:"bot_token"`
	ClientID      string `json:"client_id,omitempty"`
	ClientSecret  string `json:"client_secret,omitempty"`
}

// OAuth reports whether the app installs into workspaces by OAuth (the
// client id and secret are set).
func (s Slack) OAuth() bool { return s.ClientID != "" && s.ClientSecret != "" }

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
		return Slack{}, fmt.Errorf("secret %s has no string value; store the JSON {\"signing_secret\",\"bot_token\"} or {\"signing_secret\",\"client_id\",\"client_secret\"}", id)
	}
	s, err := ParseSlack(*out.SecretString)
	if err != nil {
		return Slack{}, fmt.Errorf("secret %s: %w", id, err)
	}
	return s, nil
}

// ParseSlack reads the secret's JSON value and checks it: the signing
// secret, and a bot token or the OAuth client's id and secret (or both).
func ParseSlack(v string) (Slack, error) {
	var s Slack
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Slack{}, errors.New(`the value is not the JSON {"signing_secret": "...", "bot_token": "xoxb-..."} ` +
			`or, to install into many workspaces, {"signing_secret": "...", "client_id": "...", "client_secret": "..."}`)
	}
	if err := s.Check(); err != nil {
		return Slack{}, err
	}
	return s, nil
}

// Check tells what the credentials lack: the signing secret always; the
// client id and secret together or not at all; a bot token unless they
// are set.
func (s Slack) Check() error {
	var missing []string
	if s.SigningSecret == "" {
		missing = append(missing, "signing_secret")
	}
	switch {
	case (s.ClientID == "") != (s.ClientSecret == ""):
		if s.ClientID == "" {
			missing = append(missing, "client_id (it goes with client_secret)")
		} else {
			missing = append(missing, "client_secret (it goes with client_id)")
		}
	case !s.OAuth() && s.BotToken == "":
		missing = append(missing, "bot_token (or client_id and client_secret, to install by OAuth)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("the value lacks %s (from the Slack app's Basic Information and OAuth & Permissions pages)", strings.Join(missing, " and "))
	}
	return nil
}

// SlackFromEnv reads the Slack credentials a function was given: the
// Secrets Manager secret named by SLACK_SECRET_ARN (in AWS), or, when that
// is unset (local invokes), SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN,
// SLACK_CLIENT_ID and SLACK_CLIENT_SECRET. The caller checks for the values
// it needs.
func SlackFromEnv(ctx context.Context, getenv func(string) string) (Slack, error) {
	arn := getenv("SLACK_SECRET_ARN")
	if arn == "" {
		return Slack{SigningSecret: getenv("SLACK_SIGNING_SECRET"), BotToken: getenv("SLACK_BOT_TOKEN"),
			ClientID: getenv("SLACK_CLIENT_ID"), ClientSecret: getenv("SLACK_CLIENT_SECRET")}, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Slack{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return LoadSlack(ctx, secretsmanager.NewFromConfig(cfg), arn)
}
