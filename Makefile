.PHONY: tools test

# tools installs the pinned command-line tools of .tools/package.json (the
# CDK CLI, DynamoDB Local). npm ci starts from scratch every time, so it
# runs only when package.json or the lock file changed since the last one.
TOOLS_STAMP := .tools/node_modules/.installed

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): .tools/package.json .tools/package-lock.json
	npm ci --prefix .tools --no-audit --no-fund
	@touch $@

# test is the project's one test command, and CI's (.ci/run): go vet, the
# gofmt check and go test, with DynamoDB Local started for the tests that
# run against it and stopped again afterwards, pass or fail.
test: tools
	bash .ci/test.sh

.PHONY: build synth

# FUNCTIONS are the Lambda functions: every functions/<name> with a main
# package, except local (the local HTTP server, never deployed).
FUNCTIONS := $(filter-out local,$(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go)))

# DIST is where build puts dist/<fn>/bootstrap. The CDK app deploys these
# prebuilt binaries only when told to (`cdk deploy -c assetDir=dist`);
# otherwise it builds each function itself into cdk.out/ (infra/build.go).
DIST := dist

# MAX_BOOTSTRAP_BYTES is the size budget of one function's binary.
MAX_BOOTSTRAP_BYTES := 15000000

# build compiles each function for Lambda's provided.al2023 runtime on
# arm64: static (no cgo), without the RPC shim that only the retired go1.x
# runtime used, stripped, with reproducible paths. It fails on a binary over
# the size budget. The CDK app's own build is the same (same flags, same
# budget: TestMakeBuildMatchesBundler checks).
build:
	@rm -rf $(DIST)
	@set -e; for fn in $(FUNCTIONS); do \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags="-s -w" \
			-o $(DIST)/$$fn/bootstrap ./functions/$$fn; \
		size=$$(stat -c %s $(DIST)/$$fn/bootstrap); \
		awk -v fn=$$fn -v size=$$size 'BEGIN { printf "build: %-10s %9d bytes (%.1f MB)\n", fn, size, size / 1e6 }'; \
		if [ $$size -gt $(MAX_BOOTSTRAP_BYTES) ]; then \
			echo "build: $(DIST)/$$fn/bootstrap is over $(MAX_BOOTSTRAP_BYTES) bytes" >&2; exit 1; \
		fi; \
	done

# synth synthesizes the CloudFormation template into cdk.out/ with the
# pinned CDK CLI, AWS Solutions checks included (--strict fails on warnings
# too). The app builds the functions whose sources changed since the last
# synth into cdk.out/ itself.
synth: tools
	CDK_DISABLE_CLI_TELEMETRY=true .tools/node_modules/.bin/cdk synth --quiet --strict --no-notices
