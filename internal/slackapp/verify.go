package slackapp

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// signatureWindow is how far a request's timestamp may be from now. Slack
// recommends five minutes; older requests may be replays.
const signatureWindow = 5 * time.Minute

// verify checks Slack's v0 signature: HMAC-SHA256 with the signing secret
// over "v0:{timestamp}:{raw body}", and a timestamp within the window.
// API Gateway delivers header names lower-cased; http.Header canonicalises
// them so either spelling works.
func (a *App) verify(headers map[string]string, body []byte) error {
	if a.secret == "" {
		return errors.New("the app has no signing secret configured")
	}
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	sig, ts := h.Get("X-Slack-Signature"), h.Get("X-Slack-Request-Timestamp")
	if sig == "" || ts == "" {
		return errors.New("missing Slack signature headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("malformed Slack request timestamp")
	}
	// Checked against the injected clock first so the window is the app's
	// decision; slack-go checks it against the wall clock as well.
	if d := a.now().Sub(time.Unix(sec, 0)); d > signatureWindow || d < -signatureWindow {
		return errors.New("stale Slack request timestamp")
	}
	v, err := slack.NewSecretsVerifier(h, a.secret)
	if err != nil {
		if errors.Is(err, slack.ErrExpiredTimestamp) {
			return errors.New("stale Slack request timestamp")
		}
		return errors.New("invalid Slack signature")
	}
	if _, err := v.Write(body); err != nil {
		return errors.New("invalid Slack signature")
	}
	if err := v.Ensure(); err != nil {
		return errors.New("invalid Slack signature")
	}
	return nil
}
