package main

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCDKSynth runs the real cdk CLI the way an operator does (cdk.json at
// the repository root, `go run ./infra`), with the AWS Solutions checks and
// --strict, in a copy of the sources with no dist/ folder, as a fresh
// clone is: the app must build the functions itself. It checks the
// binaries the CDK staged and compares the template with the one the
// other tests check. It needs `npm ci --prefix .tools`; without it the
// test is skipped on a developer's machine and fails in CI (CI=true).
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

	clone := cleanClone(t, root)
	out := t.TempDir()
	cmd := exec.Command(cli, "synth", "--quiet", "--strict", "--no-notices", "-o", out)
	cmd.Dir = clone
	// No telemetry or update check: CI has no route to them, and a synth
	// must not depend on the network.
	cmd.Env = append(os.Environ(), "CDK_DISABLE_CLI_TELEMETRY=true", "CDK_DISABLE_VERSION_CHECK=true")
	start := time.Now()
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cdk synth: %v\n%s", err, output)
	}
	t.Logf("cdk synth took %s", time.Since(start).Round(time.Millisecond))
	if _, err := os.Stat(filepath.Join(clone, "dist")); !os.IsNotExist(err) {
		t.Errorf("cdk synth made or found a dist/ folder (%v); the app must build into cdk.out only", err)
	}

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

	// Each function's code is the binary the app built for it, staged
	// where the template says (the same key as the tests' stack, whose
	// bundling is skipped: the hash comes from the sources).
	for _, fn := range functions {
		code, _ := cliTmpl.Resources[synth(t).id(t, fn.Name+"Function")].Properties["Code"].(map[string]any)
		key, _ := code["S3Key"].(string)
		bootstrap := filepath.Join(out, "asset."+strings.TrimSuffix(key, ".zip"), "bootstrap")
		checkLambdaBinary(t, bootstrap)
		if !strings.Contains(string(output), "build: "+fn.Name+": ") {
			t.Errorf("cdk synth did not build %s:\n%s", fn.Name, output)
		}
	}
}

// cleanClone copies what a fresh clone gives the CDK app (the module's
// sources and cdk.json) to a new folder: no dist/, no cdk.out/, no tools.
func cleanClone(t *testing.T, root string) string {
	t.Helper()
	clone := t.TempDir()
	for _, name := range []string{"go.mod", "go.sum", "cdk.json", "functions", "internal", "infra"} {
		src := filepath.Join(root, name)
		fi, err := os.Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.IsDir() {
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(clone, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.CopyFS(filepath.Join(clone, name), os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	return clone
}
