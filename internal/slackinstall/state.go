package slackinstall

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The OAuth state: proof that the browser Slack sends back is the one that
// started the install, here, moments ago.
//
//	v1.<expiry, unix seconds>.<nonce, 128 random bits>.<HMAC-SHA256 of "v1.<expiry>.<nonce>">
//
// all base64url without padding. GET /slack/install puts the state in the
// authorize URL and in a cookie (HttpOnly, SameSite=Lax, Path
// /slack/oauth_redirect, Secure on https) for its lifetime. The redirect
// takes it only if it is signed with the key (derived from the client
// secret, so there is no other secret to keep), not expired, equal to the
// browser's cookie (another browser's, or none, is refused), and not used
// before: its nonce is claimed with the store's conditional write
// (MarkOnce), so a second use finds it taken.

// DefaultStateTTL is how long an install may take from the click to
// Slack's redirect back.
const DefaultStateTTL = 10 * time.Minute

const stateVersion = "v1"

// StateCookie is the name of the cookie holding the state.
const StateCookie = "orgcredit_slack_oauth_state"

// stateKey derives the state's signing key from the client secret.
func stateKey(clientSecret string) []byte {
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte("orgcredit slack oauth state v1"))
	return mac.Sum(nil)
}

var b64 = base64.RawURLEncoding

// newState makes a state valid until expires.
func newState(key []byte, expires time.Time) (string, error) {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", err
	}
	body := stateVersion + "." + strconv.FormatInt(expires.Unix(), 10) + "." + b64.EncodeToString(nonce[:])
	return body + "." + b64.EncodeToString(sign(key, body)), nil
}

func sign(key []byte, body string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(body))
	return mac.Sum(nil)
}

// Why a state is refused.
var (
	errStateMissing   = errors.New("no state")
	errStateInvalid   = errors.New("state not signed by this deployment")
	errStateExpired   = errors.New("state expired")
	errStateNoCookie  = errors.New("no state cookie: another browser, or cookies blocked")
	errStateOtherUser = errors.New("state cookie differs: the install was started in another browser")
	errStateUsed      = errors.New("state already used")
)

// parseState checks a state's signature and expiry and returns its nonce.
func parseState(key []byte, state string, now time.Time) (nonce string, err error) {
	if state == "" {
		return "", errStateMissing
	}
	parts := strings.Split(state, ".")
	if len(parts) != 4 || parts[0] != stateVersion {
		return "", errStateInvalid
	}
	mac, err := b64.DecodeString(parts[3])
	if err != nil || !hmac.Equal(mac, sign(key, strings.Join(parts[:3], "."))) {
		return "", errStateInvalid
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "", errStateInvalid
	}
	if !now.Before(time.Unix(exp, 0)) {
		return "", errStateExpired
	}
	return parts[2], nil
}

// sameState compares the state Slack sent back with the browser's cookie
// in constant time.
func sameState(state, cookie string) bool {
	return hmac.Equal([]byte(state), []byte(cookie))
}
