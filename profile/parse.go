package profile

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
)

// ProfileStats are the figures ParseProfile extracts from a StarRocks profile.
// A figure the profile does not carry is -1.
type ProfileStats struct {
	QueryID string
	// State is the Summary "Query State" (Finished, Error, Running, EOF).
	State string
	// Total is the Summary "Total" wall time.
	Total time.Duration
	// CPUTime is QueryCumulativeCpuTime (old layouts: QueryCpuCost).
	CPUTime time.Duration
	// ScanTime is QueryCumulativeScanTime, or the sum of the scan operators'
	// ScanTime.
	ScanTime          time.Duration
	NetworkTime       time.Duration
	OperatorTime      time.Duration
	ExecutionWallTime time.Duration
	// PeakMemoryBytes is QueryPeakMemoryUsagePerNode (older:
	// QueryPeakMemoryUsage; else QuerySumMemoryUsage).
	PeakMemoryBytes int64
	SpillBytes      int64
	// ScanBytes is the sum of BytesRead over the scan operators (the merged
	// counter only, never its __MAX_OF_/__MIN_OF_ children).
	ScanBytes int64
	// ScanRows is the sum of RawRowsRead over the scan operators.
	ScanRows int64
	// Data cache and page cache figures, summed over the scan operators.
	DataCacheReadBytes        int64
	FSIOBytesRead             int64
	CompressedBytesReadLocal  int64
	CompressedBytesReadRemote int64
	ReadPages, CachedPages    int64
	// ConnectorBytesRead is BytesRead of the connector (external catalog)
	// scans only.
	ConnectorBytesRead int64
	// ScanOperators is the number of scan operator blocks.
	ScanOperators int
}

// CacheHitRatio is the share of scanned data served from a cache, in [0, 1],
// or -1 when the profile has no cache figures: the data cache of external
// catalogs (DataCacheReadBytes / BytesRead), the local disk of shared-data
// tables (local / (local + remote)), else the page cache of shared-nothing
// tables (CachedPagesNum / ReadPagesNum).
func (s *ProfileStats) CacheHitRatio() float64 {
	switch {
	case s.DataCacheReadBytes >= 0 && s.ConnectorBytesRead > 0:
		return clamp01(float64(s.DataCacheReadBytes) / float64(s.ConnectorBytesRead))
	case s.CompressedBytesReadLocal >= 0 && s.CompressedBytesReadRemote >= 0 &&
		s.CompressedBytesReadLocal+s.CompressedBytesReadRemote > 0:
		return float64(s.CompressedBytesReadLocal) / float64(s.CompressedBytesReadLocal+s.CompressedBytesReadRemote)
	case s.ReadPages > 0 && s.CachedPages >= 0:
		return clamp01(float64(s.CachedPages) / float64(s.ReadPages))
	}
	return -1
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// ErrNotProfile reports text that is not a StarRocks profile.
var ErrNotProfile = errors.New("profile: not a StarRocks profile (no Query: or Summary: section)")

// ParseProfile extracts CPU, I/O, memory and cache figures from the text of a
// StarRocks query profile (RuntimeProfile.prettyPrint, as /api/profile and
// get_query_profile() return it; 2.5 to 4.0 layouts, "Execution:" or
// "Execution Profile <id>:"). Unknown keys are ignored; a multi-line "Sql
// Statement" runs until the next Summary key; values are parsed by their
// suffix (646ns, 1s727ms, 2m3s, 18.742 MB, 7.887K (7887)). It never panics;
// it fails only on text without a Query or Summary section.
func ParseProfile(text string) (*ProfileStats, error) {
	s := &ProfileStats{Total: -1, CPUTime: -1, ScanTime: -1, NetworkTime: -1, OperatorTime: -1, ExecutionWallTime: -1,
		PeakMemoryBytes: -1, SpillBytes: -1, ScanBytes: -1, ScanRows: -1, DataCacheReadBytes: -1, FSIOBytesRead: -1,
		CompressedBytesReadLocal: -1, CompressedBytesReadRemote: -1, ReadPages: -1, CachedPages: -1, ConnectorBytesRead: -1}
	var (
		found      bool
		section    string // top-level section: Summary, Planner, Execution
		inSQL      bool
		sqlIndent  int
		scanIndent = -1 // indent of the current scan operator node, -1 outside
		scanTime   time.Duration
		sawScan    bool
		connector  bool
		peakOld    int64 = -1
		sumMem     int64 = -1
		cpuOld           = time.Duration(-1)
	)
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if inSQL {
			if indent == sqlIndent && strings.HasPrefix(trimmed, "- ") || indent == 2 && isSectionLine(trimmed) {
				inSQL = false
			} else {
				continue
			}
		}
		if trimmed == "" {
			continue
		}
		if !strings.HasPrefix(trimmed, "-") {
			// A node: "<Name>:" (or a bare name).
			name := strings.TrimSuffix(trimmed, ":")
			if indent <= 2 {
				switch {
				case name == "Query":
					found = true
				case name == "Summary":
					found = true
					section = "Summary"
				case name == "Planner":
					section = "Planner"
				case name == "Execution" || strings.HasPrefix(name, "Execution Profile"):
					section = "Execution"
				default:
					section = name
				}
			}
			if scanIndent >= 0 && indent <= scanIndent {
				scanIndent = -1
			}
			if section == "Execution" && isScanOperator(name) {
				scanIndent = indent
				s.ScanOperators++
				connector = strings.HasPrefix(name, "CONNECTOR_SCAN") ||
					strings.HasPrefix(name, "HDFS_SCAN") || strings.HasPrefix(name, "HIVE_SCAN") ||
					strings.HasPrefix(name, "ICEBERG_SCAN")
			}
			continue
		}
		// A counter or info string: "- Key: value", "- Key" or "- Key:".
		kv := strings.TrimSpace(strings.TrimPrefix(trimmed, "-"))
		key, val, _ := strings.Cut(kv, ":")
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(val)
		if strings.HasPrefix(key, "__MAX_OF_") || strings.HasPrefix(key, "__MIN_OF_") {
			continue
		}
		switch section {
		case "Summary":
			switch key {
			case "Query ID":
				s.QueryID = val
			case "Query State":
				s.State = val
			case "Total":
				s.Total = parseDuration(val)
			case "Sql Statement":
				inSQL, sqlIndent = true, indent
			case "QueryCpuCost":
				cpuOld = parseDuration(val)
			case "QueryPeakMemoryUsage":
				peakOld = parseBytes(val)
			}
			continue
		case "Planner":
			continue
		}
		switch key {
		case "QueryCumulativeCpuTime":
			setDur(&s.CPUTime, val)
		case "QueryCumulativeScanTime":
			setDur(&s.ScanTime, val)
		case "QueryCumulativeNetworkTime":
			setDur(&s.NetworkTime, val)
		case "QueryCumulativeOperatorTime":
			setDur(&s.OperatorTime, val)
		case "QueryExecutionWallTime":
			setDur(&s.ExecutionWallTime, val)
		case "QueryPeakMemoryUsagePerNode":
			setBytes(&s.PeakMemoryBytes, val)
		case "QueryPeakMemoryUsage":
			if peakOld < 0 {
				peakOld = parseBytes(val)
			}
		case "QuerySumMemoryUsage":
			if sumMem < 0 {
				sumMem = parseBytes(val)
			}
		case "QuerySpillBytes":
			setBytes(&s.SpillBytes, val)
		case "QueryCpuCost":
			if cpuOld < 0 {
				cpuOld = parseDuration(val)
			}
		}
		if scanIndent < 0 {
			continue
		}
		switch key {
		case "BytesRead":
			b := parseBytes(val)
			addTo(&s.ScanBytes, b)
			if connector {
				addTo(&s.ConnectorBytesRead, b)
			}
		case "RawRowsRead":
			addTo(&s.ScanRows, parseCount(val))
		case "ScanTime":
			if d := parseDuration(val); d >= 0 {
				scanTime += d
				sawScan = true
			}
		case "DataCacheReadBytes":
			addTo(&s.DataCacheReadBytes, parseBytes(val))
		case "FSIOBytesRead":
			addTo(&s.FSIOBytesRead, parseBytes(val))
		case "CompressedBytesReadLocalDisk":
			addTo(&s.CompressedBytesReadLocal, parseBytes(val))
		case "CompressedBytesReadRemote":
			addTo(&s.CompressedBytesReadRemote, parseBytes(val))
		case "ReadPagesNum":
			addTo(&s.ReadPages, parseCount(val))
		case "CachedPagesNum":
			addTo(&s.CachedPages, parseCount(val))
		}
	}
	if !found {
		return nil, ErrNotProfile
	}
	if s.CPUTime < 0 {
		s.CPUTime = cpuOld
	}
	if s.PeakMemoryBytes < 0 {
		s.PeakMemoryBytes = peakOld
	}
	if s.PeakMemoryBytes < 0 {
		s.PeakMemoryBytes = sumMem
	}
	if s.ScanTime < 0 && sawScan {
		s.ScanTime = scanTime
	}
	return s, nil
}

// isSectionLine reports whether a line (trimmed) opens a top-level section
// after Summary: the end of a multi-line Sql Statement that is the last key.
func isSectionLine(trimmed string) bool {
	return trimmed == "Planner:" || trimmed == "Execution:" ||
		strings.HasPrefix(trimmed, "Execution Profile ") && strings.HasSuffix(trimmed, ":")
}

// isScanOperator reports whether a node name is a scan operator:
// "OLAP_SCAN (plan_node_id=0)", "CONNECTOR_SCAN (...)", "HDFS_SCAN_NODE ...".
func isScanOperator(name string) bool {
	op, _, _ := strings.Cut(name, " ")
	return strings.Contains(op, "_SCAN") && !strings.HasSuffix(op, "_PREPARE")
}

func addTo(dst *int64, v int64) {
	if v < 0 {
		return
	}
	if *dst < 0 {
		*dst = 0
	}
	*dst += v
}

func setDur(dst *time.Duration, val string) {
	if *dst < 0 {
		*dst = parseDuration(val)
	}
}

func setBytes(dst *int64, val string) {
	if *dst < 0 {
		*dst = parseBytes(val)
	}
}

// parseDuration parses a profile time: "646ns", "827.861us", "251.340ms",
// "1s727ms", "2m3s", "1h30m", "0". It returns -1 if val is not a time.
func parseDuration(val string) time.Duration {
	val = strings.TrimSpace(val)
	if val == "" {
		return -1
	}
	if val == "0" {
		return 0
	}
	var total float64
	for len(val) > 0 {
		i := 0
		for i < len(val) && (val[i] >= '0' && val[i] <= '9' || val[i] == '.') {
			i++
		}
		if i == 0 {
			return -1
		}
		n, err := strconv.ParseFloat(val[:i], 64)
		if err != nil {
			return -1
		}
		val = val[i:]
		j := 0
		for j < len(val) && val[j] >= 'a' && val[j] <= 'z' {
			j++
		}
		var unit float64
		switch val[:j] {
		case "ns":
			unit = 1
		case "us":
			unit = 1e3
		case "ms":
			unit = 1e6
		case "s":
			unit = 1e9
		case "m":
			unit = 60e9
		case "h":
			unit = 3600e9
		default:
			return -1
		}
		val = val[j:]
		total += n * unit
	}
	if total > math.MaxInt64/2 {
		return -1
	}
	return time.Duration(total)
}

// parseBytes parses a profile byte size: "0.000 B", "18.742 MB", "1.020 GB",
// "88.00 B". Units are powers of 1024. It returns -1 if val is not a size
// (negative sizes, such as an unset QueryMemoryLimit of -1.000 B, too).
func parseBytes(val string) int64 {
	num, unit, ok := strings.Cut(strings.TrimSpace(val), " ")
	if !ok {
		return -1
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return -1
	}
	var mult float64
	switch unit {
	case "B":
		mult = 1
	case "KB":
		mult = 1 << 10
	case "MB":
		mult = 1 << 20
	case "GB":
		mult = 1 << 30
	case "TB":
		mult = 1 << 40
	case "PB":
		mult = 1 << 50
	default:
		return -1
	}
	v := n * mult
	if v > math.MaxInt64/2 {
		return -1
	}
	return int64(math.Round(v))
}

// parseCount parses a profile count: "903", or "7.887K (7887)" whose exact
// value is in parentheses. It returns -1 if val is not a count.
func parseCount(val string) int64 {
	val = strings.TrimSpace(val)
	if i := strings.IndexByte(val, '('); i >= 0 {
		if j := strings.IndexByte(val[i:], ')'); j > 0 {
			val = val[i+1 : i+j]
		}
	}
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// applyProfile fills the record's profile_* fields from text.
func applyProfile(r *dataset.Profile, text string) {
	s, err := ParseProfile(text)
	if err != nil {
		return
	}
	durPtr := func(d time.Duration) *int64 {
		if d < 0 {
			return nil
		}
		return ptr(int64(d))
	}
	r.ProfileCPUNs = durPtr(s.CPUTime)
	r.ProfileScanTimeNs = durPtr(s.ScanTime)
	r.ProfileNetworkTimeNs = durPtr(s.NetworkTime)
	r.ProfileOperatorTimeNs = durPtr(s.OperatorTime)
	r.ProfileWallTimeNs = durPtr(s.Total)
	r.ProfileScanBytes = nonNeg(s.ScanBytes)
	r.ProfileScanRows = nonNeg(s.ScanRows)
	r.ProfilePeakMemBytes = nonNeg(s.PeakMemoryBytes)
	r.ProfileSpillBytes = nonNeg(s.SpillBytes)
	if h := s.CacheHitRatio(); h >= 0 {
		r.ProfileCacheHitRatio = ptr(h)
	}
}
