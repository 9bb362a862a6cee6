package main

import (
	"debug/elf"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// writeModule writes a small Go module with one main package per deployed
// function under functions/, plus the given files, and returns its
// directory. usage imports internal/shared; the others import nothing.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{
		"go.mod":                    "module example.com/fns\n\ngo 1.22\n",
		"internal/shared/shared.go": "package shared\n\nfunc Name() string { return \"shared\" }\n",
	}
	for _, fn := range functions {
		all["functions/"+fn.Name+"/main.go"] = "package main\n\nfunc main() { println(\"" + fn.Name + "\") }\n"
	}
	all["functions/usage/main.go"] = "package main\n\nimport \"example.com/fns/internal/shared\"\n\nfunc main() { println(shared.Name()) }\n"
	maps.Copy(all, files)
	for name, content := range all {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hashesOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := newGoBuilder(dir, functionNames())
	if err != nil {
		t.Fatal(err)
	}
	return b.hashes
}

// TestSourceHashes: a function's asset hash changes with what its binary
// is built from, and with nothing else.
func TestSourceHashes(t *testing.T) {
	dir := writeModule(t, nil)
	base := hashesOf(t, dir)
	if len(slices.Compact(slices.Sorted(maps.Values(base)))) != len(functions) {
		t.Fatalf("hashes %v, want one of its own per function", base)
	}
	if again := hashesOf(t, dir); !maps.Equal(again, base) {
		t.Fatalf("hashes of the same sources differ: %v then %v", base, again)
	}
	if moved := hashesOf(t, copyDir(t, dir)); !maps.Equal(moved, base) {
		t.Fatalf("hashes depend on where the module is: %v here, %v in a copy", base, moved)
	}

	tests := []struct {
		name    string
		file    string
		content string
		changed []string // the functions whose hash must change
	}{
		{"a package usage imports", "internal/shared/shared.go", "package shared\n\nfunc Name() string { return \"changed\" }\n", []string{"usage"}},
		{"a new file in that package", "internal/shared/more.go", "package shared\n\nvar More = 1\n", []string{"usage"}},
		{"one function's main", "functions/slack/main.go", "package main\n\nfunc main() { println(\"changed\") }\n", []string{"slack"}},
		{"go.mod", "go.mod", "module example.com/fns\n\ngo 1.23\n", functionNames()},
		{"a test file", "internal/shared/shared_test.go", "package shared\n", nil},
		{"a file for another platform", "internal/shared/other_windows.go", "package shared\n\nvar Other = 1\n", nil},
		{"a package nobody imports", "internal/unused/unused.go", "package unused\n", nil},
		{"documentation", "README.md", "# fns\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeModule(t, map[string]string{tt.file: tt.content})
			got := hashesOf(t, dir)
			for _, fn := range functionNames() {
				if changed := got[fn] != base[fn]; changed != slices.Contains(tt.changed, fn) {
					t.Errorf("changing %s: %s's hash changed = %v, want %v", tt.file, fn, changed, !changed)
				}
			}
		})
	}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestNoGo: without a go command the app says what is missing and how to
// deploy anyway.
func TestNoGo(t *testing.T) {
	app := awscdk.NewApp(nil) // before PATH goes: jsii starts node from it
	t.Setenv("PATH", t.TempDir())
	_, err := NewStack(app, "Stack", &StackProps{})
	if err == nil {
		t.Fatal("NewStack without Go on PATH: no error")
	}
	for _, want := range []string{"Go is not installed or not on PATH", "Install Go " + goRelease(), "make build", "-c assetDir=dist"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestNotInModule: run from outside the module, the app says so, whether
// the go command reports no module as os.DevNull (module mode) or as
// nothing (GO111MODULE=off).
func TestNotInModule(t *testing.T) {
	for _, mode := range []string{"on", "off"} {
		t.Run("GO111MODULE="+mode, func(t *testing.T) {
			t.Setenv("GO111MODULE", mode)
			_, err := newGoBuilder(t.TempDir(), functionNames())
			if err == nil || !strings.Contains(err.Error(), "is not inside the Go module") {
				t.Errorf("newGoBuilder outside a module: error %v, want one saying so", err)
			}
		})
	}
}

// TestTryBundle: the local bundling builds a linux/arm64 binary, and
// answers true even when the build fails, so that the CDK never falls back
// to Docker; the failure is recorded for NewStack.
func TestTryBundle(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		maxBytes int64
		wantErr  string
	}{
		{"builds", nil, maxBootstrapBytes, ""},
		{"does not compile", map[string]string{"functions/admin/main.go": "package main\n\nfunc main() { undefinedThing() }\n"},
			maxBootstrapBytes, "building the admin function failed"},
		{"over the size budget", nil, 1000, "over the budget of 1000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := newGoBuilder(writeModule(t, tt.files), functionNames())
			if err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			b.log, b.maxBytes = &log, tt.maxBytes
			out := t.TempDir()
			if ok := (&localBuild{builder: b, name: "admin"}).TryBundle(jsii.String(out), nil); ok == nil || !*ok {
				t.Fatalf("TryBundle = %v, want true (never Docker)", ok)
			}
			entries, _ := os.ReadDir(out)
			if tt.wantErr != "" {
				if err := b.buildErr(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("build error = %v, want one containing %q", err, tt.wantErr)
				}
				if len(entries) != 0 {
					t.Errorf("a failed build left %v in the output", entries)
				}
				return
			}
			if err := b.buildErr(); err != nil {
				t.Fatalf("build: %v\n%s", err, log.String())
			}
			checkLambdaBinary(t, filepath.Join(out, "bootstrap"))
			if !strings.Contains(log.String(), "GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath") {
				t.Errorf("build log does not show the build:\n%s", log.String())
			}
		})
	}
}

// checkLambdaBinary checks that path is what provided.al2023 on arm64 runs:
// an executable linux/arm64 ELF, static, within the size budget.
func checkLambdaBinary(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&0o111 == 0 || fi.Size() > maxBootstrapBytes {
		t.Errorf("%s: mode %v, %d bytes; want an executable under %d bytes", path, fi.Mode(), fi.Size(), maxBootstrapBytes)
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s is not an ELF binary: %v", path, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("%s: machine %v, OS ABI %v; want linux/arm64", path, f.Machine, f.OSABI)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s asks for a dynamic loader; want a static binary (CGO_ENABLED=0)", path)
		}
	}
}

// TestStagedBuildsAreReused runs NewStack's own bundling on a small module:
// each function is built into cdk.out once, a second synth into the same
// cdk.out builds nothing, and changing one function's sources rebuilds
// that function only.
func TestStagedBuildsAreReused(t *testing.T) {
	module := writeModule(t, nil)
	out := t.TempDir()
	synthAssets := func() map[string]bool {
		t.Helper()
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
		if _, err := NewStack(app, "Stack", &StackProps{ModuleDir: module}); err != nil {
			t.Fatalf("NewStack: %v", err)
		}
		return stagedAssets(t, out)
	}

	first := synthAssets()
	if len(first) != len(functions) {
		t.Fatalf("staged %v, want one asset per function", first)
	}
	for asset := range first {
		checkLambdaBinary(t, filepath.Join(out, asset, "bootstrap"))
	}

	// Mark every staged binary: a rebuild would replace it.
	for asset := range first {
		writeFile(t, filepath.Join(out, asset, "bootstrap"), "not rebuilt")
	}
	if second := synthAssets(); !maps.Equal(second, first) {
		t.Errorf("a second synth staged %v, want the same %v", second, first)
	}
	for asset := range first {
		if got, _ := os.ReadFile(filepath.Join(out, asset, "bootstrap")); string(got) != "not rebuilt" {
			t.Errorf("%s was rebuilt although no source changed", asset)
		}
	}

	writeFile(t, filepath.Join(module, "internal", "shared", "shared.go"), "package shared\n\nfunc Name() string { return \"new\" }\n")
	third := synthAssets()
	added := slices.DeleteFunc(slices.Collect(maps.Keys(third)), func(a string) bool { _, ok := first[a]; return ok })
	if len(added) != 1 {
		t.Fatalf("after a change to usage's sources, new assets %v, want exactly one (usage's)", added)
	}
	checkLambdaBinary(t, filepath.Join(out, added[0], "bootstrap"))
}

// stagedAssets lists the asset folders in a cdk.out.
func stagedAssets(t *testing.T, out string) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	assets := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "asset.") {
			assets[e.Name()] = true
		}
	}
	return assets
}

// TestBuildFailureFailsNewStack: a function that does not compile makes
// NewStack return the build's error, not a jsii panic.
func TestBuildFailureFailsNewStack(t *testing.T) {
	module := writeModule(t, map[string]string{"functions/slack/main.go": "package main\n\nfunc main() { undefinedThing() }\n"})
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	_, err := NewStack(app, "Stack", &StackProps{ModuleDir: module})
	if err == nil || !strings.Contains(err.Error(), "building the slack function failed") {
		t.Errorf("NewStack error = %v, want the slack function's build failure", err)
	}
}

// TestMakeBuildMatchesBundler keeps `make build` and the CDK app's own
// build the same build: environment, flags and size budget.
func TestMakeBuildMatchesBundler(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	// One logical line per recipe line: join the continued ones.
	text := strings.ReplaceAll(string(makefile), "\\\n", " ")
	var buildLine []string
	var budget string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, "GOOS="); i >= 0 && strings.Contains(line[i:], " go build ") {
			buildLine = shellSplit(line[i:])
		}
		if v, ok := strings.CutPrefix(line, "MAX_BOOTSTRAP_BYTES :="); ok {
			budget = strings.TrimSpace(v)
		}
	}
	want := slices.Concat(buildEnv, []string{"go", "build"}, buildFlags, []string{"-o"})
	if len(buildLine) < len(want) || !slices.Equal(buildLine[:len(want)], want) {
		t.Errorf("Makefile builds with %q,\nthe CDK app with %q", buildLine, want)
	}
	if budget != strconv.Itoa(maxBootstrapBytes) {
		t.Errorf("Makefile MAX_BOOTSTRAP_BYTES = %q, the CDK app's budget %d", budget, maxBootstrapBytes)
	}
}

// shellSplit splits a command line into words as the shell does for the
// simple cases the Makefile uses: blanks between words, double quotes.
func shellSplit(line string) []string {
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}
