package dataset

import "github.com/sqlshadow/sqlshadow/sink"

// Kinds of Profile record (Profile.Kind).
const (
	// ProfileStatement is one finished statement with its statistics and, when
	// the engine kept one, its profile text.
	ProfileStatement = "statement"
	// ProfileGap marks a window of time whose statements may be missing: the
	// collector suspects that an engine dropped them before they were read.
	ProfileGap = "gap"
	// ProfileDigest is the change of one statement digest's aggregate counters
	// between two polls of performance_schema.events_statements_summary_by_digest.
	ProfileDigest = "digest"
)

// Sources of a Profile.
const (
	SourceStarRocksFE       = "starrocks-fe"
	SourcePerformanceSchema = "performance_schema"
)

// States of a statement Profile. StarRocks reports them in upper case; the
// performance_schema source maps success to StateFinished and an error to
// StateFailed.
const (
	StateFinished  = "FINISHED"
	StateFailed    = "FAILED"
	StateCancelled = "CANCELLED"
	StateRunning   = "RUNNING"
)

// Profile is one record of the Profiles dataset: a finished statement with
// the engine's statistics and profile, a gap, or a digest delta (Kind).
// Statistics the engine did not report (StarRocks writes -1) are omitted,
// never zero.
//
// For a statement, TS is the statement's start time, so that it lands in the
// same partition as the query-log records of the same command. For a gap it is
// the time the gap was detected; for a digest delta, the time of the poll.
type Profile struct {
	TS      sink.Time `json:"ts"`
	Kind    string    `json:"kind"`
	Source  string    `json:"source"`
	Cluster string    `json:"cluster"`
	// FEHost is the engine endpoint the record came from: the FE's host:port,
	// or the MySQL server's address.
	FEHost string `json:"fe_host"`

	// SRQueryID is StarRocks' query id; for performance_schema statements it
	// is "<thread_id>:<event_id>".
	SRQueryID    string     `json:"sr_query_id,omitempty"`
	State        string     `json:"state,omitempty"`
	IsQuery      *bool      `json:"is_query,omitempty"`
	Database     string     `json:"database"`
	User         string     `json:"user"`
	ClientAddr   string     `json:"client_addr,omitempty"`
	ServerConnID *int64     `json:"server_conn_id,omitempty"`
	StartTime    *sink.Time `json:"start_time,omitempty"`
	EndTime      *sink.Time `json:"end_time,omitempty"`
	DurationMS   *float64   `json:"duration_ms,omitempty"`
	PendingMS    *float64   `json:"pending_ms,omitempty"`
	SQLText      string     `json:"sql_text,omitempty"`
	QueryHash    string     `json:"query_hash,omitempty"`
	TemplateHash string     `json:"template_hash,omitempty"`
	ErrorMessage string     `json:"error_message,omitempty"`

	ResourceGroup string `json:"resource_group,omitempty"`
	Warehouse     string `json:"warehouse,omitempty"`
	Catalog       string `json:"catalog,omitempty"`
	// EventTime is the FE queue stamp of the record (pseudo nanoseconds,
	// kept as an integer: it is above 2^53).
	EventTime int64 `json:"event_time,omitempty"`

	// Statistics reported by the engine with the statement.
	CPUCostNs      *int64   `json:"cpu_cost_ns,omitempty"`
	ScanRows       *int64   `json:"scan_rows,omitempty"`
	ScanBytes      *int64   `json:"scan_bytes,omitempty"`
	ReturnRows     *int64   `json:"return_rows,omitempty"`
	MemCostBytes   *int64   `json:"mem_cost_bytes,omitempty"`
	SpillBytes     *int64   `json:"spill_bytes,omitempty"`
	CacheMissRatio *float64 `json:"cache_miss_ratio,omitempty"`
	// performance_schema only.
	RowsExamined *int64 `json:"rows_examined,omitempty"`
	RowsAffected *int64 `json:"rows_affected,omitempty"`
	LockTimeNs   *int64 `json:"lock_time_ns,omitempty"`

	// ProfileText is the engine's profile of the statement, when it kept one.
	ProfileText string `json:"profile_text,omitempty"`
	// ProfileError says why a profile was wanted but not fetched (for
	// example "not found after 15s").
	ProfileError string `json:"profile_error,omitempty"`
	// Figures parsed from ProfileText (see ParseProfile).
	ProfileCPUNs          *int64   `json:"profile_cpu_ns,omitempty"`
	ProfileScanTimeNs     *int64   `json:"profile_scan_time_ns,omitempty"`
	ProfileScanBytes      *int64   `json:"profile_scan_bytes,omitempty"`
	ProfileScanRows       *int64   `json:"profile_scan_rows,omitempty"`
	ProfilePeakMemBytes   *int64   `json:"profile_peak_mem_bytes,omitempty"`
	ProfileSpillBytes     *int64   `json:"profile_spill_bytes,omitempty"`
	ProfileCacheHitRatio  *float64 `json:"profile_cache_hit_ratio,omitempty"`
	ProfileNetworkTimeNs  *int64   `json:"profile_network_time_ns,omitempty"`
	ProfileWallTimeNs     *int64   `json:"profile_wall_time_ns,omitempty"`
	ProfileOperatorTimeNs *int64   `json:"profile_operator_time_ns,omitempty"`

	// Gap records: the window whose statements may be missing, and why.
	GapFrom   *sink.Time `json:"gap_from,omitempty"`
	GapTo     *sink.Time `json:"gap_to,omitempty"`
	GapReason string     `json:"gap_reason,omitempty"`

	// Digest records (performance_schema): the digest and the deltas of its
	// counters since the previous poll. SQLText holds DIGEST_TEXT.
	Digest          string `json:"digest,omitempty"`
	ExecCount       *int64 `json:"exec_count,omitempty"`
	SumTimerWaitNs  *int64 `json:"sum_timer_wait_ns,omitempty"`
	MaxTimerWaitNs  *int64 `json:"max_timer_wait_ns,omitempty"`
	SumErrors       *int64 `json:"sum_errors,omitempty"`
	SumWarnings     *int64 `json:"sum_warnings,omitempty"`
	SumNoIndexUsed  *int64 `json:"sum_no_index_used,omitempty"`
	SumTmpDiskTable *int64 `json:"sum_created_tmp_disk_tables,omitempty"`
	SumSortRows     *int64 `json:"sum_sort_rows,omitempty"`
	// WindowStart is the time of the previous poll the deltas start from.
	WindowStart *sink.Time `json:"window_start,omitempty"`
}
