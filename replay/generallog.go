package replay

import (
	"bytes"
	"context"
	"io"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/hashing"
)

// OpenGeneralLog returns a Source over MariaDB or MySQL general query log
// files, plain or gzip, merged by time.
//
// # Format
//
// Each entry is "<time>\t<id> <Command>\t<argument>": MariaDB writes the time
// as "YYMMDD HH:MM:SS" only when the second changed (the line then starts
// with a TAB), MySQL writes an RFC 3339 time on every entry; <id> is the
// connection id, right-aligned. The argument is verbatim and may span lines:
// an entry ends where a line starts like an entry. Query and Execute (a
// prepared statement with its values inlined) entries are statements;
// Connect ("user@host on db using TCP/IP") and Init DB set the session's user
// and database; Quit ends the session; other commands (Prepare, Close stmt,
// Ping, ...) are skipped. The general log records what the server received,
// with no outcome: Duration and Rows are -1. The header lines written at
// file open and after FLUSH LOGS are skipped. A text line that looks exactly
// like an entry start ends the entry before it: the format cannot tell.
func OpenGeneralLog(paths []string, opts *LogOptions) (Source, error) {
	return openLogFiles(paths, func(path string) Source {
		return &generalLog{logLines: logLines{path: path}, loc: opts.location(), sessions: map[string]*generalSession{}}
	})
}

// NewGeneralLogReader returns a Source over one general log stream; name is
// used in positions. The caller closes r.
func NewGeneralLogReader(r io.Reader, name string, opts *LogOptions) Source {
	g := &generalLog{logLines: logLines{path: name}, loc: opts.location(), sessions: map[string]*generalSession{}}
	g.start(io.NopCloser(r))
	return g
}

type generalLog struct {
	logLines
	loc *time.Location

	lastTime time.Time
	// sessions holds the user and database of open connections: an entry
	// is removed at Quit, so the map holds the sessions open at once.
	sessions map[string]*generalSession

	cur struct {
		active bool
		line   int64
		ts     time.Time
		id     string
		cmd    string
		arg    []byte
	}
}

type generalSession struct{ user, db string }

// maxGeneralSessions bounds the sessions a general log source remembers.
const maxGeneralSessions = 1 << 16

func (g *generalLog) Next(ctx context.Context) (Statement, error) {
	for {
		line, more, err := g.next(ctx)
		if err != nil {
			return Statement{}, err
		}
		if !more {
			if st, ok := g.finish(); ok {
				return st, nil
			}
			return Statement{}, io.EOF
		}
		if isLogHeader(line) {
			if st, ok := g.finish(); ok {
				return st, nil
			}
			continue
		}
		ts, id, cmd, arg, ok := parseGeneralEntry(line, g.loc)
		if !ok {
			if g.cur.active {
				g.cur.arg = append(g.cur.arg, '\n')
				g.cur.arg = append(g.cur.arg, line...)
			} else if len(bytes.TrimSpace(line)) > 0 {
				g.c.malformed(g.pos(), "line outside an entry")
			}
			continue
		}
		st, have := g.finish()
		if !ts.IsZero() {
			g.lastTime = ts
		}
		g.cur.active, g.cur.line, g.cur.ts, g.cur.id, g.cur.cmd = true, g.pos().Line, g.lastTime, id, cmd
		g.cur.arg = append(g.cur.arg[:0], arg...)
		if have {
			return st, nil
		}
	}
}

func (g *generalLog) finish() (Statement, bool) {
	c := &g.cur
	if !c.active {
		return Statement{}, false
	}
	c.active = false
	pos := Position{g.path, c.line}
	sess := g.sessions[c.id]
	if sess == nil {
		if len(g.sessions) >= maxGeneralSessions {
			for k := range g.sessions { // a log cut short of its Quit entries
				delete(g.sessions, k)
				break
			}
		}
		sess = &generalSession{}
		g.sessions[c.id] = sess
	}
	arg := string(c.arg)
	switch c.cmd {
	case "Connect":
		// "user@host on db using TCP/IP"
		if at := strings.IndexByte(arg, '@'); at >= 0 {
			sess.user = arg[:at]
		}
		if i := strings.Index(arg, " on "); i >= 0 {
			rest := arg[i+4:]
			if j := strings.Index(rest, " using "); j >= 0 {
				rest = rest[:j]
			}
			sess.db = strings.TrimSpace(rest)
		}
		g.c.skipped()
		return Statement{}, false
	case "Init DB":
		sess.db = strings.TrimSpace(arg)
		g.c.skipped()
		return Statement{}, false
	case "Quit":
		delete(g.sessions, c.id)
		g.c.skipped()
		return Statement{}, false
	case "Query", "Execute":
	default:
		g.c.skipped()
		return Statement{}, false
	}
	if strings.TrimSpace(arg) == "" {
		g.c.malformed(pos, "%s without a statement", c.cmd)
		return Statement{}, false
	}
	if c.ts.IsZero() {
		g.c.malformed(pos, "entry before any time")
		return Statement{}, false
	}
	st := Statement{Time: c.ts, Session: c.id, User: sess.user, Database: sess.db, Text: arg, Duration: -1, Rows: -1, Pos: pos}
	if hashing.Classify(arg).Class == hashing.ClassUse {
		if db := useTarget(arg); db != "" {
			sess.db = db
		}
	}
	g.c.yielded()
	return st, true
}

// generalCommands are the command names of general log entries.
var generalCommands = []string{
	"Query", "Execute", "Connect", "Init DB", "Quit", "Prepare", "Close stmt", "Reset stmt", "Change user",
	"Field List", "Ping", "Statistics", "Processlist", "Kill", "Debug", "Refresh", "Shutdown", "Fetch",
	"Long Data", "Set option", "Binlog Dump", "Table Dump", "Register Slave", "Daemon", "Sleep", "Connect Out",
	"Delayed insert", "Error", "Bulk_execute", "Slave_worker", "Slave_IO", "Slave_SQL", "Com_multi", "Reset Connection",
}

// parseGeneralEntry parses an entry line: "[time]\t<spaces><id> <Command>[\t<arg>]".
func parseGeneralEntry(line []byte, loc *time.Location) (ts time.Time, id, cmd string, arg []byte, ok bool) {
	tab := bytes.IndexByte(line, '\t')
	if tab < 0 {
		return
	}
	stamp := string(line[:tab])
	rest := line[tab+1:]
	if stamp != "" {
		var err error
		if ts, err = time.Parse(time.RFC3339Nano, stamp); err != nil {
			if ts, err = parseSlowTime(stamp, loc); err != nil {
				return time.Time{}, "", "", nil, false
			}
		}
		ts = ts.UTC()
	}
	// MariaDB pads an empty time with a second TAB.
	if stamp == "" && len(rest) > 0 && rest[0] == '\t' {
		rest = rest[1:]
	}
	rest = bytes.TrimLeft(rest, " ")
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(rest) || rest[i] != ' ' {
		return time.Time{}, "", "", nil, false
	}
	id = string(rest[:i])
	rest = rest[i+1:]
	for _, c := range generalCommands {
		if bytes.HasPrefix(rest, []byte(c)) {
			after := rest[len(c):]
			switch {
			case len(after) == 0:
				return ts, id, c, nil, true
			case after[0] == '\t':
				return ts, id, c, after[1:], true
			}
		}
	}
	return time.Time{}, "", "", nil, false
}

// useTarget returns the database of "USE db" ("" when it cannot tell).
func useTarget(stmt string) string {
	f := strings.Fields(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(stmt), ";")))
	if len(f) != 2 || !strings.EqualFold(f[0], "use") {
		return ""
	}
	return unquoteIdent(f[1])
}
