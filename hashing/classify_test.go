package hashing

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	const (
		W  = FlagWrite
		L  = FlagLock
		SE = FlagSideEffect
		S  = FlagState
		G  = FlagGlobal
	)
	cases := []struct {
		sql     string
		class   Class
		flags   Flags
		keyword string
	}{
		// Reads.
		{"SELECT 1", ClassSelect, 0, "SELECT"},
		{"select * from t where a = 'FOR UPDATE' -- for update", ClassSelect, 0, "SELECT"},
		{"(SELECT a FROM t) UNION (SELECT b FROM u)", ClassSelect, 0, "SELECT"},
		{"/* route='x' */ SELECT `update` FROM `delete`", ClassSelect, 0, "SELECT"},
		{"WITH c AS (SELECT 1) SELECT * FROM c", ClassSelect, 0, "WITH"},
		{"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 5) SELECT * FROM r", ClassSelect, 0, "WITH"},
		{"SHOW TABLES", ClassSelect, 0, "SHOW"},
		{"show full processlist", ClassSelect, 0, "SHOW"},
		{"EXPLAIN SELECT * FROM t", ClassSelect, 0, "EXPLAIN"},
		{"EXPLAIN UPDATE t SET a = 1", ClassSelect, 0, "EXPLAIN"},
		{"EXPLAIN FORMAT=JSON DELETE FROM t", ClassSelect, 0, "EXPLAIN"},
		{"EXPLAIN ANALYZE SELECT * FROM t", ClassSelect, 0, "EXPLAIN"},
		{"DESCRIBE t", ClassSelect, 0, "DESCRIBE"},
		{"desc t", ClassSelect, 0, "DESC"},
		{"VALUES ROW(1, 2)", ClassSelect, 0, "VALUES"},
		{"TABLE t", ClassSelect, 0, "TABLE"},
		{"SELECT RELEASE_LOCKS FROM t", ClassSelect, 0, "SELECT"},
		{"SELECT get_lock FROM t", ClassSelect, 0, "SELECT"},
		{"HELP 'select'", ClassOther, 0, "HELP"},
		{"CHECKSUM TABLE t", ClassOther, 0, "CHECKSUM"},
		{"DO SLEEP(1)", ClassOther, 0, "DO"},
		{"", ClassOther, 0, ""},
		{"-- only a comment", ClassOther, 0, ""},
		// Locks.
		{"SELECT * FROM t WHERE id = 1 FOR UPDATE", ClassSelect, L, "SELECT"},
		{"SELECT * FROM t FOR SHARE", ClassSelect, L, "SELECT"},
		{"SELECT * FROM t LOCK IN SHARE MODE", ClassSelect, L, "SELECT"},
		{"SELECT GET_LOCK('x', 10)", ClassSelect, L, "SELECT"},
		{"select release_lock ('x')", ClassSelect, L, "SELECT"},
		{"SELECT RELEASE_ALL_LOCKS()", ClassSelect, L, "SELECT"},
		{"DO GET_LOCK('x', 1)", ClassOther, L, "DO"},
		{"LOCK TABLES t READ", ClassOther, L | S, "LOCK"},
		{"UNLOCK TABLES", ClassOther, L | S, "UNLOCK"},
		{"SELECT /*!40001 SQL_NO_CACHE */ * FROM t /*!50000 FOR UPDATE */", ClassSelect, L, "SELECT"},
		// Side effects.
		{"SELECT * FROM t INTO OUTFILE '/tmp/x'", ClassSelect, SE, "SELECT"},
		{"SELECT a INTO DUMPFILE '/tmp/x' FROM t", ClassSelect, SE, "SELECT"},
		{"KILL 42", ClassOther, SE, "KILL"},
		{"KILL QUERY 42", ClassOther, SE, "KILL"},
		{"LOAD DATA LOCAL INFILE 'x' INTO TABLE t", ClassInsert, W | SE, "LOAD"},
		{"LOAD DATA INFILE 'x' INTO TABLE t", ClassInsert, W, "LOAD"},
		{"CALL p(1)", ClassOther, W | SE, "CALL"},
		{"FROBNICATE everything", ClassOther, SE, "FROBNICATE"},
		// Writes.
		{"INSERT INTO t VALUES (1)", ClassInsert, W, "INSERT"},
		{"INSERT INTO t SELECT * FROM u", ClassInsert, W, "INSERT"},
		{"UPDATE t SET a = 1", ClassUpdate, W, "UPDATE"},
		{"DELETE FROM t WHERE a = 1", ClassDelete, W, "DELETE"},
		{"REPLACE INTO t VALUES (1)", ClassReplace, W, "REPLACE"},
		{"WITH c AS (SELECT id FROM t) UPDATE t JOIN c USING (id) SET a = 1", ClassUpdate, W, "WITH"},
		{"WITH c AS (SELECT id FROM t) DELETE FROM t WHERE id IN (SELECT id FROM c)", ClassDelete, W, "WITH"},
		{"EXPLAIN ANALYZE UPDATE t SET a = 1", ClassSelect, W, "EXPLAIN"},
		{"ANALYZE DELETE FROM t", ClassSelect, W, "ANALYZE"},
		{"ANALYZE SELECT * FROM t", ClassSelect, 0, "ANALYZE"},
		{"ANALYZE TABLE t", ClassOther, W, "ANALYZE"},
		{"SELECT NEXTVAL(s)", ClassSelect, W, "SELECT"},
		{"CREATE TABLE t (a INT)", ClassDDL, W, "CREATE"},
		{"CREATE OR REPLACE VIEW v AS SELECT 1", ClassDDL, W, "CREATE"},
		{"ALTER TABLE t ADD COLUMN b INT", ClassDDL, W, "ALTER"},
		{"DROP TABLE IF EXISTS t", ClassDDL, W, "DROP"},
		{"TRUNCATE TABLE t", ClassDDL, W, "TRUNCATE"},
		{"RENAME TABLE a TO b", ClassDDL, W, "RENAME"},
		{"OPTIMIZE TABLE t", ClassOther, W, "OPTIMIZE"},
		{"CREATE USER u IDENTIFIED BY 'p'", ClassDDL, W | G, "CREATE"},
		// State.
		{"USE db1", ClassUse, S, "USE"},
		{"USE default_catalog.db1", ClassUse, S, "USE"},
		{"SET CATALOG hive", ClassSet, S, "SET"},
		{"SET WAREHOUSE wh1", ClassSet, S, "SET"},
		{"SET autocommit = 0", ClassSet, S, "SET"},
		{"SET SESSION sql_mode = 'ANSI'", ClassSet, S, "SET"},
		{"SET @@session.time_zone = '+00:00'", ClassSet, S, "SET"},
		{"SET @a := 1, @b = 2", ClassSet, S, "SET"},
		{"SET NAMES utf8mb4 COLLATE utf8mb4_bin", ClassSet, S, "SET"},
		{"SET CHARACTER SET utf8", ClassSet, S, "SET"},
		{"SET ROLE r1", ClassSet, S, "SET"},
		{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", ClassSet, S, "SET"},
		{"/*!40101 SET NAMES utf8 */", ClassSet, S, "SET"},
		{"SELECT a INTO @v FROM t", ClassSelect, S, "SELECT"},
		{"SELECT @x := a FROM t", ClassSelect, S, "SELECT"},
		{"CREATE TEMPORARY TABLE tmp (a INT)", ClassDDL, S, "CREATE"},
		{"DROP TEMPORARY TABLE IF EXISTS tmp", ClassDDL, S, "DROP"},
		{"PREPARE s FROM 'SELECT * FROM t WHERE id = ?'", ClassOther, S, "PREPARE"},
		{"PREPARE s FROM 'DELETE FROM t'", ClassOther, S | W, "PREPARE"},
		{"PREPARE s FROM @sql", ClassOther, S | SE, "PREPARE"},
		{"EXECUTE s USING @a", ClassOther, S, "EXECUTE"},
		{"DEALLOCATE PREPARE s", ClassOther, S, "DEALLOCATE"},
		{"DROP PREPARE s", ClassOther, S, "DROP"},
		{"BEGIN", ClassTransaction, S, "BEGIN"},
		{"START TRANSACTION READ ONLY", ClassTransaction, S, "START"},
		{"COMMIT", ClassTransaction, S, "COMMIT"},
		{"ROLLBACK TO SAVEPOINT sp1", ClassTransaction, S, "ROLLBACK"},
		{"SAVEPOINT sp1", ClassTransaction, S, "SAVEPOINT"},
		{"RELEASE SAVEPOINT sp1", ClassTransaction, S, "RELEASE"},
		{"XA START 'x'", ClassTransaction, S, "XA"},
		// Global: never mirrored.
		{"SET GLOBAL max_connections = 10", ClassSet, G, "SET"},
		{"SET PERSIST max_connections = 10", ClassSet, G, "SET"},
		{"SET @@global.max_connections = 10", ClassSet, G, "SET"},
		{"SET sql_mode = '', GLOBAL max_connections = 10", ClassSet, S | G, "SET"},
		{"SET @a = 1, @@global.max_connections = 10", ClassSet, S | G, "SET"},
		{"SET @@session.sql_mode = @@global.sql_mode, @b = GLOBAL", ClassSet, S, "SET"},
		{"SET sql_mode = (SELECT @@GLOBAL.sql_mode)", ClassSet, S, "SET"},
		{"SET @x = (SELECT GET_LOCK('a', 1))", ClassSet, S | L, "SET"},
		{"SET PASSWORD = PASSWORD('x')", ClassSet, G, "SET"},
		{"SET PASSWORD FOR u = 'x'", ClassSet, G, "SET"},
		{"SET DEFAULT ROLE r1 TO u", ClassSet, G, "SET"},
		{"GRANT SELECT ON db.* TO u", ClassOther, G, "GRANT"},
		{"REVOKE SELECT ON db.* FROM u", ClassOther, G, "REVOKE"},
		{"FLUSH TABLES", ClassOther, G, "FLUSH"},
		{"SHUTDOWN", ClassOther, G, "SHUTDOWN"},
		{"SET STATEMENT max_statement_time=1 FOR UPDATE t SET a = 1", ClassUpdate, W, "SET"},
		{"SET STATEMENT max_statement_time=1 FOR SELECT 1", ClassSelect, 0, "SET"},
	}
	for _, c := range cases {
		s := Classify(c.sql)
		require.Equal(t, c.class, s.Class, "%s: class", c.sql)
		require.Equal(t, c.flags.String(), s.Flags.String(), "%s: flags", c.sql)
		require.Equal(t, c.keyword, s.Keyword, "%s: keyword", c.sql)
		require.Equal(t, c.sql, s.Text)
		require.Equal(t, c.flags&(W|L|SE|G) == 0, s.ReadOnly(), "%s: ReadOnly", c.sql)
	}
}

func TestClassifyAll(t *testing.T) {
	got := ClassifyAll("SET NAMES utf8mb4; SELECT 1; UPDATE t SET a = ';' ; ")
	require.Len(t, got, 3)
	require.Equal(t, ClassSet, got[0].Class)
	require.Equal(t, "SELECT 1", got[1].Text)
	require.Equal(t, ClassUpdate, got[2].Class)
	require.Equal(t, "UPDATE t SET a = ';'", got[2].Text)
	require.Nil(t, ClassifyAll(" ; -- nothing"))
}

func TestSplit(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"SELECT 1", []string{"SELECT 1"}},
		{"SELECT 1;", []string{"SELECT 1"}},
		{"SELECT 1;;SELECT 2; ;", []string{"SELECT 1", "SELECT 2"}},
		{"SELECT 'a;b', \"c;d\", `e;f` FROM t; SELECT 2", []string{"SELECT 'a;b', \"c;d\", `e;f` FROM t", "SELECT 2"}},
		{"SELECT 'it\\'s;' ; SELECT 'x'';'", []string{"SELECT 'it\\'s;'", "SELECT 'x'';'"}},
		{"SELECT 1 /* ; */; -- ;\nSELECT 2 # ;\n", []string{"SELECT 1 /* ; */", "-- ;\nSELECT 2 # ;"}},
		{"SELECT 1; -- trailing comment", []string{"SELECT 1"}},
		{"CREATE PROCEDURE p() BEGIN SELECT 1; IF x THEN SELECT 2; END IF; END; CALL p()",
			[]string{"CREATE PROCEDURE p() BEGIN SELECT 1; IF x THEN SELECT 2; END IF; END", "CALL p()"}},
		{"CREATE TABLE t (begin INT, event INT); SELECT 1", []string{"CREATE TABLE t (begin INT, event INT)", "SELECT 1"}},
		{"BEGIN; SELECT 1; COMMIT", []string{"BEGIN", "SELECT 1", "COMMIT"}},
		{"BEGIN NOT ATOMIC SELECT 1; SELECT 2; END; SELECT 3", []string{"BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", "SELECT 3"}},
		{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = CASE WHEN 1 THEN 2 END; END; SELECT 1",
			[]string{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = CASE WHEN 1 THEN 2 END; END", "SELECT 1"}},
		{"", nil},
		{"  ;  ", nil},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Split(c.in), c.in)
	}
}

func TestClassifyDeepNesting(t *testing.T) {
	s := Classify(strings.Repeat("EXPLAIN ANALYZE ", 100000) + "SELECT 1")
	require.Equal(t, ClassSelect, s.Class)
	require.False(t, s.ReadOnly(), "too deep to know: side_effect")
	s = Classify(strings.Repeat("EXPLAIN ANALYZE ", 3) + "DELETE FROM t")
	require.True(t, s.Flags.Has(FlagWrite))
}
