// Package mirror is the MySQL-protocol shadow proxy: it answers clients from
// the primary, mirrors their statements asynchronously to a shadow, and logs
// both sides of every command.
//
// # The proxy
//
// Proxy sits in front of one primary. Clients connect to it as they would to
// the primary; real clients (go-sql-driver/mysql, go-mysql, the mariadb
// command-line client, sysbench) cannot tell the difference:
//
//   - Authentication is relayed to the primary with every plugin round
//     (auth switch, more-data rounds, caching_sha2 fast and full
//     authentication), so the proxy needs no passwords. Cleartext plugins
//     (mysql_clear_password, dialog) and caching_sha2 full authentication
//     over client TLS are refused when the primary leg is not TLS, unless
//     Options.AllowCleartextAuth.
//   - The greeting is rewritten and the HandshakeResponse re-serialised so
//     that only capabilities the proxy frames are negotiated: compression,
//     zstd, query attributes, optional result set metadata, multi-factor
//     authentication and every MariaDB extended capability (progress
//     reports, bulk operations, extended and cached metadata) are cleared.
//     CLIENT_DEPRECATE_EOF and CLIENT_SESSION_TRACK are relayed: the response
//     reader frames both EOF styles.
//   - Every command's response is framed by what the command is: text and
//     binary result sets, multi-results (multi-statements, procedures),
//     COM_STMT_PREPARE, COM_FIELD_LIST, COM_STATISTICS, COM_CHANGE_USER,
//     COM_RESET_CONNECTION, COM_STMT_FETCH on cursors, COM_STMT_SEND_LONG_DATA
//     and COM_STMT_CLOSE (no response), LOAD DATA LOCAL INFILE, and packets
//     of 16 MiB and more. Replication commands (COM_BINLOG_DUMP,
//     COM_REGISTER_SLAVE, ...) are answered with an ERR.
//   - TLS is terminated for clients (Options.ClientTLS) and spoken to the
//     primary with verification (Options.PrimaryTLS).
//   - Dialing, TLS and login are bounded by Options.ConnectTimeout (10 s) on
//     both legs; there is no idle timeout and no per-command deadline by
//     default: long analytical queries are legitimate.
//
// Packets are forwarded as they are read and the client's writes are flushed
// once per response; rows are hashed while they pass. Every command gives one
// query-log Record (target "primary") to Options.Sink, through a bounded
// queue that never blocks a client (drops are counted in
// sqlshadow_proxy_log_dropped_total), and, when Options.Mirror is set, one
// Command to the connection's shadow Session with the primary's Outcome.
//
// Metrics (Options.Registerer): sqlshadow_proxy_connections_total,
// _connections_active, _connection_errors_total{stage},
// _commands_total{command}, _command_errors_total{code},
// _bytes_total{direction}, _command_duration_seconds, _log_dropped_total,
// _log_errors_total, _mirror_dropped_total.
//
// # Performance
//
// scripts/bench-proxy.sh drives sysbench (oltp_point_select and
// oltp_read_only, 1 and 8 threads, text and prepared) directly against
// MariaDB, through a bare TCP relay (io.Copy both ways, which Go turns into
// splice(2): no copy through user space) and through the proxy with its
// query log on file://, alternating the targets (3 rounds of 5 s, medians).
// On the shared 2-core development machine (other jobs running, so single
// figures move by +-15%), scripts/bench-proxy.sh printed:
//
//	workload           thr protocol  | direct_qps   p95ms |  relay_qps   p95ms |  proxy_qps   p95ms |  r/dir p/relay | relay_us proxy_us
//	oltp_point_select    1 text      |   28158.59    0.10 |    7366.81    0.22 |   11644.24    0.20 |   0.26   1.58 |     61.0     44.8
//	oltp_point_select    1 prepared  |   12697.31    0.10 |    7506.34    0.20 |    6797.70    0.22 |   0.59   0.91 |     62.3     76.8
//	oltp_point_select    8 text      |   79454.25    0.19 |   37318.80    0.43 |   29185.53    0.67 |   0.47   0.78 |     15.1     24.8
//	oltp_point_select    8 prepared  |   90137.40    0.19 |   41768.69    0.39 |   33122.14    0.59 |   0.46   0.79 |     14.1     22.1
//	oltp_read_only       1 text      |    9906.06    1.86 |    6213.82    3.13 |    5734.13    3.25 |   0.63   0.92 |     66.9     84.2
//	oltp_read_only       1 prepared  |   10648.92    1.76 |    6536.50    2.86 |    6086.17    3.19 |   0.61   0.93 |     65.4     79.2
//	oltp_read_only       8 text      |   44903.33    5.88 |   20791.65   10.27 |   18748.60   12.08 |   0.46   0.90 |     19.2     29.0
//	oltp_read_only       8 prepared  |   53731.34    3.82 |   29031.31    6.43 |   24030.09    7.56 |   0.54   0.83 |     17.3     26.2
//
// (relay_us and proxy_us: CPU microseconds the relay or proxy process used
// per query.) The proxy reads every packet into user space, frames it, hashes
// the rows and logs the command; it costs 7 to 10 us of CPU per query more
// than the splice relay. Where the machine is CPU-bound (8 threads) that
// shows as 0.78-0.90 of the relay's QPS; latency-bound lines (1 thread) are
// at 0.91-0.93 and above. Every command was logged (1,972,565 records, none
// dropped).
//
// The relay path itself is at its minimum of system calls: one read and one
// write per leg and command (64 KiB buffers, one flush per response), no
// deadline or timer per command. Most of the gap is the query log: with
// BENCH_NO_LOG=1 the 8-thread oltp_point_select lines ran at 0.88-1.05 of
// the relay's QPS (proxy 18.5 us of CPU per query against the relay's 15.1).
// The log goroutine's own work (hashes, JSON) is about 2 us per record; the
// rest is Go scheduler churn (sysmon retaking Ps from threads the kernel
// preempted in write(2) while the log goroutine holds the other P: about a
// fifth of the proxy's CPU in perf). Connections hand records to the log
// goroutine through a mutex-guarded slice taken a batch at a time, rather than
// a channel operation per record on both sides: that saved 1-2 us of CPU per
// query on the 8-thread point-select lines (BENCH_WORKLOADS=oltp_point_select
// BENCH_THREADS=8 BENCH_TARGETS="relay proxy" BENCH_TIME=4
// scripts/bench-proxy.sh, interleaved A/B runs: proxy_us 25.1 and 24.7 to
// 23.2 and 22.9 text, 23.0 and 21.3 to 21.4 and 20.8 prepared).
//
// # The shadow side
//
// Shadow is the default Mirror (its doc comment has the details: sessions
// and bounded queues inside a shared byte budget, session state tracked and
// replayed, prepared statements mapped with their parameter types re-sent,
// read-only mirroring by the hashing package's classification, deadlines,
// diverged records, metrics). A custom proxy uses it through the Mirror and
// Session interfaces without Proxy (see ExampleShadow_customRelay). Shut
// down in this order: Proxy.Shutdown, then Shadow.Shutdown (drains the
// queues), then the sink's Close.
//
// Figures (go test -run '^$' -bench MirrorSysbench -benchtime 1x ./mirror/,
// sysbench oltp_point_select, 8 threads, prepared, tables prepared once and
// copied, CHECKSUM TABLE equal first): bare relay 15,913 QPS, proxy 14,715,
// proxy mirroring to a second MariaDB 11,084 (0.70 of the relay; target
// 0.60) with 0 drops; open loop at half the relay's rate: 7,933 QPS, 0 drops,
// 0 shadow failures, the shadow server counting every mirrored execute.
// Session.Submit, the only shadow work on the client's path, costs about
// 0.9 us and no allocation (-bench ShadowSubmit).
package mirror
