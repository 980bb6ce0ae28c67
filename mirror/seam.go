package mirror

import (
	"context"
	"time"
)

// Mirror is the shadow side: it receives the commands a client ran on the
// primary and replays them elsewhere. Proxy uses one; a custom proxy can use
// the default implementation (or its own) without Proxy.
type Mirror interface {
	// Open starts a shadow session for one client connection. It must not
	// wait for the shadow: logging in happens in the background, so a slow or
	// dead shadow never delays the client.
	Open(ctx context.Context, info SessionInfo) (Session, error)
}

// Shutdowner is implemented by a Mirror that Proxy shuts down with itself
// (Shadow is one): Proxy.Shutdown calls Shutdown with its own ctx once every
// client connection has ended, and Proxy.Close calls it with a ctx that has
// already ended (stop at once).
type Shutdowner interface {
	// Shutdown stops the mirror once it has run what it holds, or at once
	// when ctx ends, and returns after its goroutines have ended.
	Shutdown(ctx context.Context) error
}

// Flusher is implemented by a Mirror that can wait until it has finished
// what it was given (Shadow is one): Proxy.Flush calls it.
type Flusher interface {
	// Flush returns once every command submitted before the call has been
	// run (or dropped) and its record handed to the sink, or when ctx ends.
	Flush(ctx context.Context) error
}

// Session is the shadow side of one client connection.
type Session interface {
	// Submit queues a command the client ran on the primary, with the
	// primary's outcome. It never blocks: false means the command was dropped
	// (queue full), and the drop is counted and logged. Submit takes
	// ownership of cmd.Payload.
	Submit(cmd Command) bool
	// Close drains the session's queue within the mirror's drain deadline
	// and logs out of the shadow.
	Close() error
}

// SessionInfo describes the client connection a shadow session mirrors.
type SessionInfo struct {
	// ConnID is the proxy's connection id (the conn_id of query logs).
	ConnID uint64
	// User is the user the client authenticated as on the primary.
	User string
	// Database is the client's default database at connect ("" for none).
	Database string
	// Collation is the client's character set / collation id from its
	// HandshakeResponse.
	Collation uint8
	// Capabilities are the client capabilities negotiated with the primary
	// (CLIENT_* flags); the shadow session asks for the ones it needs
	// (multi-statements, multi-results, ...).
	Capabilities uint32
	// ClientAddr is the client's remote address.
	ClientAddr string
	// PrimaryConnID is the primary's connection id from its greeting.
	PrimaryConnID uint32
}

// Command is one client command, as the primary ran it.
type Command struct {
	// QueryID is unique per client command; the primary and shadow records
	// of one command share it.
	QueryID string
	// Seq is the command's sequence number within the connection.
	Seq uint64
	// Received is when the proxy received the command from the client.
	Received time.Time
	// Payload is the command packet's payload as the client sent it: the
	// command byte (COM_QUERY, COM_STMT_EXECUTE, ...) followed by its body.
	// Submit takes ownership of it.
	Payload []byte
	// Query is the SQL text: for COM_QUERY the statement, for
	// COM_STMT_PREPARE and COM_STMT_EXECUTE the prepared text ("" otherwise).
	Query string
	// StmtID is the primary's statement id for COM_STMT_* commands (for
	// COM_STMT_PREPARE, the id the primary assigned).
	StmtID uint32
	// Primary is what the primary answered.
	Primary Outcome
}

// Kind returns the command byte (COM_QUERY, ...), or 0 for an empty payload.
func (c Command) Kind() byte {
	if len(c.Payload) == 0 {
		return 0
	}
	return c.Payload[0]
}

// Outcome is what a server answered to one command.
type Outcome struct {
	// Duration is from the command written to the server to the last
	// response packet read.
	Duration time.Duration
	// ClientWait is the time the proxy spent blocked writing the answer to
	// the client (while relaying it and in the final flush): a slow client,
	// not a slow server.
	ClientWait time.Duration
	// Success is false on an ERR packet or an I/O error.
	Success bool
	// ErrorCode, SQLState and Error come from the ERR packet, or Error holds
	// the I/O error's text.
	ErrorCode uint16
	SQLState  string
	Error     string
	// Rows is the number of rows returned (result sets) or affected (OK).
	Rows int64
	// ResultHash is the canonical, order-insensitive checksum of the result
	// rows; ColumnsHash hashes column names and types; FloatCols says
	// whether any column is FLOAT or DOUBLE.
	ResultHash  string
	ColumnsHash string
	FloatCols   bool
	// NumParams is, for COM_STMT_PREPARE, the number of parameters the
	// primary reported.
	NumParams uint16
}
