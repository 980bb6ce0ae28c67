package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AuditLogOptions configures OpenAuditLog.
type AuditLogOptions struct {
	// Location is the time zone of timestamps written without one (FE
	// releases before early 2024 print the FE's local time with no zone).
	// Default UTC.
	Location *time.Location
}

// OpenAuditLog returns a Source over StarRocks FE audit log files. Each path
// is a file (fe.audit.log, or a rotated fe.audit.log.20240306-1, plain or
// gzip-compressed, recognised by content) or a directory, in which every
// file whose name starts with "fe.audit.log" is read (other FE logs such as
// fe.log are not audit logs). The files of several FEs, and the rotated
// archives of one, are merged by statement start time.
//
// # Format
//
// Each record is "<time> [<tag>] |Key=Value|Key=Value...": the time is
// "2006-01-02 15:04:05,000" (no zone: Location applies),
// "2006-01-02 15:04:05.000-0700" or "2006-01-02 15:04:05.000-07:00" (or Z),
// and is when the record was written, i.e. when the statement finished. The
// payload is not escaped: the statement (Stmt) may contain "|", "=" and
// newlines, so a record spans every following line that does not start with
// a well-formed time and tag. The fields before Stmt are read from the left;
// the fields after it (Digest, PlanCpuCost, ...) from the right, so that the
// statement is everything between "|Stmt=" and them. A payload may also be a
// JSON object with the same keys (FE config audit_log_json_format).
//
// Tags: "query" records are statements; "slow_query" records repeat a
// "query" record and are skipped, as are "connection" records (logins). The
// start time is the Timestamp field (epoch milliseconds) when the release
// writes it, else the record time minus Time (milliseconds). The session is
// Client (the client's ip:port), the database Db (the session's database
// when the statement started), the outcome State (ERR: failed), ErrorCode
// (a StarRocks error name), Time and ReturnRows.
//
// Malformed input (lines before the first record of a file, a time that does
// not parse, a payload that is not "|..." or JSON, a query record without
// Stmt, a line over 16 MiB, a damaged gzip stream) is counted and reported
// with its file and line.
//
// Within one file records are in completion order, so start times may be
// out of order by up to a statement's duration; across files the merge is by
// start time.
func OpenAuditLog(paths []string, opts *AuditLogOptions) (Source, error) {
	loc := time.UTC
	if opts != nil && opts.Location != nil {
		loc = opts.Location
	}
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		for _, e := range ents {
			if !e.IsDir() && strings.HasPrefix(e.Name(), "fe.audit.log") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("replay: no audit log files in %v", paths)
	}
	sort.Strings(files)
	srcs := make([]Source, 0, len(files))
	for _, f := range files {
		srcs = append(srcs, &auditFile{logLines: logLines{path: f}, loc: loc})
	}
	return Merge(srcs...), nil
}

// NewAuditLogReader returns a Source over one audit log stream (see
// OpenAuditLog); name is used in positions. The caller closes r.
func NewAuditLogReader(r io.Reader, name string, opts *AuditLogOptions) Source {
	loc := time.UTC
	if opts != nil && opts.Location != nil {
		loc = opts.Location
	}
	a := &auditFile{logLines: logLines{path: name}, loc: loc}
	a.start(io.NopCloser(r))
	return a
}

// auditFile reads one audit log file, opened on the first Next.
type auditFile struct {
	logLines
	loc *time.Location

	// The record being assembled.
	rec     []byte
	recLine int64
	recTime time.Time
	recTag  string
	haveRec bool
	// inBad: the lines read belong to a record whose time is malformed.
	inBad bool
}

func (a *auditFile) Next(ctx context.Context) (Statement, error) {
	for {
		line, more, err := a.next(ctx)
		if err != nil {
			return Statement{}, err
		}
		if !more {
			if st, ok := a.finish(); ok {
				return st, nil
			}
			return Statement{}, io.EOF
		}
		ts, tag, payload, ok, badTime := parseAuditPrefix(line, a.loc)
		if badTime {
			// A record whose time does not parse: it and its
			// continuation lines are dropped, and reported.
			st, have := a.finish()
			a.inBad = true
			a.c.malformed(a.pos(), "record time does not parse")
			if have {
				return st, nil
			}
			continue
		}
		if !ok {
			if a.inBad {
				continue
			}
			if a.haveRec {
				a.rec = append(a.rec, '\n')
				a.rec = append(a.rec, line...)
			} else if len(bytes.TrimSpace(line)) > 0 {
				a.c.malformed(a.pos(), "no record prefix (time and tag)")
			}
			continue
		}
		st, have := a.finish()
		a.inBad = false
		a.haveRec, a.recLine, a.recTime, a.recTag = true, a.pos().Line, ts, tag
		a.rec = append(a.rec[:0], payload...)
		if have {
			return st, nil
		}
	}
}

// finish parses the record assembled so far, if any, and reports whether it
// is a statement.
func (a *auditFile) finish() (Statement, bool) {
	if !a.haveRec {
		return Statement{}, false
	}
	a.haveRec = false
	pos := Position{a.path, a.recLine}
	st, skip, reason := parseAuditRecord(a.recTime, a.recTag, a.rec, a.loc)
	switch {
	case reason != "":
		a.c.malformed(pos, "%s", reason)
		return Statement{}, false
	case skip:
		a.c.skipped()
		return Statement{}, false
	}
	st.Pos = pos
	a.c.yielded()
	return st, true
}

// parseAuditPrefix parses "<time> [<tag>] <payload>". badTime reports a
// line shaped like a prefix whose time does not parse.
func parseAuditPrefix(line []byte, loc *time.Location) (ts time.Time, tag string, payload []byte, ok, badTime bool) {
	// "2006-01-02 15:04:05,000" or ".000" is 23 bytes.
	if len(line) < 23+4 || line[4] != '-' || line[7] != '-' || line[10] != ' ' || line[13] != ':' || line[16] != ':' || (line[19] != ',' && line[19] != '.') {
		return time.Time{}, "", nil, false, false
	}
	sp := bytes.IndexByte(line[23:], ' ')
	if sp < 0 {
		return time.Time{}, "", nil, false, false
	}
	stamp, zone := line[:23], line[23:23+sp]
	rest := line[23+sp+1:]
	if len(rest) < 3 || rest[0] != '[' {
		return time.Time{}, "", nil, false, false
	}
	end := bytes.IndexByte(rest, ']')
	if end < 1 {
		return time.Time{}, "", nil, false, false
	}
	tag = string(rest[1:end])
	payload = rest[end+1:]
	if len(payload) > 0 && payload[0] == ' ' {
		payload = payload[1:]
	}
	s := string(stamp)
	s = s[:19] + "." + s[20:]
	var t time.Time
	var err error
	switch {
	case len(zone) == 0:
		t, err = time.ParseInLocation("2006-01-02 15:04:05.000", s, loc)
	case string(zone) == "Z":
		t, err = time.Parse("2006-01-02 15:04:05.000", s)
	case len(zone) == 5:
		t, err = time.Parse("2006-01-02 15:04:05.000-0700", s+string(zone))
	default:
		t, err = time.Parse("2006-01-02 15:04:05.000-07:00", s+string(zone))
	}
	if err != nil {
		return time.Time{}, "", nil, false, true
	}
	return t.UTC(), tag, payload, true, false
}

// auditPostStmt are the fields printed after Stmt, across releases.
var auditPostStmt = map[string]bool{
	"Digest": true, "PlanCpuCost": true, "PlanMemCost": true, "PendingTimeMs": true, "Slots": true,
	"SpilledBytes": true, "writeClientTimeMs": true, "Warehouse": true, "CandidateMVs": true, "HitMvs": true,
	"PredictMemBytes": true, "IsForwardToLeader": true, "QueryFEAllocatedMemory": true, "TransmittedBytes": true,
	"QuerySource": true, "Command": true, "PreparedStmtId": true, "QueriedRelations": true, "ErrorMessage": true,
}

// parseAuditRecord turns one record into a statement. skip is true for
// records that are not statements; reason is set when it is malformed.
func parseAuditRecord(ts time.Time, tag string, payload []byte, loc *time.Location) (st Statement, skip bool, reason string) {
	switch tag {
	case "query":
	case "slow_query", "connection":
		return st, true, ""
	default:
		return st, false, fmt.Sprintf("unknown record tag %q", tag)
	}
	var fields map[string]string
	var stmt string
	var haveStmt bool
	switch {
	case len(payload) > 0 && payload[0] == '|':
		fields, stmt, haveStmt = splitAuditPayload(string(payload))
	case len(payload) > 0 && payload[0] == '{':
		var m map[string]any
		if err := json.Unmarshal(payload, &m); err != nil {
			return st, false, "JSON payload: " + err.Error()
		}
		fields = make(map[string]string, len(m))
		for k, v := range m {
			switch v := v.(type) {
			case string:
				fields[k] = v
			case float64:
				fields[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				fields[k] = strconv.FormatBool(v)
			}
		}
		stmt, haveStmt = fields["Stmt"]
	default:
		return st, false, "payload does not start with | or {"
	}
	if !haveStmt {
		return st, false, "query record without Stmt"
	}
	st.Text = stmt
	st.Session = fields["Client"]
	st.User = fields["User"]
	st.Database = fields["Db"]
	st.Failed = fields["State"] == "ERR"
	st.ErrorCode = fields["ErrorCode"]
	st.Duration, st.Rows = -1, -1
	if v, err := strconv.ParseInt(fields["Time"], 10, 64); err == nil && v >= 0 {
		st.Duration = time.Duration(v) * time.Millisecond
	}
	if v, err := strconv.ParseInt(fields["ReturnRows"], 10, 64); err == nil && v >= 0 {
		st.Rows = v
	}
	st.Time = ts
	if v, err := strconv.ParseInt(fields["Timestamp"], 10, 64); err == nil && v > 0 {
		st.Time = time.UnixMilli(v).UTC()
	} else if st.Duration > 0 {
		st.Time = ts.Add(-st.Duration)
	}
	return st, false, ""
}

// splitAuditPayload splits "|K=V|K=V..." into its fields and the statement.
func splitAuditPayload(p string) (map[string]string, string, bool) {
	fields := make(map[string]string, 24)
	rest := p
	for len(rest) > 0 && rest[0] == '|' {
		kv := rest[1:]
		if strings.HasPrefix(kv, "Stmt=") {
			stmt, tail := splitStmtTail(kv[len("Stmt="):])
			for _, f := range tail {
				k, v, _ := strings.Cut(f, "=")
				fields[k] = v
			}
			return fields, stmt, true
		}
		end := strings.IndexByte(kv, '|')
		if end < 0 {
			end = len(kv)
		}
		k, v, _ := strings.Cut(kv[:end], "=")
		fields[k] = v
		rest = kv[end:]
	}
	return fields, "", false
}

// splitStmtTail splits "<stmt>|K=V|K=V" at the start of the run of fields
// printed after Stmt. The first of them is Digest (empty or 32 hex digits)
// in every release that has it: the last "|Digest=" whose tail is a run of
// well-formed fields ends the statement. Without one, known post-Stmt fields
// are taken from the right.
func splitStmtTail(s string) (string, []string) {
	if i := strings.LastIndex(s, "|Digest="); i >= 0 {
		tail := strings.Split(s[i+1:], "|")
		ok := validDigest(tail[0][len("Digest="):])
		for _, f := range tail[1:] {
			k, _, found := strings.Cut(f, "=")
			if !found || !isFieldName(k) || strings.ContainsAny(f, "\n\r") {
				ok = false
				break
			}
		}
		if ok {
			return s[:i], tail
		}
	}
	end := len(s)
	var tail []string
	for {
		i := strings.LastIndexByte(s[:end], '|')
		if i < 0 {
			break
		}
		f := s[i+1 : end]
		k, _, found := strings.Cut(f, "=")
		if !found || !auditPostStmt[k] || strings.ContainsAny(f, "\n\r") {
			break
		}
		tail = append(tail, f)
		end = i
	}
	return s[:end], tail
}

func validDigest(v string) bool {
	if v == "" {
		return true
	}
	if len(v) != 32 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
