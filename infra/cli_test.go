package main

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestCDKSynth runs the real cdk CLI the way an operator does (cdk.json at
// the repository root, `go run ./infra`), with the AWS Solutions checks and
// --strict, and compares its template with the one the other tests check.
// It needs `npm ci --prefix .tools`; without it the test is skipped on a
// developer's machine and fails in CI (CI=true).
func TestCDKSynth(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(root, ".tools", "node_modules", ".bin", "cdk")
	if _, err := os.Stat(cli); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the cdk CLI is not installed at %s; CI must run `npm ci --prefix .tools` first", cli)
		}
		t.Skipf("the cdk CLI is not installed (run `npm ci --prefix .tools`): %v", err)
	}

	out := t.TempDir()
	cmd := exec.Command(cli, "synth", "--quiet", "--strict", "--no-notices",
		"-c", "assetDir="+assetDir, "-o", out)
	cmd.Dir = root
	// No telemetry or update check: CI has no route to them, and a synth
	// must not depend on the network.
	cmd.Env = append(os.Environ(), "CDK_DISABLE_CLI_TELEMETRY=true", "CDK_DISABLE_VERSION_CHECK=true")
	start := time.Now()
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cdk synth: %v\n%s", err, output)
	}
	t.Logf("cdk synth took %s", time.Since(start).Round(time.Millisecond))

	raw, err := os.ReadFile(filepath.Join(out, stackName+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cliTmpl template
	if err := json.Unmarshal(raw, &cliTmpl); err != nil {
		t.Fatal(err)
	}

	// Same resources, of the same types, as the stack the tests assert
	// (but for the CLI's version-reporting CDKMetadata resource).
	want := synth(t).tmpl
	types := func(tm template) map[string]string {
		m := map[string]string{}
		for id, r := range tm.Resources {
			if r.Type != "AWS::CDK::Metadata" {
				m[id] = r.Type
			}
		}
		return m
	}
	got, w := types(cliTmpl), types(want)
	if !maps.Equal(got, w) {
		t.Errorf("cdk synth produced resources %v,\nthe tested stack has %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(w)))
	}
	if len(got) == 0 {
		t.Error("cdk synth produced no resources")
	}
	for id, r := range cliTmpl.Resources {
		if wr, ok := want.Resources[id]; ok && !equalJSON(r.Properties, wr.Properties) {
			t.Errorf("resource %s differs between cdk synth and the tested stack:\n cli:  %s\n test: %s", id, js(r.Properties), js(wr.Properties))
		}
	}
}
