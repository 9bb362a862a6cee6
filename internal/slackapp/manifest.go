package slackapp

import (
	_ "embed"
	"fmt"
	"net/url"
	"strings"
)

// manifestTemplate is the Slack app manifest (manifest.json) with a
// placeholder base URL, so that a user creates the app in one step from
// the deployed API's URL ("Create New App" → "From a manifest").
//
//go:embed manifest.json
var manifestTemplate string

// ManifestPlaceholder is the base URL manifest.json carries.
const ManifestPlaceholder = "https://API-BASE-URL.example"

// Manifest renders the app manifest for the API at baseURL, such as
// https://abc123.execute-api.eu-west-1.amazonaws.com. Slack calls the
// command, interactivity and event URLs under it.
func Manifest(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("base URL %q must be an absolute https URL without query or fragment, like https://abc123.execute-api.eu-west-1.amazonaws.com", baseURL)
	}
	return strings.ReplaceAll(manifestTemplate, ManifestPlaceholder, strings.TrimSuffix(baseURL, "/")), nil
}
