#!/usr/bin/env bash
# mtr-proxy.sh: MariaDB's own regression suite (mysql-test-run in --extern
# mode) directly against MariaDB, through the sqlshadow proxy in pass-through
# mode and through it mirroring to a second MariaDB; lists the tests that pass
# directly but fail through the proxy.
#
#   scripts/mtr-proxy.sh                                   # the main suite, every mode
#   MTR_TESTS="main.kill main.type_json" scripts/mtr-proxy.sh   # a few tests, quick rerun
#   MTR_MODES="direct-ps proxy-ps" MTR_TESTS=main.signal scripts/mtr-proxy.sh
#
# Modes (MTR_MODES, default all):
#   direct-text direct-ps direct-cursor   MariaDB itself
#   proxy-text proxy-ps proxy-cursor      examples/shadow-proxy, pass-through
#   mirror-text mirror-ps mirror-cursor   shadow-proxy mirroring to a second
#                                         MariaDB (-shadow-mirror-writes: the
#                                         shadow replays the whole session)
# text is mysqltest's default, ps its --ps-protocol, cursor --cursor-protocol.
# Each proxy and mirror mode is compared with the direct mode of the same
# protocol (run it too, or the comparison is skipped).
#
# Every mode gets fresh servers (a copy of one bootstrapped data directory) so
# that no mode inherits another's leftovers. The primary is configured as
# mysql-test-run configures its own servers (include/default_mysqld.cnf: latin1,
# MyISAM by default, TLS with the suite's certificates, the data directory at
# VARDIR/mysqld.1/data) and holds the suite's mtr schema (suppressions and the
# check-testcase procedures). What --extern cannot do is left out or stood in
# for: tests that need server options of their own or stop the server are
# disabled (skip list), and before each test case the test database is
# emptied, as mysql-test-run's restart after a failed test would. mysql-test-run's TCP connections go to the
# target's port; connections to "localhost", which libmariadb makes over a
# Unix socket, go to a socat relay from a socket to the same port, in every
# mode alike, so that the target sees every connection. The proxy offers TLS
# to clients with the suite's server certificate, the one the primary
# presents too (its name is in the Common Name only, which Go's verifier
# rejects: the proxy does not verify the primary). It writes its query log to
# the mode's directory.
#
# Environment: MTR_TESTS (tests or suites as mysql-test-run takes them;
# default: --suite=main), MTR_MODES, MTR_TESTCASE_TIMEOUT (minutes per test,
# default 5: a hang shows as a failure), MTR_JOBS (modes run at once, each
# with its own servers; default 1), MTR_PROXY_ARGS (extra shadow-proxy
# flags), MTR_PROXY_BIN (a prebuilt shadow-proxy; default: built from this
# tree), MTR_DIR (default /usr/share/mysql/mysql-test), MTR_WORK (work dir;
# default a new /tmp/sqlshadow-mtr-XXXXXX; one named here is always kept),
# MTR_BUILD_THREAD_BASE (mysql-test-run's build thread of the first mode,
# default 300; each mode takes the next: give another base to a second run
# at the same time).
#
# Output: per mode, the passed/failed/skipped counts; then, per proxy or
# mirror mode, the tests that pass directly but fail through it. The work dir
# (mysql-test-run's output and logs per mode under WORK/MODE, the proxies' and
# servers' logs) is removed on success and kept, with its path printed, when a
# test fails through the proxy (exit status 1) or the script fails. Skipped
# counts include the disabled tests.
set -euo pipefail

MTR_DIR=${MTR_DIR:-/usr/share/mysql/mysql-test}
MTR_MODES=${MTR_MODES:-"direct-text proxy-text mirror-text direct-ps proxy-ps mirror-ps direct-cursor proxy-cursor mirror-cursor"}
MTR_TESTCASE_TIMEOUT=${MTR_TESTCASE_TIMEOUT:-5}
MTR_JOBS=${MTR_JOBS:-1}
MTR_PROXY_ARGS=${MTR_PROXY_ARGS:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KEEP=1 # cleared when every comparison passes, unless MTR_WORK names the work dir
if [ -n "${MTR_WORK:-}" ]; then WORK=$MTR_WORK; mkdir -p "$WORK"; else WORK=$(mktemp -d /tmp/sqlshadow-mtr-XXXXXX); fi

need() { command -v "$1" >/dev/null || { echo "mtr-proxy: $1 is not installed${2:+ ($2)}" >&2; exit 2; }; }
need mariadbd "apt-get install mariadb-server"; need mariadb-install-db "apt-get install mariadb-server"
need mariadb "apt-get install mariadb-client"; need perl; need socat "apt-get install socat"; need python3
[ -n "${MTR_PROXY_BIN:-}" ] || need go
MTR=$MTR_DIR/mariadb-test-run.pl
[ -f "$MTR" ] || MTR=$MTR_DIR/mysql-test-run.pl
[ -f "$MTR" ] || { echo "mtr-proxy: no mysql-test-run in $MTR_DIR (apt-get install mariadb-test, or set MTR_DIR)" >&2; exit 2; }

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "$KEEP" = 1 ]; then echo "mtr-proxy: work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
user_args=(); [ "$(id -u)" = 0 ] && user_args=(--user=root)

wait_sql() { # port: wait until root can log in
	for _ in $(seq 1 300); do
		mariadb --no-defaults -h127.0.0.1 -P"$1" -uroot -e 'SELECT 1' >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "mtr-proxy: nothing answers on port $1" >&2
	return 1
}

# my.cnf of a server: mysql-test-run's defaults with its @ENV paths filled in,
# then this server's own. $1 dir (logs, socket), $2 port, $3 var dir (the
# data directory is VAR/mysqld.1/data; secure-file-priv is VAR's parent, the
# mode's directory, see move_primary_out).
server_cnf() {
	local secure
	secure=$(dirname "$3")
	sed -e "s|@ENV.MYSQLTEST_VARDIR|$secure|g" -e "s|@ENV.MYSQL_TEST_DIR|$MTR_DIR|g" \
		"$MTR_DIR/include/default_mysqld.cnf"
	cat <<CNF
[mysqld]
datadir=$3/mysqld.1/data
port=$2
bind-address=127.0.0.1
socket=$1/mysqld.sock
pid-file=$1/mysqld.pid
log-error=$1/error.log
secure-file-priv=$secure
tmpdir=$1/server-tmp
max-connections=500
CNF
}

start_server() { # dir port var-dir -> PID in SERVER_PID
	mkdir -p "$1/server-tmp" "$3/mysqld.1"
	cp -a "$WORK/template" "$3/mysqld.1/data"
	server_cnf "$1" "$2" "$3" >"$1/my.cnf"
	mariadbd --defaults-file="$1/my.cnf" "${user_args[@]}" >"$1/mariadbd.out" 2>&1 &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	wait_sql "$2" || { tail -20 "$1/error.log" >&2; return 1; }
}

# The primary's data directory is VARDIR/mysqld.1/data, as mysql-test-run's
# own servers have it: tests name files in it ($MYSQLD_DATADIR, which
# mysqltest accepts only under the var dir) and relative to it
# (../../std_data/x). But mysql-test-run sets a var dir up only when it does
# not exist yet. So once the primary runs (in its data directory, by relative
# paths), its mysqld.1 moves to DIR/primary and the var dir goes; when
# mysql-test-run has made the var dir again, mysqld.1 there links back to it,
# and DIR/primary's std_data, tmp, log and run link to the var dir's. The
# server resolves links before it checks a file against secure-file-priv,
# hence DIR rather than DIR/var.
move_primary_out() { # dir
	local d
	mv "$1/var/mysqld.1" "$1/primary/mysqld.1"
	rm -rf "$1/var"
	for d in std_data tmp log run; do ln -sfn "$1/var/$d" "$1/primary/$d"; done
}
link_primary_back() { # dir; in the background while mysql-test-run starts
	for _ in $(seq 1 1200); do
		[ -d "$1/var" ] && { ln -sfn "$1/primary/mysqld.1" "$1/var/mysqld.1"; return; }
		sleep 0.05
	done
}

echo "mtr-proxy: bootstrapping a data directory in $WORK" >&2
mariadb-install-db --no-defaults --datadir="$WORK/template" --auth-root-authentication-method=normal \
	"${user_args[@]}" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; exit 2; }
# What mysql-test-run's own bootstrap adds: no anonymous users, the mtr schema.
port=$(free_port)
mariadbd --no-defaults --datadir="$WORK/template" --port="$port" --bind-address=127.0.0.1 \
	--socket="$WORK/template.sock" --pid-file="$WORK/template.pid" --log-error="$WORK/template.err" \
	"${user_args[@]}" &
tpid=$!
PIDS+=("$tpid")
wait_sql "$port"
{
	echo "DELETE FROM mysql.global_priv WHERE user = ''; FLUSH PRIVILEGES; CREATE DATABASE mtr CHARSET=latin1;"
	echo "delimiter ||"
	sed -e '/^delimiter/d' -e '/^[[:space:]]*--/d' "$MTR_DIR/include/mtr_warnings.sql" "$MTR_DIR/include/mtr_check.sql"
} | mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot
kill "$tpid"; wait "$tpid" || true

# Tests that need server options of their own (TEST.opt, TEST-master.opt),
# stop the server (to restart it with others) or name its socket: --extern
# cannot do any of it, and mysql-test-run runs them anyway (the stopped
# primary, or one left without users, would fail every later test).
{
	for f in "$MTR_DIR"/main/*.opt; do
		t=$(basename "$f" .opt)
		echo "main.${t%-master} : needs server options ($(basename "$f")), which --extern cannot give"
	done | grep -v -- '-slave :'
	grep -lE 'restart_mysqld|shutdown_mysqld|kill_mysqld|start_mysqld|shutdown_server|MYSQLADMIN.*shutdown|^[[:space:]]*shutdown[[:space:]]*;' \
		"$MTR_DIR"/main/*.test | while read -r f; do
		echo "main.$(basename "$f" .test) : stops the server, which --extern cannot restart"
	done
	# They fail at the first use, sometimes after changing the server for
	# good: main.bad_user_table empties mysql.global_priv first.
	grep -l 'MASTER_MYSOCK' "$MTR_DIR"/main/*.test | while read -r f; do
		echo "main.$(basename "$f" .test) : uses \$MASTER_MYSOCK, which --extern does not set"
	done
} | sort -u -t: -k1,1 >"$WORK/skip.list"

if [ -n "${MTR_PROXY_BIN:-}" ]; then
	PROXY=$MTR_PROXY_BIN
else
	echo "mtr-proxy: building shadow-proxy" >&2
	(cd "$ROOT/examples" && go build -o "$WORK/shadow-proxy" ./shadow-proxy)
	PROXY=$WORK/shadow-proxy
fi

stop_own() { # the processes this (sub)shell started
	local p
	# mysql-test-run runs in a process group of its own (its workers and
	# their mysqltest with it).
	[ -n "${MTR_PGID:-}" ] && kill -- -"$MTR_PGID" 2>/dev/null
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}

# mysql-test-run restarts its own servers after a failed test; an --extern
# server keeps what the failed test left (a table t1...), and every later test
# that creates one fails too. So mysqltest is run through this wrapper
# (MYSQL_TEST): before each test case (mysql-test-run's own call, the one
# with --test-file and --result-file; not the check-testcase calls or a
# test's nested mysqltest) it drops every database but the system ones (and
# files left in their directories) and makes an empty test database, through
# the same connection settings as the test.
cat >"$WORK/mysqltest" <<'WRAPPER'
#!/usr/bin/env bash
cnf= test= result=
for a in "$@"; do
	case $a in
	--defaults-file=*) cnf=${a#*=} ;;
	--test-file=include/check-testcase.test) ;;
	--test-file=*) test=1 ;;
	--result-file=*) result=1 ;;
	esac
done
if [ -n "$test" ] && [ -n "$result" ]; then
	sql() { timeout 60 mariadb --defaults-file="$cnf" -N "$@"; }
	datadir=$(sql -e 'SELECT @@datadir' 2>/dev/null) || datadir=
	for d in $(sql -e "SELECT schema_name FROM information_schema.schemata
		WHERE schema_name NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys', 'mtr')" 2>/dev/null); do
		sql -e "DROP DATABASE \`$d\`" >/dev/null 2>&1 ||
			{ [ -n "$datadir" ] && rm -rf "${datadir%/}/$d"/* && sql -e "DROP DATABASE \`$d\`" >/dev/null 2>&1; } || true
	done
	sql -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null 2>&1 || true
fi
exec mariadb-test "$@"
WRAPPER
chmod +x "$WORK/mysqltest"

# Servers, proxy and mysql-test-run for one mode, output in WORK/MODE; run in
# the background (a subshell of its own), it stops what it started however it
# ends.
run_mode() {
	PIDS=()
	trap stop_own EXIT
	trap 'exit 143' TERM INT
	local mode=$1 target=${1%-*} proto=${1#*-} dir=$WORK/$1 port db_port shadow_port
	# mysql-test-run instances started together may pick the same build
	# thread (and ports) and abort: each mode gets its own.
	export MTR_BUILD_THREAD=$((${MTR_BUILD_THREAD_BASE:-300} + $2))
	local proto_args=()
	case $proto in
	text) ;;
	ps) proto_args=(--ps-protocol) ;;
	cursor) proto_args=(--cursor-protocol) ;;
	*) echo "mtr-proxy: unknown protocol in mode $mode" >&2; exit 2 ;;
	esac
	mkdir -p "$dir"
	db_port=$(free_port)
	start_server "$dir/primary" "$db_port" "$dir/var"
	move_primary_out "$dir"
	port=$db_port
	if [ "$target" != direct ]; then
		local mirror_args=()
		if [ "$target" = mirror ]; then
			shadow_port=$(free_port)
			start_server "$dir/shadow" "$shadow_port" "$dir/shadow/var"
			mirror_args=(-shadow "127.0.0.1:$shadow_port" -shadow-mirror-writes)
		elif [ "$target" != proxy ]; then
			echo "mtr-proxy: unknown target in mode $mode" >&2
			exit 2
		fi
		port=$(free_port)
		mkdir -p "$dir/query-log"
		# shellcheck disable=SC2086 # MTR_PROXY_ARGS is a list of flags
		"$PROXY" -listen "127.0.0.1:$port" -primary "127.0.0.1:$db_port" "${mirror_args[@]}" \
			-bucket-url "file://$dir/query-log" -metrics-listen "" -log-level warn \
			-tls-cert "$MTR_DIR/std_data/server-cert.pem" -tls-key "$MTR_DIR/std_data/server-key.pem" \
			-primary-tls-insecure-skip-verify \
			$MTR_PROXY_ARGS 2>"$dir/proxy.log" &
		PIDS+=($!)
		wait_sql "$port" || { cat "$dir/proxy.log" >&2; exit 1; }
	fi
	socat "UNIX-LISTEN:$dir/client.sock,fork" "TCP:127.0.0.1:$port" 2>"$dir/socat.log" &
	PIDS+=($!)
	link_primary_back "$dir" &
	PIDS+=($!)
	local tests=(--suite=main)
	# shellcheck disable=SC2206 # MTR_TESTS is a list of test names
	[ -n "${MTR_TESTS:-}" ] && tests=($MTR_TESTS)
	echo "mtr-proxy: $mode: mysql-test-run against port $port, output in $dir/mtr.out" >&2
	(cd "$MTR_DIR" && MYSQL_TEST=$WORK/mysqltest exec setsid perl "$MTR" --extern host=127.0.0.1 --extern port="$port" \
		--extern socket="$dir/client.sock" --extern user=root --vardir="$dir/var" \
		--force --max-test-fail=0 --retry=1 --testcase-timeout="$MTR_TESTCASE_TIMEOUT" \
		--skip-test-list="$WORK/skip.list" \
		"${proto_args[@]}" "${tests[@]}") >"$dir/mtr.out" 2>&1 &
	MTR_PGID=$!
	wait $! || true
	MTR_PGID=
	mariadb --no-defaults -h127.0.0.1 -P"$db_port" -uroot -e 'SELECT 1' >/dev/null 2>&1 ||
		echo "mtr-proxy: $mode: the primary stopped during the run (see $dir/primary/error.log)" | tee -a "$dir/mtr.out" >&2
	# One line per test: name (with its combination, if any) and result.
	sed -nE "s/^([A-Za-z0-9_.-]+( '[^']*')?) +\[ ([a-z-]+) \].*/\1\t\3/p" "$dir/mtr.out" |
		sed -E "s/ '/:/; s/'\t/\t/" | sort -u >"$dir/results.tsv"
}

# Run the modes, MTR_JOBS at a time.
running=()
i=0
for mode in $MTR_MODES; do
	run_mode "$mode" "$i" &
	i=$((i + 1))
	running+=($!)
	PIDS+=($!)
	if [ "${#running[@]}" -ge "$MTR_JOBS" ]; then wait "${running[0]}" || true; running=("${running[@]:1}"); fi
done
for p in "${running[@]:-}"; do [ -n "$p" ] && { wait "$p" || true; }; done

results() { [ -f "$WORK/$1/results.tsv" ] && cat "$WORK/$1/results.tsv"; }
count() { results "$1" | awk -F'\t' -v r="$2" '$2 ~ r { n++ } END { print n + 0 }'; }
printf '%-14s %7s %7s %8s %s\n' mode passed failed skipped output
for mode in $MTR_MODES; do
	printf '%-14s %7s %7s %8s %s\n' "$mode" "$(count "$mode" '^pass$')" "$(count "$mode" '^fail$')" \
		"$(count "$mode" 'skipped|disabled')" "$WORK/$mode/mtr.out"
done
regressions=0
for mode in $MTR_MODES; do
	[ "${mode%-*}" = direct ] && continue
	base=direct-${mode#*-}
	if [ ! -f "$WORK/$base/results.tsv" ]; then echo "$mode: not compared ($base was not run)"; continue; fi
	if [ ! -s "$WORK/$mode/results.tsv" ]; then
		regressions=1
		echo "$mode: no results (see $WORK/$mode)"
		continue
	fi
	# A test that passes directly and fails, or has no result, through the proxy.
	list=$(join -t $'\t' -a 1 -e missing -o 1.1,2.2 <(results "$base" | awk -F'\t' '$2 == "pass"') <(results "$mode") |
		awk -F'\t' '$2 != "pass" { print $1 " (" $2 ")" }')
	if [ -n "$list" ]; then
		regressions=1
		echo "$mode: pass directly ($base), not through the proxy:"
		sed 's/^/  /' <<<"$list"
	else
		echo "$mode: every test that passes directly ($base) passes"
	fi
done
[ "$regressions" = 0 ] && [ -z "${MTR_WORK:-}" ] && KEEP=0
exit "$regressions"
