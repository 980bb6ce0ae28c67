#!/usr/bin/env bash
# bench-proxy.sh: sysbench through nothing, a bare TCP relay, and the
# sqlshadow proxy (query log to file:// on), in one run, with QPS ratios.
#
#   scripts/bench-proxy.sh                 # 10 s per line
#   BENCH_TIME=30 scripts/bench-proxy.sh   # longer runs, steadier figures
#
# It starts a throwaway MariaDB in a temporary directory (mariadbd,
# mariadb-install-db and sysbench must be installed), prepares the sysbench
# tables once, then for each workload (oltp_point_select, oltp_read_only),
# thread count (1, 8) and protocol (text: --db-ps-mode=disable; prepared:
# sysbench's default --db-ps-mode=auto) runs the three targets back to back.
# Target: proxy QPS >= 90% of the bare relay's on every line.
set -euo pipefail

BENCH_TIME=${BENCH_TIME:-10}
TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/sqlshadow-bench-XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "bench-proxy: $1 is not installed" >&2; exit 2; }; }
need mariadbd; need mariadb-install-db; need sysbench; need mariadb; need go

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
PIDS+=($!)
mkdir -p "$WORK/logs"
"$WORK/shadow-proxy" -listen "127.0.0.1:$PROXY_PORT" -primary "127.0.0.1:$DB_PORT" \
	-bucket-url "file://$WORK/logs" -metrics-listen "127.0.0.1:$METRICS_PORT" -log-level warn 2>"$WORK/proxy.log" &
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

run() { # port workload threads psmode -> "qps p95"
	local out
	out=$(sb "$1" "$2" "$3" "$4" --time="$BENCH_TIME" --report-interval=0 run 2>&1) || { echo "$out" >&2; echo "0 0"; return; }
	local qps p95
	qps=$(awk '/queries:/ { gsub(/\(/, "", $3); print $3 }' <<<"$out")
	p95=$(awk '/95th percentile:/ { print $3 }' <<<"$out")
	echo "${qps:-0} ${p95:-0}"
}

printf '%-18s %3s %-9s | %10s %7s | %10s %7s | %10s %7s | %6s %6s\n' \
	workload thr protocol direct_qps p95ms relay_qps p95ms proxy_qps p95ms r/dir p/relay
fail=0
for wl in oltp_point_select oltp_read_only; do
	for th in 1 8; do
		for ps in disable auto; do
			proto=text; [ "$ps" = auto ] && proto=prepared
			sb "$DB_PORT" "$wl" "$th" "$ps" --time=2 --report-interval=0 run >/dev/null 2>&1 || true # warm-up
			read -r dq dp < <(run "$DB_PORT" "$wl" "$th" "$ps")
			read -r rq rp < <(run "$RELAY_PORT" "$wl" "$th" "$ps")
			read -r pq pp < <(run "$PROXY_PORT" "$wl" "$th" "$ps")
			rr=$(awk -v a="$rq" -v b="$dq" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
			pr=$(awk -v a="$pq" -v b="$rq" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
			awk -v r="$pr" 'BEGIN { exit !(r < 0.90) }' && fail=1
			printf '%-18s %3s %-9s | %10s %7s | %10s %7s | %10s %7s | %6s %6s\n' \
				"$wl" "$th" "$proto" "$dq" "$dp" "$rq" "$rp" "$pq" "$pp" "$rr" "$pr"
		done
	done
done
records=$(find "$WORK/logs" -name '*.jsonl*' -print0 2>/dev/null | xargs -0 -r cat | wc -l)
drops=$(curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null | awk '/^sqlshadow_proxy_log_dropped_total/ { print $2 }')
echo "query-log records flushed so far: $records; dropped: ${drops:-?} (r/dir = relay/direct, p/relay = proxy/relay; target p/relay >= 0.90)"
exit $fail
