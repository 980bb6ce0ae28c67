#!/usr/bin/env bash
# bench-replay.sh: the replay runner (examples/replay, "replay run") against
# sysbench run directly on the same server at the same concurrency, in one
# run: statements per second and CPU per statement, with the ratios.
#
#   scripts/bench-replay.sh                                  # 3 rounds of 5 s per line
#   BENCH_TIME=20 BENCH_ROUNDS=5 scripts/bench-replay.sh     # steadier figures
#
# It starts a throwaway MariaDB in a temporary directory (mariadbd,
# mariadb-install-db and sysbench must be installed) and prepares the
# sysbench tables once. For each workload (oltp_point_select,
# oltp_read_only) and thread count T (1, 8) it captures the workload:
# sysbench with T threads for BENCH_TIME seconds, text protocol, with the
# slow log on at long_query_time=0 (T sessions). Then, BENCH_ROUNDS times,
# back to back:
#
#   direct: sysbench with T threads for BENCH_TIME seconds (as captured);
#   replay: replay run -source slowlog:<the capture> -workers 8T, closed loop
#           (as fast as it goes), query logs to file:// on. Each session runs
#           in order on its own connection, so T sessions are T statements in
#           flight; sessions are hashed to workers, and 8T workers keep two
#           sessions from sharing one.
#
# and reports the medians: statements per second, the client's CPU per
# statement (sysbench's, or replay's: user + system time of the process
# over its statements, so replay's includes reading the log and writing the
# query logs), and the server's (mariadbd's) CPU per statement in each.
# replay/direct is the ratio of the medians.
set -euo pipefail

BENCH_TIME=${BENCH_TIME:-5}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_WORKLOADS=${BENCH_WORKLOADS:-"oltp_point_select oltp_read_only"}
BENCH_THREADS=${BENCH_THREADS:-"1 8"}
TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/sqlshadow-bench-replay-XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "bench-replay: $1 is not installed" >&2; exit 2; }; }
need mariadbd; need mariadb-install-db; need sysbench; need mariadb; need go; need python3

SCRIPT=bench-replay
. "$ROOT/scripts/lib/mariadb.sh"

echo "bench-replay: starting MariaDB in $WORK" >&2
start_mariadb data sbtest sbtest-pw sbtest --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2
DB_PORT=$MARIADB_PORT DB_PID=$MARIADB_PID
sql() { mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -usbtest -psbtest-pw -e "$1" sbtest; }

echo "bench-replay: building replay" >&2
(cd "$ROOT/examples" && go build -o "$WORK/replay" ./replay)

sb() { # workload threads [extra...]
	local wl=$1 th=$2; shift 2
	sysbench "$wl" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$DB_PORT" --mysql-user=sbtest \
		--mysql-password=sbtest-pw --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" \
		--threads="$th" --db-ps-mode=disable --rand-seed=1 "$@"
}

echo "bench-replay: preparing $TABLES tables of $TABLE_SIZE rows" >&2
sb oltp_read_only 4 prepare >"$WORK/prepare.log" 2>&1

cpu_of() { # pid -> CPU seconds used so far
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}
TIMEFORMAT='%R %U %S' # bash's time: wall, user and system seconds

direct() { # workload threads -> "qps client_us server_us"
	local out t c0 c1
	c0=$(cpu_of "$DB_PID")
	{ time sb "$1" "$2" --time="$BENCH_TIME" --report-interval=0 run >"$WORK/sb.out" 2>&1; } 2>"$WORK/time.out"
	c1=$(cpu_of "$DB_PID")
	read -r wall user sys <"$WORK/time.out"
	n=$(awk '/queries:/ { print $2 }' "$WORK/sb.out")
	awk -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v a="$c0" -v b="$c1" \
		'BEGIN { printf "%.0f %.1f %.1f\n", n / w, (u + s) * 1e6 / n, (b - a) * 1e6 / n }'
}

replay_run() { # capture threads round -> "qps client_us server_us"
	local c0 c1 rc=0
	c0=$(cpu_of "$DB_PID")
	{ time SQLSHADOW_PASSWORD=sbtest-pw "$WORK/replay" run -source "slowlog:$1" -primary "127.0.0.1:$DB_PORT" \
		-user sbtest -bucket-url "file://$WORK/logs-$3" -workers $((8 * $2)) -log-level warn \
		>"$WORK/replay.out" 2>"$WORK/replay.err" || rc=$?; } 2>"$WORK/time.out"
	c1=$(cpu_of "$DB_PID")
	if [ "$rc" != 0 ]; then
		echo "bench-replay: replay exited $rc" >&2
		cat "$WORK/replay.out" "$WORK/replay.err" >&2
		exit 1
	fi
	read -r wall user sys <"$WORK/time.out"
	n=$(awk '/^replayed/ { print $2 }' "$WORK/replay.out")
	awk -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v a="$c0" -v b="$c1" \
		'BEGIN { printf "%.0f %.1f %.1f\n", n / w, (u + s) * 1e6 / n, (b - a) * 1e6 / n }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

printf '%-18s %3s %9s | %10s %9s %9s | %10s %9s %9s | %9s %9s\n' \
	workload thr captured direct_qps sb_us db_us replay_qps replay_us db_us 'qps r/d' 'cpu r/d'
for wl in $BENCH_WORKLOADS; do
	for th in $BENCH_THREADS; do
		capture="$WORK/slow-$wl-$th.log"
		sql "SET GLOBAL slow_query_log_file = '$capture'; SET GLOBAL long_query_time = 0; SET GLOBAL slow_query_log = 1"
		sb "$wl" "$th" --time="$BENCH_TIME" --report-interval=0 run >"$WORK/capture.out" 2>&1
		sql "SET GLOBAL slow_query_log = 0; SET GLOBAL long_query_time = 10"
		captured=$(grep -c '^SET timestamp=' "$capture" || true)
		dq=(); dc=(); ds=(); rq=(); rc=(); rs=()
		for round in $(seq 1 "$BENCH_ROUNDS"); do
			read -r q c s < <(direct "$wl" "$th"); dq+=("$q"); dc+=("$c"); ds+=("$s")
			read -r q c s < <(replay_run "$capture" "$th" "$round"); rq+=("$q"); rc+=("$c"); rs+=("$s")
		done
		dqm=$(median "${dq[@]}"); dcm=$(median "${dc[@]}"); dsm=$(median "${ds[@]}")
		rqm=$(median "${rq[@]}"); rcm=$(median "${rc[@]}"); rsm=$(median "${rs[@]}")
		printf '%-18s %3s %9s | %10s %9s %9s | %10s %9s %9s | %9s %9s\n' "$wl" "$th" "$captured" \
			"$dqm" "$dcm" "$dsm" "$rqm" "$rcm" "$rsm" \
			"$(awk -v a="$rqm" -v b="$dqm" 'BEGIN { printf "%.2f", a / b }')" \
			"$(awk -v a="$rcm" -v b="$dcm" 'BEGIN { printf "%.2f", a / b }')"
	done
done
echo "captured = statements in the slow log replayed; *_qps = statements per second; sb_us, replay_us = CPU microseconds of the client process per statement; db_us = mariadbd's; qps r/d, cpu r/d = replay/direct of the medians"
