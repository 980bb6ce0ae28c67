package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// drain reads every statement of src.
func drain(t testing.TB, src Source) []Statement {
	t.Helper()
	var out []Statement
	for {
		st, err := src.Next(context.Background())
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, st)
	}
}

// auditFixture is written from the documented format: a 2023-style line
// (zone-less time, no Timestamp), a newer line with Timestamp and a zone, a
// multi-line statement whose text holds "|", "=" and "|Digest=", a duplicate
// slow_query record, a connection record, a JSON payload, and malformed
// lines.
const auditFixture = `garbage before the first record
2023-11-10 11:30:28,510 [query] |Client=172.31.242.34:7765|User=root|AuthorizedUser='root'@'%'|ResourceGroup=default_wg|Catalog=default_catalog|Db=shop|State=EOF|ErrorCode=|Time=23|ScanBytes=2847|ScanRows=243|ReturnRows=176|CpuCostNs=2263034|MemCostBytes=523520|StmtId=127|QueryId=72e6b625-7f8e-11ee-8d3f-1a300d3a1063|IsQuery=true|feIp=fe-2|Stmt=SELECT a FROM t WHERE b = 'x|y=z'|Digest=|PlanCpuCost=4999.5088235294115|PlanMemCost=978.5029411764706
2025-06-10 14:16:37.512+08:00 [query] |Timestamp=1749536197509|Client=10.1.2.3:65283|User=app|AuthorizedUser='app'@'%'|ResourceGroup=default_wg|Catalog=default_catalog|Db=|State=ERR|ErrorCode=ANALYSIS_ERR|Time=3|ScanBytes=0|ScanRows=0|ReturnRows=0|StmtId=102|QueryId=01975a33-4129-7520-97a2-05e641cec6c9|IsQuery=true|feIp=10.1.2.4|Stmt=SELECT id,
  name -- the |Digest= of a comment
FROM t WHERE note = 'a
b|Time=9'|Digest=0123456789abcdef0123456789abcdef|PlanCpuCost=908.0|PlanMemCost=0.0|Warehouse=default_warehouse|IsForwardToLeader=false|QueryFEAllocatedMemory=0
2025-06-10 14:16:37.513+08:00 [slow_query] |Timestamp=1749536197509|Client=10.1.2.3:65283|User=app|Db=|State=EOF|Time=3|Stmt=SELECT 1|Digest=
2025-06-10 14:16:38.000Z [connection] |Client=10.1.2.3:65284|User=app|Db=|State=OK|ErrorCode=|QueryId=|Stmt=|Digest=
2025-06-10 14:16:39.000-0700 [query] {"Timestamp":1749536199000,"Client":"10.1.2.5:1","User":"u","Db":"d","State":"EOF","Time":5,"ReturnRows":2,"Stmt":"SELECT 'a|b'"}
2025-06-10 99:99:99.000Z [query] |Client=x|Stmt=SELECT 2
2025-06-10 14:16:40.000Z [query] no pipe here
2025-06-10 14:16:41.000Z [query] |Client=x|User=u|Db=d|State=EOF
2025-06-10 14:16:42.000Z [query] |Client=10.1.2.6:7|User=u|Db=d|State=OK|Time=1|Stmt=SET a=1|PlanCpuCost=0.0|Warehouse=w
`

func TestAuditLogFixture(t *testing.T) {
	src := NewAuditLogReader(strings.NewReader(auditFixture), "fe.audit.log", nil)
	sts := drain(t, src)
	require.Len(t, sts, 4)

	require.Equal(t, "SELECT a FROM t WHERE b = 'x|y=z'", sts[0].Text)
	require.Equal(t, "172.31.242.34:7765", sts[0].Session)
	require.Equal(t, "shop", sts[0].Database)
	require.Equal(t, "root", sts[0].User)
	require.Equal(t, 23*time.Millisecond, sts[0].Duration)
	require.EqualValues(t, 176, sts[0].Rows)
	require.False(t, sts[0].Failed)
	// No Timestamp: the prefix (end, UTC here) minus Time.
	require.Equal(t, time.Date(2023, 11, 10, 11, 30, 28, 487e6, time.UTC), sts[0].Time)
	require.Equal(t, Position{"fe.audit.log", 2}, sts[0].Pos)

	require.Equal(t, "SELECT id,\n  name -- the |Digest= of a comment\nFROM t WHERE note = 'a\nb|Time=9'", sts[1].Text)
	require.True(t, sts[1].Failed)
	require.Equal(t, "ANALYSIS_ERR", sts[1].ErrorCode)
	require.Equal(t, time.UnixMilli(1749536197509).UTC(), sts[1].Time)
	require.Equal(t, 3*time.Millisecond, sts[1].Duration)

	require.Equal(t, "SELECT 'a|b'", sts[2].Text)
	require.Equal(t, "d", sts[2].Database)
	require.EqualValues(t, 2, sts[2].Rows)

	require.Equal(t, "SET a=1", sts[3].Text, "known post-Stmt fields are cut from the right when Digest is absent")

	st := src.Stats()
	require.EqualValues(t, 4, st.Statements)
	require.EqualValues(t, 2, st.Skipped, "slow_query duplicate and connection record")
	require.EqualValues(t, 4, st.Malformed)
	var lines []int64
	for _, m := range st.FirstMalformed {
		lines = append(lines, m.Pos.Line)
	}
	// Before the first record, a time that does not parse, a payload that
	// is neither |... nor JSON, a query record without Stmt.
	require.Equal(t, []int64{1, 10, 11, 12}, lines, "%v", st.FirstMalformed)
}

func TestAuditLogRotatedGzipFilesMerge(t *testing.T) {
	dir := t.TempDir()
	line := func(ts int64, client, stmt string) string {
		return time.UnixMilli(ts).UTC().Format("2006-01-02 15:04:05.000Z07:00") + " [query] |Timestamp=" +
			itoa(ts) + "|Client=" + client + "|User=u|Db=d|State=EOF|Time=1|ReturnRows=1|Stmt=" + stmt + "|Digest=\n"
	}
	// Archive 1 (gzip, named like a rotated archive) and the current file,
	// interleaved in time, plus a file that is not an audit log.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, line(1000, "c:1", "SELECT 1")+line(3000, "c:1", "SELECT 3"))
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fe.audit.log.20240306-1.gz"), gz.Bytes(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fe.audit.log"), []byte(line(2000, "c:2", "SELECT 2")+line(4000, "c:2", "SELECT 4")), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fe.log"), []byte("not an audit log\n"), 0o644))

	src, err := OpenAuditLog([]string{dir}, nil)
	require.NoError(t, err)
	defer src.Close()
	var texts []string
	for _, st := range drain(t, src) {
		texts = append(texts, st.Text)
	}
	require.Equal(t, []string{"SELECT 1", "SELECT 2", "SELECT 3", "SELECT 4"}, texts)
	require.EqualValues(t, 0, src.Stats().Malformed)
}

func itoa(v int64) string {
	return strings.TrimSpace(strings.Replace(time.Duration(v).String(), "ns", "", 1))
}

// slowFixture is a MariaDB slow log as the server writes it (two entries
// in one second share one # Time line), a file header in the middle (FLUSH
// LOGS), an administrator command, a MySQL-style entry with Errno, and
// malformed parts.
const slowFixture = `mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:
Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock
Time                Id Command  Argument
stray line
# Time: 261206  9:57:11
# User@Host: root[root] @ localhost [127.0.0.1]
# Thread_id: 5  Schema: shop  QC_hit: No
# Query_time: 0.000339  Lock_time: 0.000112  Rows_sent: 1  Rows_examined: 2
# Rows_affected: 0  Bytes_sent: 112
use ` + "`shop`" + `;
SET timestamp=1796594231;
SELECT id,
  name -- trailing comment; with a semicolon
# a hash comment line inside the statement
FROM t WHERE name = 'a|b';
# User@Host: app[app] @  [10.0.0.9]
# Thread_id: 6  Schema:   QC_hit: No
# Query_time: 1.500000  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0
# Rows_affected: 3  Bytes_sent: 52
SET last_insert_id=7,insert_id=8,timestamp=1796594231;
SET timestamp=5;
mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:
Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock
Time                Id Command  Argument
# User@Host: root[root] @ localhost [127.0.0.1]
# Thread_id: 5  Schema: shop  QC_hit: No
# Query_time: 0.000010  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0
SET timestamp=1796594232;
# administrator command: Quit;
# Time: 2024-03-06T19:50:46.049123Z
# User@Host: root[root] @ localhost []  Id:    12
# Query_time: 0.000100  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0 Thread_id: 12 Errno: 1146 Start: 2024-03-06T19:50:46.049000Z End: 2024-03-06T19:50:46.049100Z
use other;
SET timestamp=1709754646;
SELECT * FROM missing;
# User@Host: root[root] @ localhost []  Id:    12
# Query_time: abc  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0
SET timestamp=1709754646;
SELECT 1;
# User@Host: root[root] @ localhost []  Id:    12
# Query_time: 0.1  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0
SET timestamp=1709754646;
`

func TestSlowLogFixture(t *testing.T) {
	src := NewSlowLogReader(strings.NewReader(slowFixture), "slow.log", nil)
	sts := drain(t, src)
	require.Len(t, sts, 3)

	require.Equal(t, "SELECT id,\n  name -- trailing comment; with a semicolon\n# a hash comment line inside the statement\nFROM t WHERE name = 'a|b'", sts[0].Text)
	require.Equal(t, "5", sts[0].Session)
	require.Equal(t, "shop", sts[0].Database)
	require.Equal(t, "root", sts[0].User)
	require.Equal(t, time.Unix(1796594231, 0).UTC(), sts[0].Time)
	require.Equal(t, 339*time.Microsecond, sts[0].Duration)
	require.EqualValues(t, 1, sts[0].Rows)
	require.Equal(t, Position{"slow.log", 6}, sts[0].Pos)

	require.Equal(t, "SET timestamp=5", sts[1].Text, "a client's own SET timestamp after the log's")
	require.Equal(t, "6", sts[1].Session)
	require.Equal(t, "", sts[1].Database)
	require.Equal(t, 1500*time.Millisecond, sts[1].Duration)
	require.EqualValues(t, 3, sts[1].Rows)

	require.Equal(t, "SELECT * FROM missing", sts[2].Text)
	require.Equal(t, "12", sts[2].Session)
	require.Equal(t, "other", sts[2].Database)
	require.True(t, sts[2].Failed)
	require.Equal(t, "1146", sts[2].ErrorCode)
	require.Equal(t, time.Date(2024, 3, 6, 19, 50, 46, 49e6, time.UTC), sts[2].Time)

	st := src.Stats()
	require.EqualValues(t, 1, st.Skipped, "administrator command")
	require.EqualValues(t, 3, st.Malformed, "%v", st.FirstMalformed)
	require.Equal(t, int64(4), st.FirstMalformed[0].Pos.Line)
	require.Contains(t, st.FirstMalformed[1].Reason, "Query_time")
	require.Contains(t, st.FirstMalformed[2].Reason, "without a statement")
}

const generalFixture = "mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:\n" +
	"Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n" +
	"Time\t\t    Id Command\tArgument\n" +
	"261206 21:57:11\t     5 Connect\troot@localhost on shop using TCP/IP\n" +
	"\t\t     5 Query\tSELECT id,\n  name -- trailing comment\nFROM t WHERE name = 'a|b'\n" +
	"\t\t     5 Init DB\tmysql\n" +
	"\t\t     5 Prepare\tSELECT c FROM sbtest1 WHERE id=?\n" +
	"\t\t     5 Execute\tSELECT c FROM sbtest1 WHERE id=6\n" +
	"\t\t     5 Close stmt\t\n" +
	"261206 21:57:12\t     6 Query\tUSE `other`\n" +
	"\t\t     6 Query\tSELECT 2\n" +
	"\t\t     5 Quit\t\n" +
	"2024-03-06T19:50:46.049123Z\t   12 Query\tSELECT 3\n" +
	"\t\t     7 Query\t\n"

func TestGeneralLogFixture(t *testing.T) {
	src := NewGeneralLogReader(strings.NewReader(generalFixture), "general.log", nil)
	sts := drain(t, src)
	var got []string
	for _, s := range sts {
		got = append(got, s.Session+"|"+s.User+"|"+s.Database+"|"+s.Text)
	}
	require.Equal(t, []string{
		"5|root|shop|SELECT id,\n  name -- trailing comment\nFROM t WHERE name = 'a|b'",
		"5|root|mysql|SELECT c FROM sbtest1 WHERE id=6",
		"6|||USE `other`",
		"6||other|SELECT 2",
		"12|||SELECT 3",
	}, got)
	require.Equal(t, time.Date(2026, 12, 6, 21, 57, 12, 0, time.UTC), sts[2].Time)
	require.EqualValues(t, -1, sts[0].Duration)
	st := src.Stats()
	require.EqualValues(t, 5, st.Skipped, "Connect, Init DB, Prepare, Close stmt, Quit")
	require.EqualValues(t, 1, st.Malformed)
	require.EqualValues(t, 16, st.FirstMalformed[0].Pos.Line)
}

func FuzzAuditLog(f *testing.F) {
	f.Add([]byte(auditFixture))
	f.Add([]byte("2024-03-06 19:50:46.049-08:00 [query] |Client=a|Stmt=x|Digest=|A=b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		src := NewAuditLogReader(bytes.NewReader(b), "f", nil)
		checkSource(t, src)
	})
}

func FuzzSlowLog(f *testing.F) {
	f.Add([]byte(slowFixture))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSource(t, NewSlowLogReader(bytes.NewReader(b), "f", nil))
	})
}

func FuzzGeneralLog(f *testing.F) {
	f.Add([]byte(generalFixture))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSource(t, NewGeneralLogReader(bytes.NewReader(b), "f", nil))
	})
}

// checkSource drains a source over arbitrary input: it must end with
// io.EOF, never panic, and account for what it yielded.
func checkSource(t *testing.T, src Source) {
	n := int64(0)
	for {
		_, err := src.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("error on in-memory input: %v", err)
		}
		n++
	}
	st := src.Stats()
	if st.Statements != n {
		t.Fatalf("yielded %d, counted %d", n, st.Statements)
	}
	if int64(len(st.FirstMalformed)) != min(st.Malformed, MaxMalformedKept) {
		t.Fatalf("malformed %d, kept %d", st.Malformed, len(st.FirstMalformed))
	}
}
