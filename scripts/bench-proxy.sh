#!/usr/bin/env bash
# bench-proxy.sh: sysbench through nothing, a bare TCP relay, and the
# sqlshadow proxy (query log to file:// on, off, and mirroring to a second
# MariaDB), in one run, with each process's CPU per statement and QPS ratios.
#
#   scripts/bench-proxy.sh                                 # 5 rounds of 5 s per target and line
#   BENCH_TIME=20 BENCH_ROUNDS=7 scripts/bench-proxy.sh    # steadier figures
#
# Targets (BENCH_TARGETS, default all): direct (MariaDB itself), relay (a
# bare TCP relay, io.Copy both ways), proxy (pass-through, query log on
# unless BENCH_NO_LOG=1), nolog (pass-through, no query log), mirror (query
# log on, mirroring to a second MariaDB as the shadow, shadow user sbtest).
# Each line runs the targets alternately, BENCH_ROUNDS times, so that a noisy
# neighbour hurts all alike. For every process measured (the relay, each
# proxy and, for mirror, the shadow MariaDB as a separate process) it prints
# the CPU per statement: utime+stime from /proc/PID/stat over the run divided
# by the statements sysbench reports, as the median over rounds; x/relay is
# the median of the rounds' ratios to the relay's CPU per statement in the
# same round, and its range their lowest and highest. QPS, its ratio to the
# relay's (median and range) and p95 are secondary figures.
#
# A/B: BENCH_PROXY_BIN_B names a second shadow-proxy binary (say, built
# from another commit: go build -o /tmp/proxy-b ./shadow-proxy in examples/)
# that runs beside the tree's, as the targets proxyB (query log on) and
# mirrorB (mirroring to the same shadow MariaDB), added to the default
# targets and alternated with the others in every round, so that both
# builds meet the same load. Their rows are labelled :B; the exit status
# follows the tree's build only.
#
# It starts two throwaway MariaDB servers, the primary and the shadow, in a
# temporary directory (mariadbd, mariadb-install-db and sysbench must be
# installed), prepares the sysbench tables once on each, then for each workload (oltp_point_select, oltp_read_only),
# thread count (1, 8) and protocol (text: --db-ps-mode=disable; prepared:
# sysbench's default --db-ps-mode=auto) runs the targets back to back.
# Target (exit status 1 when missed on any line): the proxy with its query
# log at or below 1.20x the relay's CPU per statement, mirror at or below
# 2.50x (medians of the paired rounds).
set -euo pipefail

BENCH_TIME=${BENCH_TIME:-5}
BENCH_ROUNDS=${BENCH_ROUNDS:-5}
BENCH_WORKLOADS=${BENCH_WORKLOADS:-"oltp_point_select oltp_read_only"}
BENCH_THREADS=${BENCH_THREADS:-"1 8"}
BENCH_MODES=${BENCH_MODES:-"disable auto"}
BENCH_PROXY_ARGS=${BENCH_PROXY_ARGS:-}
BENCH_PROXY_BIN_B=${BENCH_PROXY_BIN_B:-}
default_targets="direct relay proxy nolog mirror"
[ -n "$BENCH_PROXY_BIN_B" ] && default_targets+=" proxyB mirrorB"
BENCH_TARGETS=${BENCH_TARGETS:-$default_targets} # for profiling one target
# BENCH_NO_LOG=1 runs the proxy without its query log, to see what logging costs.
TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/sqlshadow-bench-XXXXXX)
log_args=(-bucket-url "file://$WORK/logs/proxy")
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

SCRIPT=bench-proxy
. "$ROOT/scripts/lib/mariadb.sh"
db_args=(--innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2)

echo "bench-proxy: starting MariaDB in $WORK" >&2
start_mariadb data sbtest sbtest-pw sbtest "${db_args[@]}"
DB_PORT=$MARIADB_PORT
echo "bench-proxy: starting the shadow MariaDB" >&2
start_mariadb shadow-data sbtest sbtest-pw sbtest "${db_args[@]}"
SHADOW_DB_PORT=$MARIADB_PORT SHADOW_DB_PID=$MARIADB_PID

echo "bench-proxy: building the relay and the proxy" >&2
(cd "$ROOT/examples" && go build -o "$WORK/relay" ./shadow-proxy/internal/relay && go build -o "$WORK/shadow-proxy" ./shadow-proxy)
RELAY_PORT=$(free_port)
PROXY_PORT=$(free_port)
METRICS_PORT=$(free_port)
NOLOG_PORT=$(free_port)
NOLOG_METRICS_PORT=$(free_port)
MIRROR_PORT=$(free_port)
MIRROR_METRICS_PORT=$(free_port)
"$WORK/relay" -listen "127.0.0.1:$RELAY_PORT" -upstream "127.0.0.1:$DB_PORT" 2>"$WORK/relay.log" &
RELAY_PID=$!
PIDS+=($!)
mkdir -p "$WORK/logs/proxy" "$WORK/logs/mirror" "$WORK/logs/proxyB" "$WORK/logs/mirrorB"
"$WORK/shadow-proxy" -listen "127.0.0.1:$PROXY_PORT" -primary "127.0.0.1:$DB_PORT" \
	"${log_args[@]}" -metrics-listen "127.0.0.1:$METRICS_PORT" -log-level warn $BENCH_PROXY_ARGS 2>"$WORK/proxy.log" &
PROXY_PID=$!
PIDS+=($!)
"$WORK/shadow-proxy" -listen "127.0.0.1:$NOLOG_PORT" -primary "127.0.0.1:$DB_PORT" \
	-metrics-listen "127.0.0.1:$NOLOG_METRICS_PORT" -log-level warn $BENCH_PROXY_ARGS 2>"$WORK/nolog.log" &
NOLOG_PID=$!
PIDS+=($!)
SQLSHADOW_SHADOW_PASSWORD=sbtest-pw "$WORK/shadow-proxy" -listen "127.0.0.1:$MIRROR_PORT" -primary "127.0.0.1:$DB_PORT" \
	-shadow "127.0.0.1:$SHADOW_DB_PORT" -shadow-user sbtest -bucket-url "file://$WORK/logs/mirror" \
	-metrics-listen "127.0.0.1:$MIRROR_METRICS_PORT" -log-level warn $BENCH_PROXY_ARGS 2>"$WORK/mirror.log" &
MIRROR_PID=$!
PIDS+=($!)
PROXYB_PORT=0 PROXYB_METRICS_PORT=0 PROXYB_PID=0 MIRRORB_PORT=0 MIRRORB_METRICS_PORT=0 MIRRORB_PID=0
if [ -n "$BENCH_PROXY_BIN_B" ]; then
	PROXYB_PORT=$(free_port)
	PROXYB_METRICS_PORT=$(free_port)
	MIRRORB_PORT=$(free_port)
	MIRRORB_METRICS_PORT=$(free_port)
	"$BENCH_PROXY_BIN_B" -listen "127.0.0.1:$PROXYB_PORT" -primary "127.0.0.1:$DB_PORT" \
		-bucket-url "file://$WORK/logs/proxyB" -metrics-listen "127.0.0.1:$PROXYB_METRICS_PORT" -log-level warn $BENCH_PROXY_ARGS 2>"$WORK/proxyB.log" &
	PROXYB_PID=$!
	PIDS+=($!)
	SQLSHADOW_SHADOW_PASSWORD=sbtest-pw "$BENCH_PROXY_BIN_B" -listen "127.0.0.1:$MIRRORB_PORT" -primary "127.0.0.1:$DB_PORT" \
		-shadow "127.0.0.1:$SHADOW_DB_PORT" -shadow-user sbtest -bucket-url "file://$WORK/logs/mirrorB" \
		-metrics-listen "127.0.0.1:$MIRRORB_METRICS_PORT" -log-level warn $BENCH_PROXY_ARGS 2>"$WORK/mirrorB.log" &
	MIRRORB_PID=$!
	PIDS+=($!)
fi
sleep 0.5

sb() { # port workload threads psmode [extra...]
	local port=$1 wl=$2 th=$3 ps=$4; shift 4
	sysbench "$wl" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$port" --mysql-user=sbtest \
		--mysql-password=sbtest-pw --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" \
		--threads="$th" --db-ps-mode="$ps" --percentile=95 --rand-seed=1 "$@"
}

echo "bench-proxy: preparing $TABLES tables of $TABLE_SIZE rows" >&2
sb "$DB_PORT" oltp_read_only 4 disable prepare >"$WORK/prepare.log" 2>&1
sb "$SHADOW_DB_PORT" oltp_read_only 4 disable prepare >"$WORK/shadow-prepare.log" 2>&1

cpu_of() { # pid -> CPU seconds used so far
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

run() { # port workload threads psmode [pid [pid2]] -> "qps p95 cpu_us_per_query cpu2_us_per_query"
	local out c0 c1 d0 d1
	c0=$(cpu_of "${5:-0}"); d0=$(cpu_of "${6:-0}")
	out=$(sb "$1" "$2" "$3" "$4" --time="$BENCH_TIME" --report-interval=0 run 2>&1) || { echo "$out" >&2; echo "0 0 0 0"; return; }
	c1=$(cpu_of "${5:-0}"); d1=$(cpu_of "${6:-0}")
	local qps p95 total
	qps=$(awk '/queries:/ { gsub(/\(/, "", $3); print $3 }' <<<"$out")
	total=$(awk '/queries:/ { print $2 }' <<<"$out")
	p95=$(awk '/95th percentile:/ { print $3 }' <<<"$out")
	per() { awk -v a="$1" -v b="$2" -v n="${total:-0}" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) * 1e6 / n : 0) }'; }
	echo "${qps:-0} ${p95:-0} $(per "$c0" "$c1") $(per "$d0" "$d1")"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
has() { [[ " $BENCH_TARGETS " == *" $1 "* ]]; }

# Each row is one process measured on one line: the targets in BENCH_TARGETS,
# plus shadow-db (the shadow MariaDB, during the mirror target's runs) and
# shadowB (the same, during mirrorB's).
TARGETS="direct relay proxy nolog mirror proxyB mirrorB"
declare -A PORT=([direct]=$DB_PORT [relay]=$RELAY_PORT [proxy]=$PROXY_PORT [nolog]=$NOLOG_PORT [mirror]=$MIRROR_PORT
	[proxyB]=$PROXYB_PORT [mirrorB]=$MIRRORB_PORT)
declare -A PID=([direct]=0 [relay]=$RELAY_PID [proxy]=$PROXY_PID [nolog]=$NOLOG_PID [mirror]=$MIRROR_PID
	[proxyB]=$PROXYB_PID [mirrorB]=$MIRRORB_PID)
declare -A SHADOW_ROW=([mirror]=shadow-db [mirrorB]=shadowB)
declare -A LABEL=([direct]=direct [relay]=relay [proxy]="proxy+log" [nolog]="proxy-nolog" [mirror]=mirror [shadow-db]="shadow-db"
	[proxyB]="proxy+log:B" [mirrorB]="mirror:B" [shadowB]="shadow-db:B")
[ "${BENCH_NO_LOG:-}" = 1 ] && LABEL[proxy]="proxy(nolog)"
fmt='%-18s %3s %-9s %-12s | %8s %7s %11s | %10s %7s %11s %7s\n'
printf "$fmt" workload thr protocol process cpu_us x/relay 'x range' qps q/relay 'q range' p95ms
fail=0
echo "bench-proxy: proxy metrics on http://127.0.0.1:$METRICS_PORT/metrics, mirror's on http://127.0.0.1:$MIRROR_METRICS_PORT/metrics" >&2
for wl in $BENCH_WORKLOADS; do
	for th in $BENCH_THREADS; do
		for ps in $BENCH_MODES; do
			proto=text; [ "$ps" = auto ] && proto=prepared
			sb "$DB_PORT" "$wl" "$th" "$ps" --time=2 --report-interval=0 run >/dev/null 2>&1 || true # warm-up
			declare -A qs=() p95s=() us=() xs=() qr=()
			for _ in $(seq 1 "$BENCH_ROUNDS"); do
				declare -A rq=() ru=()
				for t in $TARGETS; do
					has "$t" || continue
					sh=${SHADOW_ROW[$t]:-}
					read -r q p u u2 < <(run "${PORT[$t]}" "$wl" "$th" "$ps" "${PID[$t]}" "$([ -n "$sh" ] && echo "$SHADOW_DB_PID")")
					rq[$t]=$q; ru[$t]=$u
					qs[$t]+=" $q"; p95s[$t]+=" $p"; us[$t]+=" $u"
					if [ -n "$sh" ]; then rq[$sh]=0; ru[$sh]=$u2; us[$sh]+=" $u2"; fi
				done
				if has relay; then
					for t in "${!ru[@]}"; do
						xs[$t]+=" $(ratio "${ru[$t]}" "${ru[relay]}")"
						qr[$t]+=" $(ratio "${rq[$t]}" "${rq[relay]}")"
					done
				fi
			done
			for t in $TARGETS shadow-db shadowB; do
				[ -n "${us[$t]:-}" ] || continue
				cu=- x=- xr=- q=- qq=- qrg=- p=-
				# shellcheck disable=SC2086 # the lists are space-separated on purpose
				{
					[ "$t" != direct ] && cu=$(median ${us[$t]})
					[ "$t" != shadow-db ] && [ "$t" != shadowB ] && { q=$(median ${qs[$t]}); p=$(median ${p95s[$t]}); }
					if [ -n "${xs[$t]:-}" ] && [ "$t" != direct ]; then x=$(median ${xs[$t]} | awk '{ printf "%.2f", $1 }'); xr=$(range ${xs[$t]}); fi
					if [ -n "${qr[$t]:-}" ] && [ "$t" != shadow-db ] && [ "$t" != shadowB ]; then qq=$(median ${qr[$t]} | awk '{ printf "%.2f", $1 }'); qrg=$(range ${qr[$t]}); fi
				}
				[ "$t" = proxy ] && [ "$x" != - ] && awk -v r="$x" 'BEGIN { exit !(r > 1.20) }' && fail=1
				[ "$t" = mirror ] && [ "$x" != - ] && awk -v r="$x" 'BEGIN { exit !(r > 2.50) }' && fail=1
				printf "$fmt" "$wl" "$th" "$proto" "${LABEL[$t]}" "$cu" "$x" "$xr" "$q" "$qq" "$qrg" "$p"
			done
			unset qs p95s us xs qr
		done
	done
done
count() { find "$1" -name '*.jsonl*' -print0 2>/dev/null | xargs -0 -r cat | wc -l; }
# dropped: records or commands given up anywhere (the query log's queue or
# sink, the mirror's queue, the shadow's queue and its log).
dropped() { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
	awk '/^sqlshadow_(proxy_log_dropped|proxy_mirror_dropped|shadow_drops|shadow_log_drops)_total/ { s += $NF } END { print s + 0 }'; }
echo "query-log records flushed so far: proxy $(count "$WORK/logs/proxy") (dropped: $(dropped "$METRICS_PORT")), mirror $(count "$WORK/logs/mirror") (dropped: $(dropped "$MIRROR_METRICS_PORT"))"
[ -n "$BENCH_PROXY_BIN_B" ] && echo "B build: proxyB $(count "$WORK/logs/proxyB") (dropped: $(dropped "$PROXYB_METRICS_PORT")), mirrorB $(count "$WORK/logs/mirrorB") (dropped: $(dropped "$MIRRORB_METRICS_PORT"))"
# outcomes: what each mirroring proxy's shadow side did with the commands it
# was handed (mirrored: run on the shadow; filtered, dropped, failed).
outcomes() { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
	awk -F'"' '/^sqlshadow_shadow_commands_total/ { split($3, v, " "); printf "%s%s %s", sep, $2, v[2]; sep = ", " }'; }
has mirror && echo "mirror's shadow commands: $(outcomes "$MIRROR_METRICS_PORT")"
has mirrorB && echo "mirrorB's shadow commands: $(outcomes "$MIRRORB_METRICS_PORT")"
echo "shadow MariaDB: $(mariadb --no-defaults -h127.0.0.1 -P"$SHADOW_DB_PORT" -usbtest -psbtest-pw -N -e "SHOW GLOBAL STATUS LIKE 'Questions'" 2>/dev/null | awk '{ print $2 }') statements received (Questions, including sysbench's prepare)"
# What the shadow MariaDB ran, by command (its nonzero Com_ counters; a
# prepared SELECT's execute counts in Com_stmt_execute and Com_select).
has mirror && echo "shadow MariaDB's commands: $(mariadb --no-defaults -h127.0.0.1 -P"$SHADOW_DB_PORT" -usbtest -psbtest-pw -N \
	-e "SELECT GROUP_CONCAT(CONCAT(LOWER(VARIABLE_NAME), ' ', VARIABLE_VALUE) SEPARATOR ', ') FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME LIKE 'COM\_%' AND VARIABLE_VALUE > 0" 2>/dev/null)"
echo "cpu_us = CPU microseconds the process spent per statement sysbench reports; x/relay = median of the rounds' cpu_us ratios to the relay's in the same round (targets: proxy+log <= 1.20, mirror <= 2.50), x range = lowest-highest of them; q/relay, q range = the same for QPS; shadow-db = the shadow MariaDB during the mirror runs"
exit $fail
