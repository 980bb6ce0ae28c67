package hashing_test

import (
	"fmt"

	"github.com/sqlshadow/sqlshadow/hashing"
)

func ExampleQueryHash() {
	fmt.Println(hashing.QueryHash("SELECT 1"))
	// Output: b1698e52a0f16203489454196a0c6307
}

func ExampleFingerprint() {
	fmt.Println(hashing.Fingerprint("SELECT name FROM users WHERE id IN (1, 2, 3) AND status = 'active' /* route='x' */"))
	fmt.Println(hashing.Fingerprint("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')"))
	// Output:
	// select name from users where id in(?+) and status = ?
	// insert into t(a, b) values(?, ?)
}

func ExampleTemplateHash() {
	a := hashing.TemplateHash("SELECT * FROM t WHERE id = 1")
	b := hashing.TemplateHash("select *\n  from t\n where id = 42 -- another id")
	fmt.Println(a == b, a)
	// Output: true 86a4fd498c70095e35fc3906162972da
}

func ExampleTemplateCache() {
	// One per goroutine on a hot path: statements of one shape are
	// fingerprinted once.
	c := hashing.NewTemplateCache(4096)
	for _, id := range []int{1, 2, 3} {
		q := fmt.Sprintf("SELECT * FROM t WHERE id = %d", id)
		fmt.Println(c.TemplateHash(q) == hashing.TemplateHash(q))
	}
	// Output:
	// true
	// true
	// true
}

func ExampleSplit() {
	for _, s := range hashing.Split("SET NAMES utf8mb4; SELECT 'a;b' FROM t; -- done") {
		fmt.Println(s)
	}
	// Output:
	// SET NAMES utf8mb4
	// SELECT 'a;b' FROM t
}

func ExampleClassify() {
	for _, q := range []string{
		"SELECT * FROM t WHERE id = 1",
		"SELECT * FROM t WHERE id = 1 FOR UPDATE",
		"WITH c AS (SELECT id FROM t) DELETE FROM u WHERE id IN (SELECT id FROM c)",
		"SELECT a INTO @v FROM t",
		"SET GLOBAL max_connections = 100",
		"EXPLAIN UPDATE t SET a = 1",
	} {
		s := hashing.Classify(q)
		fmt.Printf("%-7s %-7s %-11s read-only=%v\n", s.Keyword, s.Class, s.Flags, s.ReadOnly())
	}
	// Output:
	// SELECT  SELECT  none        read-only=true
	// SELECT  SELECT  lock        read-only=false
	// WITH    DELETE  write       read-only=false
	// SELECT  SELECT  state       read-only=true
	// SET     SET     global      read-only=false
	// EXPLAIN SELECT  none        read-only=true
}

func ExampleClassifyAll() {
	for _, s := range hashing.ClassifyAll("BEGIN; UPDATE t SET a = 1; COMMIT") {
		fmt.Println(s.Class, s.Flags)
	}
	// Output:
	// TRANSACTION state
	// UPDATE write
	// TRANSACTION state
}

func ExampleTags() {
	tags := hashing.Tags("SELECT * FROM t /*route='%2Fscreening',controller='search'*/")
	fmt.Println(tags["route"], tags["controller"])
	// Output: /screening search
}

func ExampleNonDeterministic() {
	fmt.Println(hashing.NonDeterministic("SELECT id FROM t WHERE created > NOW() - INTERVAL 1 DAY"))
	fmt.Println(hashing.NonDeterministic("SELECT id FROM t LIMIT 10"))
	fmt.Println(hashing.NonDeterministic("SELECT id FROM t ORDER BY id LIMIT 10"))
	// Output:
	// true NOW()
	// true LIMIT without ORDER BY
	// false
}

func ExampleObfuscator() {
	o := hashing.NewObfuscator([]byte("secret key"))
	ddl, _ := o.DDL("CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50), status ENUM('active','closed'))")
	q, _ := o.Query("SELECT name FROM customers WHERE status = 'active' AND id = 42")
	fmt.Println(ddl)
	fmt.Println(q)
	// Output:
	// CREATE TABLE obgp3rcf27 (opj2bj65py INT PRIMARY KEY, ouhy5ibebv VARCHAR(50), ofwrvazs5b ENUM('duakmf','ygzeod'))
	// SELECT ouhy5ibebv FROM obgp3rcf27 WHERE ofwrvazs5b = 'duakmf' AND opj2bj65py = 20
}
