package replay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// LogOptions configures the MariaDB and MySQL log sources.
type LogOptions struct {
	// Location is the time zone of timestamps written without one (the
	// MariaDB logs' "YYMMDD HH:MM:SS"). Default UTC.
	Location *time.Location
}

func (o *LogOptions) location() *time.Location {
	if o != nil && o.Location != nil {
		return o.Location
	}
	return time.UTC
}

// OpenSlowLog returns a Source over MariaDB or MySQL slow query log files
// (captured with long_query_time=0 to hold every statement), plain or gzip,
// merged by start time.
//
// # Format
//
// An entry is a block of "# " metadata lines, then "use <db>;" when the
// database changed since the previous entry written, then "SET
// timestamp=<unix seconds>;" (the statement's start), then the statement
// verbatim (comments and newlines kept) ending with ";". The metadata:
//
//	# Time: 261206 21:57:11                      (MariaDB, only when the second changed)
//	# Time: 2024-03-06T19:50:46.049123Z          (MySQL, every entry)
//	# User@Host: root[root] @ localhost [127.0.0.1]   (MySQL adds "Id: <thread>")
//	# Thread_id: 5  Schema: shop  QC_hit: No     (MariaDB)
//	# Query_time: 0.000339  Lock_time: 0.000112  Rows_sent: 1  Rows_examined: 2
//	# Rows_affected: 0  Bytes_sent: 112          (MariaDB)
//
// and further "# " lines (log_slow_verbosity, MySQL's log_slow_extra with
// Errno and Start) are read as "Key: value" pairs. An entry ends at the next
// "# Time:" or "# User@Host:" line. The session is the thread id, the
// database Schema (or the last "use"), Duration Query_time, Rows Rows_sent
// plus Rows_affected; an error is known only from MySQL's Errno. The file
// header ("... started with:", "Tcp port: ...", "Time Id Command Argument"),
// written again after FLUSH LOGS, is skipped; "# administrator command:"
// entries are skipped.
//
// Entries are in completion order: start times may be out of order by up to
// a statement's duration.
func OpenSlowLog(paths []string, opts *LogOptions) (Source, error) {
	return openLogFiles(paths, func(path string) Source {
		return &slowLog{logLines: logLines{path: path}, loc: opts.location()}
	})
}

// NewSlowLogReader returns a Source over one slow log stream; name is used in
// positions. The caller closes r.
func NewSlowLogReader(r io.Reader, name string, opts *LogOptions) Source {
	s := &slowLog{logLines: logLines{path: name}, loc: opts.location()}
	s.start(io.NopCloser(r))
	return s
}

// openLogFiles opens one source per file and merges them.
func openLogFiles(paths []string, open func(string) Source) (Source, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("replay: no log files")
	}
	srcs := make([]Source, 0, len(paths))
	for _, p := range paths {
		srcs = append(srcs, open(p))
	}
	return Merge(srcs...), nil
}

type slowLog struct {
	logLines
	loc *time.Location

	lastTime time.Time // from the last "# Time:" line
	lastDB   string    // from the last "use" line
	e        slowEntry
}

type slowEntry struct {
	active   bool
	line     int64
	meta     map[string]string
	user     string
	thread   string
	ts       time.Time
	body     bool // the statement has started
	sawSetTS bool
	db       string
	text     []byte
	admin    bool
}

func (s *slowLog) Next(ctx context.Context) (Statement, error) {
	for {
		line, more, err := s.next(ctx)
		if err != nil {
			return Statement{}, err
		}
		if !more {
			if st, ok := s.finish(); ok {
				return st, nil
			}
			return Statement{}, io.EOF
		}
		if st, ok := s.line(line); ok {
			return st, nil
		}
	}
}

// line handles one physical line and returns a statement when the line
// ended the previous entry.
func (s *slowLog) line(line []byte) (Statement, bool) {
	e := &s.e
	switch {
	case isLogHeader(line):
		st, ok := s.finish()
		return st, ok
	case bytes.HasPrefix(line, []byte("# Time: ")):
		st, ok := s.finish()
		if t, err := parseSlowTime(strings.TrimSpace(string(line[len("# Time: "):])), s.loc); err == nil {
			s.lastTime = t
		} else {
			s.c.malformed(s.pos(), "bad # Time: %v", err)
		}
		return st, ok
	case bytes.HasPrefix(line, []byte("# User@Host: ")):
		st, ok := s.finish()
		*e = slowEntry{active: true, line: s.pos().Line, meta: map[string]string{}, ts: s.lastTime, db: s.lastDB}
		uh := string(line[len("# User@Host: "):])
		if i := strings.Index(uh, "["); i >= 0 {
			if j := strings.Index(uh[i:], "]"); j >= 0 {
				e.user = uh[i+1 : i+j]
			}
		}
		if i := strings.Index(uh, "Id:"); i >= 0 {
			e.thread = strings.TrimSpace(uh[i+3:])
		}
		return st, ok
	}
	if !e.active {
		if len(bytes.TrimSpace(line)) > 0 {
			s.c.malformed(s.pos(), "line outside an entry")
		}
		return Statement{}, false
	}
	if !e.body {
		switch {
		case bytes.HasPrefix(line, []byte("# administrator command:")):
			e.admin = true
			return Statement{}, false
		case bytes.HasPrefix(line, []byte("# ")):
			parseSlowMeta(string(line[2:]), e.meta)
			return Statement{}, false
		case !e.sawSetTS && isUseLine(line):
			e.db = unquoteIdent(strings.TrimSpace(string(line[4 : len(line)-1])))
			s.lastDB = e.db
			return Statement{}, false
		case !e.sawSetTS && isSetTimestamp(line):
			e.sawSetTS = true
			if i := bytes.LastIndex(line, []byte("timestamp=")); i >= 0 {
				v := strings.TrimSuffix(string(line[i+len("timestamp="):]), ";")
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					e.ts = time.Unix(0, int64(f*1e9)).UTC()
				}
			}
			return Statement{}, false
		}
		e.body = true
	}
	if len(e.text) > 0 {
		e.text = append(e.text, '\n')
	}
	e.text = append(e.text, line...)
	return Statement{}, false
}

func (s *slowLog) finish() (Statement, bool) {
	e := &s.e
	if !e.active {
		return Statement{}, false
	}
	e.active = false
	pos := Position{s.path, e.line}
	if e.admin {
		s.c.skipped()
		return Statement{}, false
	}
	text := strings.TrimRight(string(e.text), " \t\r\n")
	text = strings.TrimSuffix(text, ";")
	if strings.TrimSpace(text) == "" {
		s.c.malformed(pos, "entry without a statement")
		return Statement{}, false
	}
	st := Statement{Time: e.ts, User: e.user, Database: e.db, Text: text, Duration: -1, Rows: -1, Pos: pos}
	st.Session = e.thread
	if v, ok := e.meta["Thread_id"]; ok {
		st.Session = v
	}
	if v, ok := e.meta["Schema"]; ok {
		st.Database = v
	}
	if v, ok := e.meta["Query_time"]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			s.c.malformed(pos, "bad Query_time %q", v)
			return Statement{}, false
		}
		st.Duration = time.Duration(f * float64(time.Second))
	}
	if v, ok := e.meta["Rows_sent"]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			st.Rows = n
			if a, err := strconv.ParseInt(e.meta["Rows_affected"], 10, 64); err == nil {
				st.Rows += a
			}
		}
	}
	if v := e.meta["Errno"]; v != "" && v != "0" {
		st.Failed, st.ErrorCode = true, v
	}
	if v := e.meta["Start"]; v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			st.Time = t.UTC()
		}
	}
	if st.Time.IsZero() {
		s.c.malformed(pos, "entry without a time")
		return Statement{}, false
	}
	s.c.yielded()
	return st, true
}

// parseSlowMeta reads "Key: value  Key: value" pairs into m.
func parseSlowMeta(line string, m map[string]string) {
	f := strings.Fields(line)
	for i := 0; i < len(f); i++ {
		k, ok := strings.CutSuffix(f[i], ":")
		if !ok || k == "" {
			continue
		}
		if i+1 < len(f) && !strings.HasSuffix(f[i+1], ":") {
			m[k] = f[i+1]
			i++
		} else {
			m[k] = ""
		}
	}
}

// parseSlowTime parses MariaDB's "YYMMDD H:MM:SS" (hour padded with a space)
// and MySQL's RFC 3339 form.
func parseSlowTime(v string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	f := strings.Fields(v)
	if len(f) != 2 {
		return time.Time{}, fmt.Errorf("%q", v)
	}
	if len(f[1]) == 7 {
		f[1] = "0" + f[1]
	}
	t, err := time.ParseInLocation("060102 15:04:05", f[0]+" "+f[1], loc)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// isLogHeader reports whether line is one of the three header lines MariaDB
// and MySQL write when they open a slow or general log file.
func isLogHeader(line []byte) bool {
	switch {
	case bytes.Contains(line, []byte(", Version: ")) && bytes.HasSuffix(line, []byte("started with:")):
		return true
	case bytes.HasPrefix(line, []byte("Tcp port: ")):
		return true
	case bytes.HasPrefix(line, []byte("Time")) && len(line) > 4 && (line[4] == ' ' || line[4] == '\t') &&
		bytes.Contains(line, []byte("Id Command")) && bytes.HasSuffix(bytes.TrimSpace(line), []byte("Argument")):
		return true
	}
	return false
}

func isUseLine(line []byte) bool {
	return len(line) > 5 && bytes.HasPrefix(line, []byte("use ")) && line[len(line)-1] == ';' && !bytes.ContainsAny(line[4:len(line)-1], " \t")
}

// isSetTimestamp matches "SET [last_insert_id=N,][insert_id=N,]timestamp=N;".
func isSetTimestamp(line []byte) bool {
	s := string(line)
	rest, ok := strings.CutPrefix(s, "SET ")
	if !ok || !strings.HasSuffix(rest, ";") {
		return false
	}
	for _, a := range strings.Split(rest[:len(rest)-1], ",") {
		k, v, ok := strings.Cut(a, "=")
		if !ok || (k != "timestamp" && k != "insert_id" && k != "last_insert_id") {
			return false
		}
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return false
		}
	}
	return strings.Contains(rest, "timestamp=")
}

// unquoteIdent removes backquotes around an identifier.
func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}
