package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
)

// The build of one function's binary, the same as `make build`'s:
// TestMakeBuildMatchesBundler keeps the two equal.
var (
	// buildEnv targets Lambda's provided.al2023 runtime on arm64, static
	// (no cgo).
	buildEnv = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}

	// buildFlags drop the RPC shim that only the retired go1.x runtime
	// used (buildTags), strip the binary and make its paths reproducible.
	buildFlags = []string{"-tags", buildTags, "-trimpath", "-ldflags=-s -w"}
)

const buildTags = "lambda.norpc"

// maxBootstrapBytes is the size budget of one function's binary: a larger
// one starts slower and means something heavy slipped into the build.
const maxBootstrapBytes = 15_000_000

// goBuilder builds the functions when the CDK stages their assets, so that
// `cdk synth` and `cdk deploy` work without `make build` first.
//
// Each function's asset hash is computed from what decides its binary: the
// files of every package of this module it is built from (as `go list`
// selects them for linux/arm64 with the build tags), the versions of the
// other modules it imports, go.mod, go.sum, the Go version and the build
// flags. The CDK stages a bundled asset as cdk.out/asset.<hash> and skips
// the bundling when that folder already exists, so a function is rebuilt
// only when one of those changed, and a change to one function does not
// rebuild the others.
type goBuilder struct {
	goCmd     string // the go command, resolved on PATH
	root      string // the module's directory
	goVersion string
	maxBytes  int64
	log       io.Writer // where build progress and compiler output go

	hashes map[string]string // function name -> source hash

	mu  sync.Mutex
	err error // the first build failure, for NewStack to report
}

// errNoGo says what is missing, and the way around it, when there is no go
// command to build the functions with.
var errNoGo = fmt.Errorf("infra: Go is not installed or not on PATH: the CDK app builds the Lambda functions "+
	"with it (linux/arm64). Install Go %s (the version in go.mod, https://go.dev/dl/), or build the "+
	"binaries where Go is installed with `make build` and deploy them with `-c assetDir=dist`", goRelease())

// goRelease is the Go release this program was built with, such as "1.26":
// one that satisfies go.mod.
func goRelease() string {
	v := strings.TrimPrefix(runtime.Version(), "go")
	if parts := strings.SplitN(v, ".", 3); len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

// newGoBuilder finds the go command and the module that holds dir, and
// hashes the sources of the named functions (functions/<name>).
func newGoBuilder(dir string, names []string) (*goBuilder, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return nil, errNoGo
	}
	b := &goBuilder{goCmd: goCmd, maxBytes: maxBootstrapBytes, log: os.Stderr}

	out, err := b.run(dir, nil, "env", "GOMOD", "GOVERSION")
	if err != nil {
		return nil, err
	}
	// One line each; GOMOD's is empty (or os.DevNull) outside a module.
	gomod, version, _ := strings.Cut(strings.TrimRight(string(out), "\n"), "\n")
	if gomod == "" || gomod == os.DevNull {
		return nil, fmt.Errorf("infra: %s is not inside the Go module that holds functions/; run the CDK app from the repository", dir)
	}
	b.root, b.goVersion = filepath.Dir(gomod), strings.TrimSpace(version)

	b.hashes, err = b.sourceHashes(names)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// run runs the go command in dir with extra environment variables and
// returns its standard output; a failure carries its standard error.
func (b *goBuilder) run(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command(b.goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("infra: go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// listedPackage is what `go list -json` says about a package, as far as
// the hash needs it.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	Deps       []string
	Module     *listedModule

	GoFiles, CgoFiles, CFiles, CXXFiles, MFiles, HFiles, FFiles, SFiles []string
	SwigFiles, SwigCXXFiles, SysoFiles, EmbedFiles                      []string
}

type listedModule struct {
	Path    string
	Version string
	Dir     string // where its files are, after any replacement
	Replace *listedModule
}

// files are every file of the package that goes into a build.
func (p *listedPackage) files() []string {
	return slices.Concat(p.GoFiles, p.CgoFiles, p.CFiles, p.CXXFiles, p.MFiles, p.HFiles, p.FFiles,
		p.SFiles, p.SwigFiles, p.SwigCXXFiles, p.SysoFiles, p.EmbedFiles)
}

// sourceHashes hashes, per function, what decides its binary.
func (b *goBuilder) sourceHashes(names []string) (map[string]string, error) {
	args := []string{"list", "-deps", "-json=ImportPath,Dir,Standard,Deps,Module,GoFiles,CgoFiles,CFiles," +
		"CXXFiles,MFiles,HFiles,FFiles,SFiles,SwigFiles,SwigCXXFiles,SysoFiles,EmbedFiles", "-tags", buildTags}
	for _, name := range names {
		args = append(args, "./functions/"+name)
	}
	out, err := b.run(b.root, buildEnv, args...)
	if err != nil {
		return nil, err
	}
	pkgs := map[string]*listedPackage{}
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("infra: go list: %w", err)
		}
		pkgs[p.ImportPath] = &p
	}

	// What every function shares: the toolchain, the flags, the module's
	// requirements.
	common := sha256.New()
	fmt.Fprintf(common, "orgcredit function build 1\ngo %s\nenv %q\nflags %q\n", b.goVersion, buildEnv, buildFlags)
	for _, name := range []string{"go.mod", "go.sum"} {
		if err := hashFile(common, b.root, name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	commonSum := common.Sum(nil)

	hashes := make(map[string]string, len(names))
	for _, name := range names {
		dir := filepath.Join(b.root, "functions", name)
		var main *listedPackage
		for _, p := range pkgs {
			if p.Dir == dir {
				main = p
			}
		}
		if main == nil {
			return nil, fmt.Errorf("infra: go list did not list the package in %s", dir)
		}
		h := sha256.New()
		fmt.Fprintf(h, "%x\nfunction %s\n", commonSum, name)
		for _, path := range slices.Sorted(slices.Values(append(slices.Clone(main.Deps), main.ImportPath))) {
			p, ok := pkgs[path]
			if !ok {
				return nil, fmt.Errorf("infra: go list did not list %s, a dependency of functions/%s", path, name)
			}
			if err := hashPackage(h, p); err != nil {
				return nil, err
			}
		}
		hashes[name] = hex.EncodeToString(h.Sum(nil))
	}
	return hashes, nil
}

// hashPackage writes what identifies one package's contribution to a
// build: nothing for the standard library (the Go version covers it), the
// module version for a package from the module cache (which is immutable),
// and the contents of its files otherwise (this module, or a module
// replaced by a local directory), named relative to the module so that
// every clone hashes alike.
func hashPackage(h io.Writer, p *listedPackage) error {
	if p.Standard {
		return nil
	}
	if mod := p.Module; mod != nil {
		if mod.Replace != nil {
			mod = mod.Replace
		}
		if mod.Version != "" {
			fmt.Fprintf(h, "package %s %s@%s\n", p.ImportPath, mod.Path, mod.Version)
			return nil
		}
	}
	base := p.Dir
	if p.Module != nil && p.Module.Dir != "" {
		base = p.Module.Dir
	}
	rel, err := filepath.Rel(base, p.Dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "package %s\n", p.ImportPath)
	for _, f := range slices.Sorted(slices.Values(p.files())) {
		if err := hashFile(h, base, filepath.Join(rel, f)); err != nil {
			return err
		}
	}
	return nil
}

// hashFile writes a file's name (relative to base, with slashes) and a
// hash of its contents.
func hashFile(h io.Writer, base, rel string) error {
	data, err := os.ReadFile(filepath.Join(base, rel))
	if err != nil {
		return fmt.Errorf("infra: hash the sources: %w", err)
	}
	fmt.Fprintf(h, "file %s %x\n", filepath.ToSlash(rel), sha256.Sum256(data))
	return nil
}

// code is the asset of one function: built by the go command into the
// CDK's staging folder when the asset is needed and not yet staged.
func (b *goBuilder) code(name string) awslambda.Code {
	return awslambda.Code_FromAsset(jsii.String(filepath.Join(b.root, "functions", name)), &awss3assets.AssetOptions{
		AssetHash:     jsii.String(b.hashes[name]),
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		Bundling: &awscdk.BundlingOptions{
			// The type requires an image, but it is never pulled or run:
			// localBuild.TryBundle builds the function or records why it
			// could not, and never hands over to Docker.
			Image:      awscdk.DockerImage_FromRegistry(jsii.String("orgcredit/never-docker-builds-locally-with-go")),
			Local:      &localBuild{builder: b, name: name},
			OutputType: awscdk.BundlingOutput_NOT_ARCHIVED,
		},
	})
}

// localBuild is the CDK's local bundling of one function.
type localBuild struct {
	builder *goBuilder
	name    string
}

// TryBundle builds the function into outputDir. It always answers true,
// so that the CDK never falls back to bundling with Docker: on a failure
// it leaves outputDir empty, which the CDK refuses as an asset that
// produced no output, and NewStack reports the recorded build error
// instead.
func (l *localBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	if err := l.builder.build(l.name, *outputDir); err != nil {
		l.builder.fail(err)
		// An empty folder, whatever the go command left behind.
		entries, _ := os.ReadDir(*outputDir)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(*outputDir, e.Name()))
		}
	}
	return jsii.Bool(true)
}

func (b *goBuilder) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
}

// buildErr is the first build failure, if any.
func (b *goBuilder) buildErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// build compiles functions/<name> into outDir/bootstrap and checks it
// against the size budget.
func (b *goBuilder) build(name, outDir string) error {
	out := filepath.Join(outDir, "bootstrap")
	args := slices.Concat([]string{"build"}, buildFlags, []string{"-o", out, "./functions/" + name})
	cmd := exec.Command(b.goCmd, args...)
	cmd.Dir = b.root
	cmd.Env = append(os.Environ(), buildEnv...)
	cmd.Stdout, cmd.Stderr = b.log, b.log
	fmt.Fprintf(b.log, "build: %s: %s go %s\n", name, strings.Join(buildEnv, " "), shellWords(args))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("infra: building the %s function failed (the compiler's output is above): %w", name, err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return fmt.Errorf("infra: building the %s function: %w", name, err)
	}
	fmt.Fprintf(b.log, "build: %-10s %9d bytes (%.1f MB)\n", name, fi.Size(), float64(fi.Size())/1e6)
	return checkSize(name, out, fi.Size(), b.maxBytes)
}

// shellWords joins args as a shell would read them back.
func shellWords(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t") {
			a = strconv.Quote(a)
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}

// checkSize fails a binary over the size budget.
func checkSize(name, path string, size, limit int64) error {
	if size > limit {
		return fmt.Errorf("infra: the %s function's binary %s is %d bytes, over the budget of %d bytes: "+
			"find what made it grow (go version -m shows the modules linked in)", name, path, size, limit)
	}
	return nil
}
