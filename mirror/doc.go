// Package mirror is the MySQL-protocol shadow proxy: it answers clients from
// the primary, mirrors their statements asynchronously to a shadow, and logs
// both sides of every command to the query-logs dataset (dataset.QueryLog;
// the fields and their meaning are in docs/datasets.md).
//
// # Use
//
// Proxy sits in front of one primary; Shadow, the default Mirror, replays
// each client connection on a shadow server. Both write to a sink.Sink,
// usually one sink.Writer in drop mode:
//
//	logs, _ := sink.NewWriter(bucket, dataset.QueryLogs, &sink.WriterOptions{DropWhenFull: true})
//	shadow, _ := mirror.NewShadow("shadow:3306", &mirror.ShadowOptions{User: "mirror", Password: pw, Sink: logs})
//	proxy, _ := mirror.New("primary:3306", &mirror.Options{Sink: logs, Mirror: shadow})
//	go proxy.Serve(listener)
//	...
//	proxy.Shutdown(ctx) // connections, then the shadow, then the log
//	logs.Close(ctx)
//
// A custom proxy can use Shadow (or its own Mirror) without Proxy, through
// the Mirror and Session interfaces (see ExampleShadow_customRelay).
//
// # The proxy
//
// Clients connect to the proxy as they would to the primary; real clients
// (go-sql-driver/mysql, go-mysql, the mariadb command-line client, sysbench)
// cannot tell the difference. Authentication is relayed to the primary with
// every plugin round, so the proxy needs no passwords; cleartext plugins are
// refused over a primary leg without TLS unless Options.AllowCleartextAuth.
// Only capabilities the proxy frames are negotiated (no query attributes,
// optional metadata or MariaDB extended capabilities other than extended
// metadata, such as a JSON column's format, which the primary's leg
// negotiates as the client asked; both EOF styles and session tracking are
// relayed). Protocol compression is the proxy's own on each leg: zlib
// (CLIENT_COMPRESS) and zstd (CLIENT_ZSTD_COMPRESSION_ALGORITHM, at the level
// the client asks) are offered to every client; when the client compresses,
// the primary's leg uses the client's algorithm if the primary offers it,
// else the other one it offers, else none. The log, the hashes and the
// mirror see the decompressed packets; the shadow's leg is not compressed.
// The zstd encoders and decoders are shared by the proxy's connections, not
// kept per connection. Every command's response is
// framed by what the command is: text and binary result sets, multi-results,
// prepared statements and cursors, LOAD DATA LOCAL INFILE, packets of 16 MiB
// and more; replication commands are answered with an ERR. TLS is terminated
// for clients (Options.ClientTLS) and spoken to the primary with
// verification (Options.PrimaryTLS) when, and only when, the client used
// TLS, so that the server's require_secure_transport sees the client's
// choice (Options.PrimaryTLSAlways: for every client, weakening that
// check). The server's session status (Ssl_cipher, Ssl_version) then
// describes the proxy's TLS connection to it, not the client's: Go's TLS
// client chooses its own TLS 1.3 cipher suite (TLS_AES_128_GCM_SHA256 where
// the client may have had TLS_AES_256_GCM_SHA384). Dialing, TLS and login are bounded by Options.ConnectTimeout on
// both legs; there is no per-command deadline: long analytical queries are
// legitimate. On Linux the TCP connections of every leg are read and written
// with raw system calls (syscall.RawConn with RawSyscall): a socket call
// that need not wait is not reported to the Go scheduler, whose monitor
// thread otherwise wakes every 20 us to hand Ps between threads; waiting,
// deadlines and Close are the net package's own. The race detector does not
// see the kernel's accesses to those buffers.
//
// When the primary ends a session (wait_timeout, KILL, a restart), the
// client's connection ends too, as the server's own would: at once when the
// client is idle (on Linux one goroutine watches both sockets of every
// connection for a hang-up with epoll; elsewhere at the next command), after
// the answer's relayed part when a command is in flight. The proxy never
// answers with an error of its own for a lost primary, so a pool's liveness
// check sees a closed connection and reconnects. The other way round, a
// client that closes its connection while a command runs gets its primary
// connection closed at once, so that the server ends what waits (a
// GET_LOCK) and frees the session's locks; the command's record's error
// says so ("the client closed its connection mid-command").
//
// Packets are forwarded as they are read and rows hashed while they pass.
// Every command gives one primary record to Options.Sink, through a bounded
// queue that never blocks a client (drops are counted), and, when
// Options.Mirror is set, one Command with the primary's Outcome to the
// connection's Session. The shadow side, its queues, session tracking and
// filters are described on Shadow.
//
// # Lifecycle
//
// New starts the proxy's log goroutine; Serve accepts clients on a listener
// until the proxy stops. The proxy owns Options.Mirror: when it implements
// Shutdowner (Shadow does), the proxy stops it.
//
//   - Shutdown(ctx) stops in order: it stops accepting, lets each connection
//     finish its command in flight and closes it, shuts the mirror down (the
//     shadow runs what is queued), hands the last records to the sink and
//     flushes it. When ctx ends first, what remains is closed or dropped at
//     once (and counted), and ctx's error is returned.
//   - Close does the same at once; only the final flush waits, bounded by
//     ConnectTimeout.
//   - Flush(ctx) waits, while the proxy keeps serving, until the records of
//     every command completed before the call are in the sink (the mirror's
//     queues drained when it implements Flusher) and flushes the sink.
//
// Shutdown and Close return only after every goroutine the proxy and its
// Shadow started has ended, even when the sink blocks (its writes get a
// context that Close, or the end of Shutdown's ctx, cancels). Neither closes
// the sink: its owner closes it afterwards. Shadow has the same Shutdown,
// Close and Flush, for use without Proxy.
//
// # Errors
//
// Serve returns ErrProxyClosed after Shutdown or Close, and Shadow.Open
// ErrShadowClosed. Errors of clients, the primary and the shadow never reach
// the caller: they end a connection or fail a command, and are logged
// (Options.Logger, ShadowOptions.Logger), counted in the metrics and written
// in the records (success, error_code, error; ErrShadowDeadline and
// ErrShadowUnavailable are the error text of shadow commands that could not
// run). ErrCleartextRefused is the error of a refused cleartext login.
// Shutdown, Close and Flush return ctx's error, or the sink's flush error
// wrapped.
//
// # Metrics
//
// Options.Registerer: sqlshadow_proxy_connections_total, _connections_active,
// _connection_errors_total{stage}, _commands_total{command},
// _command_errors_total{code}, _bytes_total{direction},
// _command_duration_seconds, _log_dropped_total, _log_errors_total,
// _mirror_dropped_total. ShadowOptions.Registerer: see Shadow.
//
// The proxy's cost per command, and how it was measured, is in
// docs/performance.md (section "mirror: the proxy").
package mirror
