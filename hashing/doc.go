// Package hashing holds pure functions on SQL text that every other package
// uses: QueryHash (the MD5 of the exact text), the normalised template
// (Fingerprint, TemplateHash), statement splitting and classification
// (Split, Classify, ClassifyAll), sqlcommenter tags (Tags), non-determinism
// detection for comparisons (NonDeterministic) and deterministic, still
// executable obfuscation (Obfuscator).
//
// Everything is built on one single-pass byte scanner that knows MySQL's
// lexical rules: single- and double-quoted strings with backslash escapes
// and doubled quotes, backtick identifiers, "-- ", "#" and /* */ comments,
// /*+ */ optimizer hints, and /*! */ and /*M! */ executable comments, whose
// content is code (whatever version they name). It assumes the default
// sql_mode, as StarRocks does: double-quoted text is a string, not an
// identifier (ANSI_QUOTES), and a backslash escapes (not
// NO_BACKSLASH_ESCAPES). No regular expressions, no parser: the functions
// never fail, and bad input never panics (each has a fuzz target).
//
// # Hashes
//
// QueryHash is the lower-case hex MD5 of the exact bytes, with no trimming:
// the query_hash of a query-log record and the join key to a server's own
// statement digests. TemplateHash is the lower-case hex MD5 of
// Fingerprint: the grouping key of reports and the robust join key between
// primary, shadow and profiles. A TemplateCache gives the same hashes for a
// stream of statements, fingerprinting each statement shape (the tokens but
// the literals' values) once.
//
// # Fingerprint rules
//
// Two queries that differ only in literal values, comments, hints, spacing
// or keyword case share a template; queries on different tables or columns,
// or with different operators, joins, functions, grouping, ordering
// direction or position, DISTINCT or UNION kinds, do not. The rules, each
// with an example (input, then => fingerprint):
//
// Literals become ?: strings, numbers (integer, decimal, exponent), hex and
// bit literals (0xFF, X'0A', 0b01, b'01'), and ? placeholders.
//
//	SELECT * FROM t WHERE a = 'x' AND b = 42 AND c = 1.5e3 AND d = 0xFF
//	=> select * from t where a = ? and b = ? and c = ? and d = ?
//
// A sign before a number is part of the literal; a binary minus is not.
//
//	SELECT a - 1 FROM t WHERE b = -2
//	=> select a - ? from t where b = ?
//
// NULL, TRUE and FALSE are literals where they are values, and kept after
// IS and IS NOT.
//
//	UPDATE t SET a = NULL WHERE c IS NOT NULL AND d IS FALSE
//	=> update t set a = ? where c is not null and d is false
//
// Typed, national and introduced strings are one literal; adjacent strings,
// which MySQL concatenates, are one literal.
//
//	SELECT DATE '2024-01-02', _utf8mb4'x', N'y', 'a' 'b'
//	=> select date ?, ?, ?, ?
//
// IN-lists of literals of any length, tuples included, collapse to in(?+);
// IN (SELECT ...) is kept.
//
//	SELECT * FROM t WHERE a IN (1, 2, 3) AND (c, d) IN ((1, 2), (3, 4))
//	=> select * from t where a in(?+) and (c, d) in(?+)
//
// Multi-row VALUES collapse to their first row when the rows have the same
// shape (a row of another shape is kept).
//
//	INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')
//	=> insert into t(a, b) values(?, ?)
//	INSERT INTO t VALUES ROW(1, 2), ROW(3, 4)
//	=> insert into t values row(?, ?)
//
// Comments go, sqlcommenter tags included; the content of executable
// comments stays, as code.
//
//	SELECT /* c */ a -- c
//	=> select a
//	SELECT /*!40001 SQL_BUFFER_RESULT */ a FROM t
//	=> select sql_buffer_result a from t
//
// Optimizer hints go: /*+ ... */ comments, index hints (USE, FORCE or IGNORE
// INDEX or KEY, with FOR JOIN/ORDER BY/GROUP BY), StarRocks join hints
// ([broadcast], [shuffle]) and SQL_CACHE / SQL_NO_CACHE.
//
//	SELECT /*+ SET_VAR(query_timeout=10) */ SQL_NO_CACHE a FROM t USE INDEX (i1) JOIN [broadcast] u
//	=> select a from t join u
//
// White space becomes canonical spacing: one space between tokens; none
// inside parentheses, before a comma or around a qualifying dot; none
// between a name and its "(" (functions, table column lists), but one after
// keywords such as AND, FROM, AS; a trailing semicolon goes.
//
//	"  Select\n\tA,B   FROM  T  WHERE  x=1 ;"
//	=> select a, b from t where x = ?
//
// Words are lower-cased, keywords and unquoted names alike; a backtick
// identifier made of name characters loses its backticks and is lower-cased
// too; any other stays as written.
//
//	SELECT `Order`, `my col` FROM T
//	=> select order, `my col` from t
//
// Identifiers are kept whole, digits included (pt-fingerprint replaces
// them).
//
//	SELECT t1.col_2 FROM db1.tbl_2020 t1
//	=> select t1.col_2 from db1.tbl_2020 t1
//
// Function names and operators are kept, spaced canonically.
//
//	SELECT COUNT(*), max( a ) FROM t WHERE b<=>1
//	=> select count(*), max(a) from t where b <=> ?
//
// Variables are kept, lower-cased.
//
//	SELECT @A, @@SESSION.sql_mode
//	=> select @a, @@session.sql_mode
//
// ORDER BY and GROUP BY positions are kept (ORDER BY 1 and ORDER BY 2 sort
// differently); ASC, the default direction, goes; DESC stays.
//
//	SELECT a, b FROM t GROUP BY 1 ORDER BY 2 DESC, a ASC LIMIT 5, 10
//	=> select a, b from t group by 1 order by 2 desc, a limit ?, ?
//
// The statements of a multi-statement text are joined by "; ".
//
//	SELECT 1; SELECT 2;
//	=> select ?; select ?
//
// A fingerprint is its own fingerprint. On a reference set of queries where
// these rules agree with Percona's pt-fingerprint, both group queries the
// same way (a test runs pt-fingerprint when installed).
//
// # Statements
//
// Split cuts a multi-statement text at semicolons outside strings, quoted
// identifiers, comments and compound statement bodies (CREATE PROCEDURE ...
// BEGIN ... END). Classify gives a statement a Class from its first keyword
// and Flags from a token scan of the rest; ReadOnly is true when none of
// write, lock, side_effect or global is set. A proxy mirrors read-only
// statements by default, carries state statements to the shadow, and never
// mirrors global ones:
//
//	SELECT * FROM t                       SELECT  none         mirrored
//	SELECT ... FOR UPDATE / FOR SHARE     SELECT  lock         not mirrored by default
//	SELECT GET_LOCK('x', 1)               SELECT  lock
//	SELECT ... INTO OUTFILE '/tmp/x'      SELECT  side_effect
//	SELECT a INTO @v FROM t               SELECT  state        mirrored, state carried
//	WITH c AS (...) UPDATE ...            UPDATE  write
//	EXPLAIN UPDATE t SET a = 1            SELECT  none         (nothing runs)
//	EXPLAIN ANALYZE UPDATE ...            SELECT  write        (it runs)
//	USE db / USE catalog.db               USE     state
//	SET NAMES / ROLE / CATALOG / WAREHOUSE SET    state
//	SET GLOBAL / PERSIST / PASSWORD       SET     global       never mirrored
//	KILL 42, LOAD DATA LOCAL INFILE       OTHER/INSERT side_effect
//	CREATE TEMPORARY TABLE                DDL     state
//	PREPARE s FROM 'DELETE ...'           OTHER   state|write  (flags of the prepared text)
//	BEGIN, COMMIT, SAVEPOINT              TRANSACTION state
//
// Unknown statements are ClassOther with side_effect, so they are never
// mirrored as read-only by mistake. Classify does not allocate for common
// first keywords.
//
// # Tags and non-determinism
//
// Tags reads sqlcommenter comments (/*route='screening',controller='x'*/)
// into a map with URL-decoded keys and values. NonDeterministic says
// whether a query can answer differently on two servers with the same data
// (NOW(), RAND(), UUID(), USER(), CONNECTION_ID(), LAST_QUERY_ID(), any @@
// variable, LIMIT without ORDER BY, ...), so a mismatch on it is noise.
//
// # Obfuscation
//
// An Obfuscator replaces identifiers and literals under a key so that an
// obfuscated schema (DDL) accepts its obfuscated queries (Query): the
// customer query replica. An acceptance test obfuscates a fixed schema and
// more than 50 varied queries and runs them on MariaDB without errors.
//
// # Performance
//
// Fingerprint is a single pass that writes into one buffer the size of its
// input: one allocation for the buffer, one for the result string. Figures
// and the command that measures them are in docs/performance.md.
package hashing
