package dataset

import "github.com/sqlshadow/sqlshadow/sink"

// Targets of a QueryLog.
const (
	TargetPrimary = "primary"
	TargetShadow  = "shadow"
)

// Field names of the QueryLogs dataset (the JSON keys). Profiles share the
// names of the join keys (FieldTS, FieldQueryHash, FieldTemplateHash,
// FieldServerConnID, FieldDatabase, FieldUser, FieldDurationMS).
const (
	FieldTS                  = "ts"
	FieldQueryID             = "query_id"
	FieldTarget              = "target"
	FieldCommand             = "command"
	FieldQueryText           = "query_text"
	FieldQueryHash           = "query_hash"
	FieldTemplateHash        = "template_hash"
	FieldRoute               = "route"
	FieldDatabase            = "database"
	FieldUser                = "user"
	FieldClientAddr          = "client_addr"
	FieldConnID              = "conn_id"
	FieldSeq                 = "seq"
	FieldDurationMS          = "duration_ms"
	FieldTTFBMS              = "ttfb_ms"
	FieldClientWaitMS        = "client_wait_ms"
	FieldServerConnID        = "server_conn_id"
	FieldQueueMS             = "queue_ms"
	FieldSuccess             = "success"
	FieldErrorCode           = "error_code"
	FieldSQLState            = "sql_state"
	FieldError               = "error"
	FieldRows                = "rows"
	FieldResultHash          = "result_hash"
	FieldColumnsHash         = "columns_hash"
	FieldFloatCols           = "float_cols"
	FieldPrimaryDurationMS   = "primary_duration_ms"
	FieldPrimaryClientWaitMS = "primary_client_wait_ms"
	FieldPrimarySuccess      = "primary_success"
	FieldPrimaryErrorCode    = "primary_error_code"
	FieldPrimaryRows         = "primary_rows"
	FieldPrimaryResultHash   = "primary_result_hash"
	FieldPrimaryColumnsHash  = "primary_columns_hash"
	FieldBytesSent           = "bytes_sent"
	FieldBytesRecv           = "bytes_recv"
	FieldFiltered            = "filtered"
	FieldFilterReason        = "filter_reason"
	FieldDropped             = "dropped"
	FieldDiverged            = "diverged"
)

// QueryLog is one record of the QueryLogs dataset: one client command on one
// target. The primary record is written when the client has its answer; the
// shadow record when the shadow answered (or the command was filtered,
// dropped or failed), and it carries the primary's outcome of the same
// command (the Primary* fields), so that a comparison needs no pairing.
//
// The names shared with the open-source StarRocks shadow proxy (ts,
// query_id, target, command, query_text, query_hash, duration_ms,
// bytes_sent, bytes_recv, success, error, client_addr, filtered,
// filter_reason) keep their names there; here ts is when the command was
// received (not when it completed) and success is false on an ERR packet.
type QueryLog struct {
	// TS is when the proxy received the command from the client (UTC).
	TS sink.Time `json:"ts"`
	// QueryID is unique per client command; both targets' records share it.
	QueryID string `json:"query_id"`
	// Target is TargetPrimary or TargetShadow.
	Target string `json:"target"`
	// Command is the protocol command: COM_QUERY, COM_STMT_EXECUTE, ...
	Command string `json:"command"`
	// QueryText is the SQL exactly as the client sent it (for
	// COM_STMT_EXECUTE, the prepared text); omitted when redacted.
	QueryText string `json:"query_text,omitempty"`
	// QueryHash is the lower-case hex MD5 of QueryText's bytes (hashing.QueryHash).
	QueryHash string `json:"query_hash,omitempty"`
	// TemplateHash is the hash of the normalised statement shape
	// (hashing.TemplateHash): the grouping key and the join key to profiles.
	TemplateHash string `json:"template_hash,omitempty"`
	// Route is the sqlcommenter route tag (/*route='...'*/), if any.
	Route string `json:"route,omitempty"`
	// Database, User and ClientAddr are the session's at the time of the command.
	Database   string `json:"database"`
	User       string `json:"user"`
	ClientAddr string `json:"client_addr"`
	// ConnID is the proxy's connection id and Seq the command's sequence
	// number within that connection.
	ConnID uint64 `json:"conn_id"`
	Seq    uint64 `json:"seq"`
	// DurationMS is from the command written to the server to the last
	// response packet read, in milliseconds.
	DurationMS float64 `json:"duration_ms"`
	// TTFBMS is the time to the first response packet (primary only).
	TTFBMS *float64 `json:"ttfb_ms,omitempty"`
	// ClientWaitMS is the time spent blocked writing to a slow client
	// (primary only): compare DurationMS - ClientWaitMS across targets.
	ClientWaitMS *float64 `json:"client_wait_ms,omitempty"`
	// ServerConnID is the server's connection id (from its greeting): with
	// QueryHash and time, the join key to that server's profiles.
	ServerConnID uint32 `json:"server_conn_id"`
	// QueueMS is how long the command waited in the shadow queue (shadow only).
	QueueMS *float64 `json:"queue_ms,omitempty"`
	// Success is false on an ERR packet or an I/O error.
	Success bool `json:"success"`
	// ErrorCode and SQLState are the ERR packet's; Error is its message or
	// the I/O error's text.
	ErrorCode uint16 `json:"error_code,omitempty"`
	SQLState  string `json:"sql_state,omitempty"`
	Error     string `json:"error,omitempty"`
	// Rows is the number of rows returned (result set) or affected (OK).
	Rows int64 `json:"rows"`
	// ResultHash is the order-insensitive checksum of the canonical result
	// rows: equal answers give equal hashes on both targets.
	ResultHash string `json:"result_hash,omitempty"`
	// ColumnsHash hashes the result's column names and types.
	ColumnsHash string `json:"columns_hash,omitempty"`
	// FloatCols is true when a result column is FLOAT or DOUBLE.
	FloatCols bool `json:"float_cols,omitempty"`

	// Shadow records only: the primary's outcome of the same command.
	PrimaryDurationMS   *float64 `json:"primary_duration_ms,omitempty"`
	PrimaryClientWaitMS *float64 `json:"primary_client_wait_ms,omitempty"`
	PrimarySuccess      *bool    `json:"primary_success,omitempty"`
	PrimaryErrorCode    *uint16  `json:"primary_error_code,omitempty"`
	PrimaryRows         *int64   `json:"primary_rows,omitempty"`
	PrimaryResultHash   string   `json:"primary_result_hash,omitempty"`
	PrimaryColumnsHash  string   `json:"primary_columns_hash,omitempty"`

	// BytesSent and BytesRecv count the bytes written to and read from the
	// server for this command.
	BytesSent int64 `json:"bytes_sent"`
	BytesRecv int64 `json:"bytes_recv"`

	// Shadow records only. Filtered: not mirrored, by a filter or by
	// sampling (FilterReason says which); Dropped: lost to a full queue;
	// Diverged: the shadow session's state is known to differ from the
	// primary's. Such records are counted, never compared.
	Filtered     bool   `json:"filtered,omitempty"`
	FilterReason string `json:"filter_reason,omitempty"`
	Dropped      bool   `json:"dropped,omitempty"`
	Diverged     bool   `json:"diverged,omitempty"`
}
