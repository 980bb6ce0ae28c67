#!/usr/bin/env bash
# driver-suite-proxy.sh: go-sql-driver/mysql's own integration tests run as
# a user's driver sees the proxy: directly against MariaDB, through
# examples/shadow-proxy in pass-through, and through it mirroring every
# statement (writes too) to a second MariaDB.
#
#   scripts/driver-suite-proxy.sh                     # the whole suite, three modes
#   DRIVER_RUN='TestStaleConnectionChecks|TestCompress' scripts/driver-suite-proxy.sh
#
# DRIVER_SKIP (default TestConnectorReturnsTimeout, which dials 1.1.1.1 to
# see a timeout: outside 127.0.0.1, and where that address is unreachable
# the driver's test panics and ends the run) skips tests by go test -skip.
#
# The driver's source is the version this module requires (go.mod), copied
# from the module cache. The driver's tests read their server from
# MYSQL_TEST_ADDR, MYSQL_TEST_USER, MYSQL_TEST_PASS and MYSQL_TEST_DBNAME.
# For each mode it prints the counts of top-level tests passed, failed and
# skipped, then the tests that pass directly and fail through the proxy,
# the only ones that matter; the exit status is 1 when there is any. Logs
# stay in the work directory, printed at the end when something failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DRIVER_RUN=${DRIVER_RUN:-.}
DRIVER_SKIP=${DRIVER_SKIP-TestConnectorReturnsTimeout}
WORK=$(mktemp -d /tmp/sqlshadow-driver-XXXXXX)
PIDS=()
KEEP=0
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "$KEEP" = 1 ]; then echo "driver-suite: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "driver-suite: $1 is not installed" >&2; exit 2; }; }
need mariadbd; need mariadb-install-db; need mariadb; need go; need python3

SCRIPT=driver-suite
. "$ROOT/scripts/lib/mariadb.sh"

echo "driver-suite: starting MariaDB (primary and shadow) in $WORK" >&2
db_args=(--local-infile=1 --max-allowed-packet=64M)
start_mariadb primary gotest secret gotest "${db_args[@]}" || { KEEP=1; exit 2; }
DB_PORT=$MARIADB_PORT
start_mariadb shadow gotest secret gotest "${db_args[@]}" || { KEEP=1; exit 2; }
SHADOW_PORT=$MARIADB_PORT

echo "driver-suite: building the proxy; copying the driver's source" >&2
(cd "$ROOT/examples" && go build -o "$WORK/shadow-proxy" ./shadow-proxy)
DRIVER_DIR=$(cd "$ROOT" && go list -m -f '{{.Dir}}' github.com/go-sql-driver/mysql)
DRIVER_VERSION=$(cd "$ROOT" && go list -m -f '{{.Version}}' github.com/go-sql-driver/mysql)
cp -r "$DRIVER_DIR" "$WORK/driver"
chmod -R u+w "$WORK/driver"
(cd "$WORK/driver" && go mod download >/dev/null 2>&1 || true)

PROXY_PORT=$(free_port)
MIRROR_PORT=$(free_port)
mkdir -p "$WORK/logs/proxy" "$WORK/logs/mirror"
"$WORK/shadow-proxy" -listen "127.0.0.1:$PROXY_PORT" -primary "127.0.0.1:$DB_PORT" \
	-bucket-url "file://$WORK/logs/proxy" -metrics-listen "" -log-level warn 2>"$WORK/proxy.log" &
PIDS+=($!)
SQLSHADOW_SHADOW_PASSWORD=secret "$WORK/shadow-proxy" -listen "127.0.0.1:$MIRROR_PORT" \
	-primary "127.0.0.1:$DB_PORT" -shadow "127.0.0.1:$SHADOW_PORT" -shadow-user gotest -shadow-mirror-writes \
	-bucket-url "file://$WORK/logs/mirror" -metrics-listen "" -log-level warn 2>"$WORK/mirror.log" &
PIDS+=($!)

# run MODE PORT: the driver's tests against 127.0.0.1:PORT; MODE.out holds
# go test's output, MODE.pass, MODE.fail and MODE.skip the top-level tests.
run() {
	local mode=$1 port=$2
	echo "driver-suite: go-sql-driver/mysql $DRIVER_VERSION tests, $mode" >&2
	(cd "$WORK/driver" && MYSQL_TEST_USER=gotest MYSQL_TEST_PASS=secret MYSQL_TEST_PROT=tcp \
		MYSQL_TEST_ADDR="127.0.0.1:$port" MYSQL_TEST_DBNAME=gotest \
		go test -count=1 -v -timeout 20m -run "$DRIVER_RUN" -skip "$DRIVER_SKIP" . >"$WORK/$mode.out" 2>&1) || true
	if grep -q '^panic: ' "$WORK/$mode.out"; then
		echo "driver-suite: $mode: the test binary panicked, the tests after it did not run:" >&2
		grep -m1 -B2 '^panic: ' "$WORK/$mode.out" | sed 's/^/  /' >&2
		KEEP=1
	fi
	for s in PASS FAIL SKIP; do
		sed -n "s/^--- $s: \([^ ]*\) .*/\1/p" "$WORK/$mode.out" | sort -u >"$WORK/$mode.$(echo $s | tr A-Z a-z)"
	done
	printf '%-12s passed %4d  failed %4d  skipped %4d\n' "$mode" \
		"$(wc -l <"$WORK/$mode.pass")" "$(wc -l <"$WORK/$mode.fail")" "$(wc -l <"$WORK/$mode.skip")"
}

run direct "$DB_PORT"
run proxy "$PROXY_PORT"
run mirror "$MIRROR_PORT"

if [ -s "$WORK/direct.fail" ]; then
	echo "driver-suite: fail directly (the server's or the environment's, not the proxy's):"
	sed 's/^/  /' "$WORK/direct.fail"
	for t in $(cat "$WORK/direct.fail"); do
		awk -v t="--- FAIL: $t " 'index($0, t) == 1 { f = 1; print; next } f && /^    / { print; next } { f = 0 }' \
			"$WORK/direct.out" | head -8 | sed 's/^/    /'
	done
fi
status=0
for mode in proxy mirror; do
	worse=$(comm -12 "$WORK/direct.pass" "$WORK/$mode.fail")
	if [ -n "$worse" ]; then
		status=1
		KEEP=1
		echo "driver-suite: pass directly, fail through the proxy ($mode):"
		echo "$worse" | sed 's/^/  /'
	fi
done
[ "$status" = 0 ] && echo "driver-suite: every test that passes directly passes through the proxy, pass-through and mirroring"
exit $status
