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
// MariaDB, through a bare TCP relay and through the proxy with its query log
// on file://, and prints the ratios; see the repository README for the
// figures.
package mirror
