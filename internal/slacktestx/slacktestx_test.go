package slacktestx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// recorder is a test that records what would fail it.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func section(s string) slack.Block { return slack.NewSectionBlock(mrkdwn(s), nil, nil) }

func sections(n int) []slack.Block {
	out := make([]slack.Block, n)
	for i := range out {
		out[i] = section(fmt.Sprint("line ", i))
	}
	return out
}

// TestInvalidPayloads sends, through slack-go's client, payloads that break
// a limit: each is answered with Slack's error and its violations, and
// fails the test that sent it.
func TestInvalidPayloads(t *testing.T) {
	ctx := context.Background()
	modal := func(title string, blocks ...slack.Block) slack.ModalViewRequest {
		return slack.ModalViewRequest{Type: slack.VTModal, Title: plain(title), Blocks: slack.Blocks{BlockSet: blocks}}
	}
	tests := []struct {
		name     string
		call     func(c *slack.Client) error
		method   string
		slackErr string
		message  string // in response_metadata.messages
	}{
		{"long section", func(c *slack.Client) error {
			_, _, err := c.PostMessageContext(ctx, "C1", slack.MsgOptionText("fallback", false), slack.MsgOptionBlocks(section(strings.Repeat("é", 3001))))
			return err
		}, "chat.postMessage", "invalid_blocks", "[ERROR] 3,001 characters, the limit is 3,000 [json-pointer:/blocks/0/text/text]"},
		{"too many blocks", func(c *slack.Client) error {
			_, _, _, err := c.UpdateMessageContext(ctx, "C1", "1.2", slack.MsgOptionText("fallback", false), slack.MsgOptionBlocks(sections(51)...))
			return err
		}, "chat.update", "invalid_blocks", "[ERROR] 51 blocks, the limit is 50 for a message [json-pointer:/blocks]"},
		{"mrkdwn header", func(c *slack.Client) error {
			_, err := c.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("fallback", false), slack.MsgOptionBlocks(slack.NewHeaderBlock(mrkdwn("H"))))
			return err
		}, "chat.postEphemeral", "invalid_blocks", "must be plain_text here, not mrkdwn [json-pointer:/blocks/0/text/type]"},
		{"long text", func(c *slack.Client) error {
			_, _, err := c.PostMessageContext(ctx, "C1", slack.MsgOptionText(strings.Repeat("x", 40001), false))
			return err
		}, "chat.postMessage", "msg_too_long", "[ERROR] 40,001 characters, the limit is 40,000 [json-pointer:/text]"},
		{"long modal title", func(c *slack.Client) error {
			_, err := c.OpenViewContext(ctx, "trigger", modal("Transfer the Billing Role", section("x")))
			return err
		}, "views.open", "invalid_arguments", "[ERROR] 25 characters, the limit is 24 [json-pointer:/view/title/text]"},
		{"modal blocks", func(c *slack.Client) error {
			_, err := c.UpdateViewContext(ctx, modal("T", sections(101)...), "", "", "V1")
			return err
		}, "views.update", "invalid_arguments", "[ERROR] 101 blocks, the limit is 100 for a modal [json-pointer:/view/blocks]"},
		{"home section", func(c *slack.Client) error {
			_, err := c.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: slack.HomeTabViewRequest{
				Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{section("")}},
			}})
			return err
		}, "views.publish", "invalid_arguments", "[ERROR] empty: Slack requires at least 1 character [json-pointer:/view/blocks/0/text/text]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			s := slacktestx.New(rec)
			err := tt.call(s.Client())
			var se slack.SlackErrorResponse
			if !errors.As(err, &se) {
				t.Fatalf("want Slack's error, got %v", err)
			}
			if se.Err != tt.slackErr {
				t.Errorf("error %q, want %q", se.Err, tt.slackErr)
			}
			if !contains(se.ResponseMetadata.Messages, tt.message) {
				t.Errorf("messages %q lack %q", se.ResponseMetadata.Messages, tt.message)
			}
			if len(se.Errors) != len(se.ResponseMetadata.Messages) {
				t.Errorf("%d errors, %d messages", len(se.Errors), len(se.ResponseMetadata.Messages))
			}
			calls := s.Calls(tt.method)
			if len(calls) != 1 || calls[0].Invalid == nil {
				t.Fatalf("the call is not recorded as invalid: %+v", calls)
			}
			if f := rec.failures(); len(f) != 1 || !strings.Contains(f[0], tt.method) {
				t.Errorf("want the test failed once naming %s, got %q", tt.method, f)
			}
		})
	}
}

func contains(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

// TestValidPayloads: what Slack accepts is answered as before and fails
// nothing.
func TestValidPayloads(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{TB: t}
	s := slacktestx.New(rec)
	c := s.Client()
	blocks := slack.MsgOptionBlocks(slack.NewHeaderBlock(plain("Low balance")), section("*Acme* is low."),
		slack.NewActionBlock("a", slack.NewButtonBlockElement("add", "acme", plain("Add credit"))))
	if _, _, err := c.PostMessageContext(ctx, "C1", slack.MsgOptionText("Acme is low", false), blocks); err != nil {
		t.Errorf("chat.postMessage: %v", err)
	}
	if _, _, _, err := c.UpdateMessageContext(ctx, "C1", "1.2", slack.MsgOptionText("Done", false)); err != nil {
		t.Errorf("chat.update: %v", err)
	}
	if _, err := c.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("Only you", false)); err != nil {
		t.Errorf("chat.postEphemeral: %v", err)
	}
	view := slack.ModalViewRequest{Type: slack.VTModal, Title: plain("Transfer Billing Role"), Submit: plain("Send Request"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("recipient", plain("Member"), nil,
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose"), "recipient", slack.NewOptionBlockObject("sari", plain("Sari"), nil)))}}}
	if _, err := c.OpenViewContext(ctx, "trigger", view); err != nil {
		t.Errorf("views.open: %v", err)
	}
	if _, err := c.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: sections(100)}}}); err != nil {
		t.Errorf("views.publish: %v", err)
	}
	if _, _, _, err := c.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}}); err != nil {
		t.Errorf("conversations.open: %v", err)
	}
	for _, call := range s.Calls() {
		if call.Invalid != nil {
			t.Errorf("%s recorded as invalid: %v", call.Method, call.Invalid)
		}
	}
	if f := rec.failures(); len(f) != 0 {
		t.Errorf("the test was failed: %q", f)
	}
}

// TestTolerateInvalid: a test of how the app handles Slack's refusal
// still gets the refusal, without failing.
func TestTolerateInvalid(t *testing.T) {
	rec := &recorder{TB: t}
	s := slacktestx.New(rec)
	s.TolerateInvalid()
	_, _, err := s.Client().PostMessageContext(context.Background(), "C1", slack.MsgOptionBlocks(section("x")))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "invalid_blocks" || !contains(se.ResponseMetadata.Messages, "fallback") {
		t.Errorf("want invalid_blocks for a message without fallback text, got %v %v", err, se.ResponseMetadata.Messages)
	}
	if f := rec.failures(); len(f) != 0 {
		t.Errorf("the test was failed: %q", f)
	}
}

// TestFailNextWins: FailNext keeps answering the error it was given.
func TestFailNextWins(t *testing.T) {
	s := slacktestx.New(t)
	s.FailNext("chat.postMessage", "channel_not_found")
	_, _, err := s.Client().PostMessageContext(context.Background(), "C1", slack.MsgOptionText("hi", false))
	if err == nil || err.Error() != "channel_not_found" {
		t.Errorf("got %v", err)
	}
}

func TestCheckAnswer(t *testing.T) {
	jsonAnswer := func(body string) events.APIGatewayV2HTTPResponse {
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
	}
	command := slacktestx.Form("command", "/billing", "text", "help")
	interaction := func(typ string) []byte { return slacktestx.InteractionBody(map[string]any{"type": typ}) }
	tests := []struct {
		name    string
		body    []byte
		resp    events.APIGatewayV2HTTPResponse
		invalid string // a part of the violation; "" when valid
	}{
		{"command answer", command, jsonAnswer(`{"response_type":"ephemeral","text":"Done."}`), ""},
		{"long command answer", command, jsonAnswer(`{"response_type":"ephemeral","text":"` + strings.Repeat("x", 40001) + `"}`), "40,001 characters"},
		{"command answer with a bad block", command, jsonAnswer(`{"text":"t","blocks":[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]}`), "must be plain_text"},
		{"errors", interaction("view_submission"), jsonAnswer(`{"response_action":"errors","errors":{"recipient":"Choose a member."}}`), ""},
		{"empty errors", interaction("view_submission"), jsonAnswer(`{"response_action":"errors","errors":{}}`), "empty"},
		{"options", interaction("block_suggestion"), jsonAnswer(`{"options":[{"text":{"type":"plain_text","text":"Sari"},"value":"sari"}]}`), ""},
		{"no options", interaction("block_suggestion"), jsonAnswer(`{}`), "options: missing"},
		{"a click's ack", interaction("block_actions"), events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK}, ""},
		{"an event", []byte(`{"type":"url_verification","challenge":"c"}`), jsonAnswer(`{"challenge":"c"}`), ""},
		{"a plain refusal", command, events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: "malformed"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			err := slacktestx.CheckAnswer(rec, tt.body, tt.resp)
			f := rec.failures()
			switch {
			case tt.invalid == "" && (err != nil || len(f) != 0):
				t.Errorf("want no violation, got %v %q", err, f)
			case tt.invalid != "" && (err == nil || !strings.Contains(err.Error(), tt.invalid) || len(f) != 1):
				t.Errorf("want a violation saying %q reported once, got %v %q", tt.invalid, err, f)
			}
		})
	}
}

// TestTypeCheck compiles good and bad payloads against @slack/types; it
// needs the tools of make tools (and fails without them under CI=true).
func TestTypeCheck(t *testing.T) {
	good := []slacktestx.Shape{
		{Name: "home", Type: "View", JSON: []byte(`{"type":"home","blocks":[{"type":"header","text":{"type":"plain_text","text":"My Credit","emoji":false}}]}`)},
		{Name: "answer", Type: "Message", JSON: []byte(`{"response_type":"ephemeral","text":"Done."}`)},
		{Name: "errors", Type: "ViewSubmissionResponse", JSON: []byte(`{"response_action":"errors","errors":{"recipient":"Choose."}}`)},
		{Name: "options", Type: "OptionsResponse", JSON: []byte(`{"options":[{"text":{"type":"plain_text","text":"Sari"},"value":"sari"}]}`)},
	}
	switch err := slacktestx.TypeCheck(good); {
	case errors.Is(err, slacktestx.ErrNoTypeScript) && os.Getenv("CI") == "true":
		t.Fatal(err)
	case errors.Is(err, slacktestx.ErrNoTypeScript):
		t.Skip(err)
	case err != nil:
		t.Fatalf("good payloads refused: %v", err)
	}
	bad := append(good,
		slacktestx.Shape{Name: "mrkdwn header", Type: "Message", JSON: []byte(`{"text":"t","blocks":[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]}`)},
		slacktestx.Shape{Name: "button in input", Type: "View", JSON: []byte(`{"type":"modal","title":{"type":"plain_text","text":"T"},"blocks":[{"type":"input","label":{"type":"plain_text","text":"L"},"element":{"type":"button","text":{"type":"plain_text","text":"B"}}}]}`)},
		slacktestx.Shape{Name: "no options", Type: "OptionsResponse", JSON: []byte(`{}`)},
		slacktestx.Shape{Name: "not JSON", Type: "Message", JSON: []byte(`{"text":`)},
	)
	err := slacktestx.TypeCheck(bad)
	if err == nil {
		t.Fatal("bad payloads passed")
	}
	for _, name := range []string{"mrkdwn header: ", "button in input: ", "no options: ", "not JSON: "} {
		if !strings.Contains(err.Error(), "\n"+name) {
			t.Errorf("the error does not name %q:\n%v", name, err)
		}
	}
	for _, s := range good {
		if strings.Contains(err.Error(), "\n"+s.Name+": ") {
			t.Errorf("the error names the good payload %q:\n%v", s.Name, err)
		}
	}
}
