#!/usr/bin/env bash
# The whole test suite, as `make test` (and so CI) runs it, after `make
# tools`: starts DynamoDB Local, points the tests at it, runs go vet, the
# gofmt check and go test, and always stops DynamoDB Local again, keeping
# the first failing step's exit code.
set -euo pipefail
cd "$(dirname "$0")/.."

# A run folder of its own, so that two runs (two checkouts, or a developer's
# run beside CI's) never stop each other's DynamoDB Local.
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/orgcredit-dynamodb-local.XXXXXX")
export DYNAMODB_LOCAL_RUN_DIR=$run_dir

cleanup() {
	local rc=$?
	.ci/dynamodb-local.sh stop || true
	rm -rf "$run_dir"
	exit "$rc"
}
trap cleanup EXIT
# Without these, an interrupted run would skip the EXIT trap in some shells
# and leave the Java process behind.
trap 'exit 130' INT
trap 'exit 143' TERM

started=$SECONDS
line=$(.ci/dynamodb-local.sh start)
if [[ ! $line =~ ^DYNAMODB_LOCAL_ENDPOINT=http://127\.0\.0\.1:[0-9]+$ ]]; then
	echo "test: unexpected output from .ci/dynamodb-local.sh start: $line" >&2
	exit 1
fi
export DYNAMODB_LOCAL_ENDPOINT=${line#DYNAMODB_LOCAL_ENDPOINT=}
echo "test: DynamoDB Local at $DYNAMODB_LOCAL_ENDPOINT (started in $((SECONDS - started))s)"

echo "test: go mod tidy -diff"
if ! go mod tidy -diff; then
	echo "test: go.mod or go.sum is not tidy: run go mod tidy and commit the result" >&2
	exit 1
fi

echo "test: go vet ./..."
go vet ./...

echo "test: gofmt"
# Hidden folders (.git, .tools), node_modules and testdata hold no code of ours.
unformatted=$(find . \( -path './.*' -o -name node_modules -o -name testdata \) -prune -o -name '*.go' -type f -print0 |
	xargs -0 -r gofmt -l)
if [[ -n $unformatted ]]; then
	echo "test: these files are not gofmt-formatted (run gofmt -w on them):" >&2
	printf '  %s\n' $unformatted >&2
	exit 1
fi

echo "test: go test ./..."
go test -count=1 -timeout 20m ./...
