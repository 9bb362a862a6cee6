package main

import (
	"slices"
	"testing"

	"github.com/orgcredit/orgcredit/internal/kmskeys"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slackinstall"
)

// TestTokenKey: the installed workspaces' bot tokens are sealed under a
// key of the stack that rotates, outlives a stack deletion (as the table
// holding the tokens does), and serves the functions that call Slack only
// for the bot tokens' encryption context: the slack function seals and
// opens, the notifier only opens, the others nothing.
func TestTokenKey(t *testing.T) {
	s := synth(t)
	keyID, key := s.tmpl.only(t, "AWS::KMS::Key")
	if key.Properties["EnableKeyRotation"] != true || key.DeletionPolicy != "Retain" {
		t.Errorf("key: rotation %v, deletion policy %q; want rotation and Retain", key.Properties["EnableKeyRotation"], key.DeletionPolicy)
	}
	if key.Properties["KeySpec"] != nil && key.Properties["KeySpec"] != "SYMMETRIC_DEFAULT" {
		t.Errorf("key spec %v, want a symmetric key (GenerateDataKey)", key.Properties["KeySpec"])
	}
	// Its policy lets IAM decide (the account), nobody else.
	policy := key.Properties["KeyPolicy"].(map[string]any)
	for _, st := range policy["Statement"].([]any) {
		p := js(st.(map[string]any)["Principal"])
		if !slices.Contains([]string{`{"AWS":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::",{"Ref":"AWS::AccountId"},":root"]]}}`}, p) {
			t.Errorf("key policy names principal %s", p)
		}
	}

	wantCondition := map[string]any{
		"StringEquals":              map[string]any{"kms:EncryptionContext:purpose": "slack-bot-token"},
		"ForAllValues:StringEquals": map[string]any{"kms:EncryptionContextKeys": []any{"purpose", "slack_team_id"}},
	}
	want := map[string][]string{"slack": {"kms:Decrypt", "kms:GenerateDataKey"}, "notifier": {"kms:Decrypt"}, "usage": nil, "admin": nil}
	for _, spec := range functions {
		var got []string
		for _, pol := range s.tmpl.ofType("AWS::IAM::Policy") {
			if !equalJSON(pol.Properties["Roles"], []any{ref(s.id(t, spec.Name+"Role"))}) {
				continue
			}
			for _, st := range pol.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				acts, ok := st["Action"].([]any)
				if !ok {
					acts = []any{st["Action"]}
				}
				for _, a := range acts {
					if a, _ := a.(string); len(a) > 4 && a[:4] == "kms:" {
						got = append(got, a)
						if !equalJSON(st["Condition"], wantCondition) || !equalJSON(st["Resource"], getAtt(keyID, "Arn")) {
							t.Errorf("%s: %s allowed on %s under %s, want on the key under %s", spec.Name, a, js(st["Resource"]), js(st["Condition"]), js(wantCondition))
						}
					}
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want[spec.Name]) {
			t.Errorf("%s may %v with the key, want %v", spec.Name, got, want[spec.Name])
		}
	}

	// The names the stack and the functions share.
	if EnvSlackKMSKeyARN != kmskeys.EnvKeyARN {
		t.Errorf("the stack passes %s, the functions read %s", EnvSlackKMSKeyARN, kmskeys.EnvKeyARN)
	}
	if tokenContextPurposeKey != slackinstall.BindingPurposeKey || tokenContextPurpose != slackinstall.BindingPurpose || tokenContextTeamKey != slackinstall.BindingTeamKey {
		t.Error("the key grants' encryption context differs from the one slackinstall seals with")
	}
	if !slices.Equal(installPaths, []string{slackapp.PathInstall, slackapp.PathOAuthRedirect}) {
		t.Errorf("install routes %v, want slackapp's %s and %s", installPaths, slackapp.PathInstall, slackapp.PathOAuthRedirect)
	}
}
