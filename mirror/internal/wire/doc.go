// Package wire is the MySQL/MariaDB client-server protocol as the proxy and
// the shadow side need it: packet reading and writing over buffered
// connections (sequence ids, 16 MiB splitting and joining, zero-copy reads of
// packets that fit in the read buffer), capability flags (MariaDB's extended
// ones included), the greeting and HandshakeResponse (parsed and
// re-serialised), OK/ERR/EOF packets, column definitions, text and binary
// rows, the canonical result hash of DESIGN.md, and a command-aware response
// reader (Conn.ReadResponse) that reads exactly one command's response while
// handing every packet to a callback, so a relay forwards as it reads.
package wire
