package mirror

import "github.com/sqlshadow/sqlshadow/sink"

// Dataset is the name of the dataset query logs are written to.
const Dataset = "query-logs"

// Targets of a Record.
const (
	TargetPrimary = "primary"
	TargetShadow  = "shadow"
)

// Record is one query-log line: one command on one target. Field names are a
// public contract (see DESIGN.md, "Data contracts"); other engines read them.
type Record struct {
	TS           sink.Time `json:"ts"`
	QueryID      string    `json:"query_id"`
	Target       string    `json:"target"`
	Command      string    `json:"command"`
	QueryText    string    `json:"query_text,omitempty"`
	QueryHash    string    `json:"query_hash,omitempty"`
	TemplateHash string    `json:"template_hash,omitempty"`
	Route        string    `json:"route,omitempty"`
	Database     string    `json:"database"`
	User         string    `json:"user"`
	ClientAddr   string    `json:"client_addr"`
	ConnID       uint64    `json:"conn_id"`
	Seq          uint64    `json:"seq"`
	DurationMS   float64   `json:"duration_ms"`
	// Primary only.
	TTFBMS       *float64 `json:"ttfb_ms,omitempty"`
	ClientWaitMS *float64 `json:"client_wait_ms,omitempty"`

	ServerConnID uint32 `json:"server_conn_id"`
	// Shadow only.
	QueueMS *float64 `json:"queue_ms,omitempty"`

	Success     bool   `json:"success"`
	ErrorCode   uint16 `json:"error_code,omitempty"`
	SQLState    string `json:"sql_state,omitempty"`
	Error       string `json:"error,omitempty"`
	Rows        int64  `json:"rows"`
	ResultHash  string `json:"result_hash,omitempty"`
	ColumnsHash string `json:"columns_hash,omitempty"`
	FloatCols   bool   `json:"float_cols,omitempty"`

	// Shadow records only: the primary's outcome of the same command.
	PrimaryDurationMS *float64 `json:"primary_duration_ms,omitempty"`
	PrimarySuccess    *bool    `json:"primary_success,omitempty"`
	PrimaryErrorCode  *uint16  `json:"primary_error_code,omitempty"`
	PrimaryRows       *int64   `json:"primary_rows,omitempty"`
	PrimaryResultHash string   `json:"primary_result_hash,omitempty"`

	BytesSent int64 `json:"bytes_sent"`
	BytesRecv int64 `json:"bytes_recv"`

	// Shadow only.
	Filtered     bool   `json:"filtered,omitempty"`
	FilterReason string `json:"filter_reason,omitempty"`
	Dropped      bool   `json:"dropped,omitempty"`
	Diverged     bool   `json:"diverged,omitempty"`
}
