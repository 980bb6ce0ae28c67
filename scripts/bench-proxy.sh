#!/usr/bin/env bash
# bench-proxy.sh: sysbench through nothing, a bare TCP relay, and the
# sqlshadow proxy (query log to file:// on), in one run, with QPS ratios.
#
#   scripts/bench-proxy.sh                                 # 5 rounds of 5 s per target and line
#   BENCH_TIME=20 BENCH_ROUNDS=7 scripts/bench-proxy.sh    # steadier figures
#
# Each line runs the three targets alternately, BENCH_ROUNDS times, and
# reports the median QPS and median p95 of each target, so that a noisy
# neighbour hurts all three alike. p/relay is the median of the rounds'
# proxy/relay ratios (each round's two runs are back to back), and p/r range
# their lowest and highest: how far one run can be trusted.
#
# It starts a throwaway MariaDB in a temporary directory (mariadbd,
# mariadb-install-db and sysbench must be installed), prepares the sysbench
# tables once, then for each workload (oltp_point_select, oltp_read_only),
# thread count (1, 8) and protocol (text: --db-ps-mode=disable; prepared:
# sysbench's default --db-ps-mode=auto) runs the three targets back to back.
# Target: proxy QPS >= 90% of the bare relay's on every line.
set -euo pipefail

BENCH_TIME=${BENCH_TIME:-5}
BENCH_ROUNDS=${BENCH_ROUNDS:-5}
BENCH_WORKLOADS=${BENCH_WORKLOADS:-"oltp_point_select oltp_read_only"}
BENCH_THREADS=${BENCH_THREADS:-"1 8"}
BENCH_MODES=${BENCH_MODES:-"disable auto"}
BENCH_PROXY_ARGS=${BENCH_PROXY_ARGS:-}
BENCH_TARGETS=${BENCH_TARGETS:-"direct relay proxy"} # for profiling one target
# BENCH_NO_LOG=1 runs the proxy without its query log, to see what logging costs.
TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/sqlshadow-bench-XXXXXX)
log_args=(-bucket-url "file://$WORK/logs")
[ "${BENCH_NO_LOG:-}" = 1 ] && log_args=()
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "bench-proxy: $1 is not installed" >&2; exit 2; }; }
need mariadbd; need mariadb-install-db; need sysbench; need mariadb; need go; need python3

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
user_args=(); [ "$(id -u)" = 0 ] && user_args=(--user=root)

echo "bench-proxy: starting MariaDB in $WORK" >&2
mariadb-install-db --no-defaults --datadir="$WORK/data" --auth-root-authentication-method=normal \
	--skip-test-db "${user_args[@]}" >"$WORK/install.log" 2>&1
DB_PORT=$(free_port)
cat >"$WORK/init.sql" <<SQL
CREATE USER IF NOT EXISTS 'sbtest'@'%' IDENTIFIED BY 'sbtest-pw';
GRANT ALL PRIVILEGES ON *.* TO 'sbtest'@'%';
CREATE DATABASE IF NOT EXISTS sbtest;
SQL
mariadbd --no-defaults --datadir="$WORK/data" --port="$DB_PORT" --bind-address=127.0.0.1 \
	--socket="$WORK/mysqld.sock" --pid-file="$WORK/mysqld.pid" --log-error="$WORK/error.log" \
	--init-file="$WORK/init.sql" "${user_args[@]}" --skip-name-resolve --max-connections=500 \
	--innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 --skip-log-bin \
	--performance-schema=OFF &
PIDS+=($!)
for _ in $(seq 1 200); do
	mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -usbtest -psbtest-pw -e 'SELECT 1' sbtest >/dev/null 2>&1 && break
	sleep 0.1
done

echo "bench-proxy: building the relay and the proxy" >&2
(cd "$ROOT/examples" && go build -o "$WORK/relay" ./shadow-proxy/internal/relay && go build -o "$WORK/shadow-proxy" ./shadow-proxy)
RELAY_PORT=$(free_port)
PROXY_PORT=$(free_port)
METRICS_PORT=$(free_port)
"$WORK/relay" -listen "127.0.0.1:$RELAY_PORT" -upstream "127.0.0.1:$DB_PORT" 2>"$WORK/relay.log" &
RELAY_PID=$!
PIDS+=($!)
mkdir -p "$WORK/logs"
"$WORK/shadow-proxy" -listen "127.0.0.1:$PROXY_PORT" -primary "127.0.0.1:$DB_PORT" \
	"${log_args[@]}" -metrics-listen "127.0.0.1:$METRICS_PORT" -log-level warn $BENCH_PROXY_ARGS 2>"$WORK/proxy.log" &
PROXY_PID=$!
PIDS+=($!)
sleep 0.5

sb() { # port workload threads psmode [extra...]
	local port=$1 wl=$2 th=$3 ps=$4; shift 4
	sysbench "$wl" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$port" --mysql-user=sbtest \
		--mysql-password=sbtest-pw --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" \
		--threads="$th" --db-ps-mode="$ps" --percentile=95 --rand-seed=1 "$@"
}

echo "bench-proxy: preparing $TABLES tables of $TABLE_SIZE rows" >&2
sb "$DB_PORT" oltp_read_only 4 disable prepare >"$WORK/prepare.log" 2>&1

cpu_of() { # pid -> CPU seconds used so far
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

run() { # port workload threads psmode [pid] -> "qps p95 cpu_us_per_query"
	local out c0 c1
	c0=$(cpu_of "${5:-0}")
	out=$(sb "$1" "$2" "$3" "$4" --time="$BENCH_TIME" --report-interval=0 run 2>&1) || { echo "$out" >&2; echo "0 0 0"; return; }
	c1=$(cpu_of "${5:-0}")
	local qps p95 total
	qps=$(awk '/queries:/ { gsub(/\(/, "", $3); print $3 }' <<<"$out")
	total=$(awk '/queries:/ { print $2 }' <<<"$out")
	p95=$(awk '/95th percentile:/ { print $3 }' <<<"$out")
	echo "${qps:-0} ${p95:-0} $(awk -v a="$c0" -v b="$c1" -v n="${total:-0}" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) * 1e6 / n : 0) }')"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

printf '%-18s %3s %-9s | %10s %7s | %10s %7s | %10s %7s | %6s %6s %11s | %8s %8s\n' \
	workload thr protocol direct_qps p95ms relay_qps p95ms proxy_qps p95ms r/dir p/relay 'p/r range' relay_us proxy_us
fail=0
echo "bench-proxy: proxy metrics on http://127.0.0.1:$METRICS_PORT/metrics" >&2
for wl in $BENCH_WORKLOADS; do
	for th in $BENCH_THREADS; do
		for ps in $BENCH_MODES; do
			proto=text; [ "$ps" = auto ] && proto=prepared
			sb "$DB_PORT" "$wl" "$th" "$ps" --time=2 --report-interval=0 run >/dev/null 2>&1 || true # warm-up
			dqs=(); dps=(); rqs=(); rps=(); pqs=(); pps=(); rus=(); pus=(); prs=()
			for _ in $(seq 1 "$BENCH_ROUNDS"); do
				q=0 p=0 u=0
				[[ $BENCH_TARGETS == *direct* ]] && read -r q p u < <(run "$DB_PORT" "$wl" "$th" "$ps"); dqs+=("$q"); dps+=("$p")
				q=0 p=0 u=0
				[[ $BENCH_TARGETS == *relay* ]] && read -r q p u < <(run "$RELAY_PORT" "$wl" "$th" "$ps" "$RELAY_PID"); rqs+=("$q"); rps+=("$p"); rus+=("$u")
				q=0 p=0 u=0
				[[ $BENCH_TARGETS == *proxy* ]] && read -r q p u < <(run "$PROXY_PORT" "$wl" "$th" "$ps" "$PROXY_PID"); pqs+=("$q"); pps+=("$p"); pus+=("$u")
				prs+=("$(awk -v a="${pqs[-1]}" -v b="${rqs[-1]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')")
			done
			dq=$(median "${dqs[@]}"); dp=$(median "${dps[@]}")
			rq=$(median "${rqs[@]}"); rp=$(median "${rps[@]}")
			pq=$(median "${pqs[@]}"); pp=$(median "${pps[@]}")
			ru=$(median "${rus[@]}"); pu=$(median "${pus[@]}")
			rr=$(awk -v a="$rq" -v b="$dq" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
			pr=$(median "${prs[@]}" | awk '{ printf "%.2f", $1 }')
			prange=$(printf '%s\n' "${prs[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
			awk -v r="$pr" 'BEGIN { exit !(r < 0.90) }' && fail=1
			printf '%-18s %3s %-9s | %10s %7s | %10s %7s | %10s %7s | %6s %6s %11s | %8s %8s\n' \
				"$wl" "$th" "$proto" "$dq" "$dp" "$rq" "$rp" "$pq" "$pp" "$rr" "$pr" "$prange" "$ru" "$pu"
		done
	done
done
records=$(find "$WORK/logs" -name '*.jsonl*' -print0 2>/dev/null | xargs -0 -r cat | wc -l)
drops=$(curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null | awk '/^sqlshadow_proxy_log_dropped_total/ { print $2 }')
echo "query-log records flushed so far: $records; dropped: ${drops:-?}"
echo "r/dir = relay/direct QPS, p/relay = median of the rounds' proxy/relay QPS (target >= 0.90), p/r range = lowest-highest of them; relay_us, proxy_us = CPU microseconds the relay or proxy process spent per query"
exit $fail
