// Package wire is the MySQL/MariaDB client-server protocol as the proxy and
// the shadow side need it: packet reading and writing over buffered
// connections (sequence ids, 16 MiB splitting and joining, zero-copy reads of
// packets that fit in the read buffer), capability flags (MariaDB's extended
// ones included), the greeting and HandshakeResponse (parsed and
// re-serialised), OK/ERR/EOF packets, column definitions, text and binary
// rows, the canonical result hash (result_hash in docs/datasets.md), and a command-aware response
// reader (Conn.ReadResponse) that reads exactly one command's response while
// handing every packet to a callback, so a relay forwards as it reads.
//
// # Canonical result hash
//
// Result.ResultHash is "<rows>:<32 hex digits>": the row count and the sum,
// mod 2^128, of a 128-bit hash of each canonical row. The canonical forms and
// the hash are package internal/canon's, shared with the replay runner;
// AppendTextRow and AppendBinaryRow build canonical rows from row packets.
// Text and binary rows of the same data give the same hash; row order does
// not matter. Result.ColumnsHash is the hex MD5 of the column names and
// types.
//
// Its cost per row is in docs/performance.md (section "mirror: the proxy").
package wire
