package replica_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/replay/replica"
)

var rig = testdb.NewRig(2, nil)

func TestMain(m *testing.M) {
	code := rig.Run(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// sourceSchema is a shop: several tables with primary, unique and foreign
// keys, NOT NULL columns, enums, dates, decimals, keyword-like names and a
// table in a second database ({{crm}}).
var sourceSchema = []string{
	`CREATE TABLE customers (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(120) NOT NULL,
  status ENUM('prospect','premium','lapsed') NOT NULL DEFAULT 'prospect',
  city VARCHAR(40) NULL,
  signup_date DATE NOT NULL,
  UNIQUE KEY uk_customer_email (email),
  KEY idx_customer_city (city)
) ENGINE=InnoDB`,
	`CREATE TABLE products (
  id INT NOT NULL AUTO_INCREMENT,
  sku CHAR(12) NOT NULL,
  title VARCHAR(80) NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  weight_grams INT UNSIGNED NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_product_sku (sku)
) ENGINE=InnoDB`,
	`CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  placed_at DATETIME NOT NULL,
  channel VARCHAR(16) NOT NULL,
  CONSTRAINT fk_order_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
  KEY idx_order_placed (placed_at)
) ENGINE=InnoDB`,
	`CREATE TABLE order_lines (
  order_id BIGINT UNSIGNED NOT NULL,
  product_id INT NOT NULL,
  quantity SMALLINT NOT NULL,
  PRIMARY KEY (order_id, product_id),
  CONSTRAINT fk_line_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT fk_line_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE=InnoDB`,
	`CREATE TABLE {{crm}}.tickets (
  ticket_no INT NOT NULL PRIMARY KEY,
  customer_ref INT NOT NULL,
  opened_on DATE NOT NULL,
  severity TINYINT NOT NULL,
  subject VARCHAR(200) NOT NULL
) ENGINE=InnoDB`,
	`CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 1000`,
}

// workload are the statements, run in the shop database. Literals are
// distinctive so that a scan finds them if they leak.
var workload = []string{
	"SELECT id, name, email FROM customers WHERE id = 104729",
	"SELECT name FROM customers WHERE email = 'jane.doe@example.com'",
	"SELECT * FROM customers WHERE status = 'premium' AND city IN ('Lisbon', 'Porto', 'Braga')",
	"SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.city = 'Lisbon' AND o.total > 249.99",
	"SELECT o.id, l.quantity, p.title FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.id = l.product_id WHERE p.sku = 'SKU-88412-Q'",
	"SELECT id FROM orders WHERE placed_at >= '2017-03-01 00:00:00' AND placed_at < '2017-04-01 00:00:00'",
	"SELECT id, total FROM orders WHERE placed_at BETWEEN '2016-06-15 08:30:00' AND '2016-09-30 17:45:00' ORDER BY placed_at",
	"SELECT title, price FROM products WHERE price BETWEEN 19.95 AND 1899.50 ORDER BY price LIMIT 5",
	"SELECT title FROM products WHERE price BETWEEN 315.40 AND 742.80 ORDER BY price LIMIT 5 OFFSET 4",
	"SELECT COUNT(*) FROM orders WHERE channel = 'marketplace' AND total BETWEEN 87654.32 AND 98765.43",
	"SELECT name FROM customers WHERE signup_date > '2018-02-11' AND signup_date <= '2018-07-23'",
	"SELECT name FROM customers WHERE name LIKE 'Guinevere%'",
	"SELECT email FROM customers WHERE email LIKE '%@fabrikam.test'",
	"SELECT c.name, COUNT(o.id) AS order_count FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE c.status = 'lapsed' GROUP BY c.name HAVING COUNT(o.id) >= 2",
	"SELECT status, COUNT(*) AS headcount FROM customers GROUP BY status ORDER BY headcount DESC",
	"SELECT p.title, SUM(l.quantity) AS units FROM order_lines l JOIN products p ON p.id = l.product_id GROUP BY p.title ORDER BY units DESC LIMIT 10",
	"SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE channel = 'kiosk-rossio')",
	"SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.total > 5432.10)",
	"WITH recent AS (SELECT customer_id, total FROM orders WHERE placed_at > '2018-10-05 12:00:00') SELECT c.name, r.total FROM recent r JOIN customers c ON c.id = r.customer_id",
	"SELECT t.ticket_no, c.name FROM {{crm}}.tickets t JOIN customers c ON c.id = t.customer_ref WHERE t.severity >= 4 AND t.opened_on BETWEEN '2016-01-04' AND '2016-12-28'",
	"SELECT subject FROM {{crm}}.tickets WHERE subject LIKE 'Refund for parcel%' AND ticket_no > 300000",
	"SELECT weight_grams FROM products WHERE weight_grams IS NULL AND title = 'Espresso tamper'",
	"SELECT q.customer_id, q.spent FROM (SELECT customer_id, SUM(total) AS spent FROM orders GROUP BY customer_id) AS q WHERE q.spent > 777.77",
	"SELECT city, MAX(signup_date) FROM customers WHERE city <> 'Faro' GROUP BY city",
	"SELECT o.channel FROM orders o WHERE o.customer_id = 56789 OR o.channel = 'phone-order'",
	"SELECT DISTINCT channel FROM orders WHERE total < 12.34",
	"SELECT p.sku FROM products p WHERE p.id NOT IN (SELECT product_id FROM order_lines) AND p.price > 65.43",
	"SELECT id FROM orders WHERE customer_id = 104729 AND channel = 'web-checkout' ORDER BY placed_at DESC LIMIT 3",
	"SELECT name FROM customers WHERE status IN ('premium', 'lapsed') AND signup_date >= '2017-09-09' ORDER BY name",
	"SELECT title FROM products WHERE sku IN ('SKU-77231-B', 'SKU-88412-Q') OR title = 'Moka pot deluxe'",
	"SELECT id, total FROM big_orders",
	"UPDATE customers SET city = 'Coimbra' WHERE id = 104729",
}

func TestReplica(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src := rig.Server(t, 0)
	shop := src.NewDatabase(t)
	crm := src.NewDatabase(t)
	root, err := src.Root()
	require.NoError(t, err)
	conn, err := root.Conn(ctx)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "USE `"+shop+"`")
	require.NoError(t, err)
	for _, ddl := range sourceSchema {
		_, err := conn.ExecContext(ctx, strings.ReplaceAll(ddl, "{{crm}}", "`"+crm+"`"))
		require.NoError(t, err, ddl)
	}
	require.NoError(t, conn.Close())
	stmts := make([]replica.Statement, len(workload))
	for i, w := range workload {
		stmts[i] = replica.Statement{SQL: strings.ReplaceAll(w, "{{crm}}", crm), Database: shop}
	}
	srcDB := src.Open(t, shop)

	key := []byte("the customer's replica key")
	dir := filepath.Join(t.TempDir(), "replica")
	sum, err := replica.Build(ctx, srcDB, key, stmts, dir, &replica.Options{Mapping: false})
	require.NoError(t, err)
	t.Logf("summary: %+v", sum)
	// The view and the UPDATE are left out, with their positions.
	require.ElementsMatch(t, []replica.Skip{{Index: 30, Reason: "view"}, {Index: 31, Reason: "not_a_query"}}, sum.Skipped)
	require.Equal(t, len(workload)-2, sum.Replicated)
	require.Len(t, sum.Tables, 5)
	require.NoFileExists(t, filepath.Join(dir, replica.MappingFile))

	// Nothing of the original names or values in any file of the replica.
	secrets := originals(shop, crm)
	leaks := scan(t, dir, secrets)
	require.Empty(t, leaks, "original names or literals in the replica")

	// Loaded into a fresh server, every statement runs and nearly all
	// return rows.
	dst := rig.Server(t, 1)
	dstDB, err := dst.Root()
	require.NoError(t, err)
	require.NoError(t, replica.Load(ctx, dstDB, dir))
	t.Cleanup(func() {
		for _, ts := range sum.Tables {
			_, _ = dstDB.Exec("DROP DATABASE IF EXISTS `" + ts.Database + "`")
		}
	})
	got, err := replica.ReadStatements(dir)
	require.NoError(t, err)
	require.Len(t, got, sum.Replicated)
	withRows := 0
	for _, s := range got {
		n, err := runCount(ctx, dstDB, s)
		require.NoError(t, err, s.SQL)
		if n > 0 {
			withRows++
		} else {
			t.Logf("no rows: %s", s.SQL)
		}
	}
	t.Logf("%d of %d statements return rows", withRows, len(got))
	require.GreaterOrEqual(t, float64(withRows), 0.95*float64(len(got)))

	// The same key gives the same replica; the mapping comes only when
	// asked, in its own file, and leads back to the originals.
	dir2 := filepath.Join(t.TempDir(), "again")
	_, err = replica.Build(ctx, srcDB, key, stmts, dir2, &replica.Options{Mapping: true})
	require.NoError(t, err)
	for _, f := range []string{replica.SchemaFile, replica.StatementsFile} {
		a, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(dir2, f))
		require.NoError(t, err)
		require.Equal(t, string(a), string(b), f)
	}
	var m replica.Mapping
	raw, err := os.ReadFile(filepath.Join(dir2, replica.MappingFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &m))
	require.Contains(t, values(m.Schemas), shop)
	require.Contains(t, values(m.Tables), shop+".customers")
	require.Contains(t, values(m.Columns), shop+".customers.email")
	require.Contains(t, values(m.Aliases), "order_count")
	require.Contains(t, values(m.Literals), "jane.doe@example.com")

	// Another key gives other names.
	dir3 := filepath.Join(t.TempDir(), "other")
	sum3, err := replica.Build(ctx, srcDB, []byte("another key"), stmts, dir3, nil)
	require.NoError(t, err)
	names := map[string]bool{}
	for _, ts := range sum.Tables {
		names[ts.Database] = true
		names[ts.Table] = true
	}
	for _, ts := range sum3.Tables {
		require.False(t, names[ts.Database] || names[ts.Table], "%s.%s under both keys", ts.Database, ts.Table)
	}

	// A replica is written only into an empty directory.
	_, err = replica.Build(ctx, srcDB, key, stmts, dir, nil)
	require.ErrorIs(t, err, replica.ErrNotEmpty)
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// runCount runs a statement in its database and counts its rows.
func runCount(ctx context.Context, db *sql.DB, s replica.Statement) (int, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "USE `"+s.Database+"`"); err != nil {
		return 0, err
	}
	rows, err := conn.QueryContext(ctx, s.SQL)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

var (
	quotedLit = regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`)
	numberLit = regexp.MustCompile(`\b\d+(?:\.\d+)?\b`)
	word      = regexp.MustCompile("[A-Za-z_][A-Za-z0-9_]*")
)

// originals lists every identifier of the schema and the workload and
// every literal: string literals whole, the workload's numbers of three
// digits or more (shorter ones appear in any data by chance).
func originals(shop, crm string) []string {
	set := map[string]bool{shop: true, crm: true}
	text := strings.Join(sourceSchema, "\n") + "\n" + strings.Join(workload, "\n")
	for _, m := range quotedLit.FindAllStringSubmatch(text, -1) {
		set[m[1]] = true
	}
	noStrings := quotedLit.ReplaceAllString(text, " ")
	// Numbers of the workload only: the schema's are type lengths.
	for _, n := range numberLit.FindAllString(quotedLit.ReplaceAllString(strings.Join(workload, "\n"), " "), -1) {
		if len(strings.ReplaceAll(n, ".", "")) >= 3 {
			set[n] = true
		}
	}
	for _, w := range word.FindAllString(noStrings, -1) {
		if !sqlWords[strings.ToUpper(w)] {
			set[w] = true
		}
	}
	var out []string
	for s := range set {
		out = append(out, s)
	}
	return out
}

// sqlWords are the keywords, types and functions of the schema and the
// workload, which a replica keeps.
var sqlWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`CREATE TABLE INT NOT NULL AUTO_INCREMENT PRIMARY KEY VARCHAR ENUM DEFAULT
		DATE UNIQUE ENGINE InnoDB CHAR DECIMAL UNSIGNED BIGINT DATETIME CONSTRAINT FOREIGN REFERENCES SMALLINT TINYINT
		VIEW AS SELECT FROM WHERE AND IN JOIN ON BETWEEN ORDER BY LIMIT OFFSET COUNT LIKE LEFT GROUP HAVING DESC
		SUM EXISTS WITH IS MAX OR DISTINCT UPDATE SET`) {
		sqlWords[strings.ToUpper(w)] = true
	}
}

// scan returns every secret found in any file (or file name) under dir,
// case-insensitively and on word boundaries.
func scan(t *testing.T, dir string, secrets []string) []string {
	t.Helper()
	var corpus strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		corpus.WriteString(path[len(dir):] + "\n")
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		corpus.Write(b)
		corpus.WriteByte('\n')
		return err
	})
	require.NoError(t, err)
	text := corpus.String()
	var leaks []string
	for _, s := range secrets {
		re := regexp.MustCompile(`(?i)(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(s) + `($|[^A-Za-z0-9_])`)
		if loc := re.FindStringIndex(text); loc != nil {
			leaks = append(leaks, s+": ..."+text[max(loc[0]-40, 0):min(loc[1]+40, len(text))]+"...")
		}
	}
	return leaks
}
