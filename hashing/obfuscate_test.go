package hashing

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/stretchr/testify/require"
)

var rig = testdb.NewRig(1, nil)

func TestMain(m *testing.M) { os.Exit(rig.Run(m)) }

// replicaSchema is the fixed schema of the acceptance test: everyday names
// that are also MariaDB keywords (id, name, status, type, date, comment,
// level, value, data), ENUMs, JSON, BIT, foreign keys, a CHECK, a view.
var replicaSchema = []string{
	`CREATE TABLE customers (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(200) NOT NULL,
  status ENUM('active','suspended','closed') NOT NULL DEFAULT 'active',
  region CHAR(2) NOT NULL DEFAULT 'EU',
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  date DATE NULL,
  type TINYINT NOT NULL DEFAULT 1,
  comment TEXT NULL COMMENT 'free text',
  UNIQUE KEY uk_email (email),
  KEY idx_status_region (status, region)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
	"CREATE TABLE `products` (\n  `id` INT NOT NULL AUTO_INCREMENT,\n  `sku` VARCHAR(32) NOT NULL,\n  `title` VARCHAR(200) NOT NULL,\n" +
		"  `price` DECIMAL(10,2) NOT NULL,\n  `data` JSON NULL,\n  `flags` BIT(8) NOT NULL DEFAULT b'00000000',\n" +
		"  `value` INT NOT NULL DEFAULT 0,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY (`sku`)\n) ENGINE=InnoDB CHARACTER SET = utf8mb4 COLLATE utf8mb4_unicode_ci",
	`CREATE TABLE IF NOT EXISTS orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  status VARCHAR(20) NOT NULL DEFAULT 'new',
  created_at DATETIME(6) NOT NULL,
  ship_date DATE NULL,
  level SMALLINT NOT NULL DEFAULT 0,
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
  KEY idx_created (created_at),
  CHECK (total >= 0)
)`,
	`CREATE TABLE order_items (
  order_id BIGINT UNSIGNED NOT NULL,
  product_id INT NOT NULL,
  quantity INT NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  PRIMARY KEY (order_id, product_id),
  FOREIGN KEY (order_id) REFERENCES orders(id),
  FOREIGN KEY (product_id) REFERENCES products(id)
)`,
	"CREATE INDEX idx_items_product ON order_items (product_id)",
	"CREATE VIEW customer_totals AS SELECT c.id, c.name, SUM(o.total) AS total FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name",
	"ALTER TABLE products ADD COLUMN weight DECIMAL(8,3) NULL AFTER price, ADD KEY idx_title (title)",
	"ALTER TABLE customers ADD INDEX idx_created (created_at)",
}

// replicaQueries are 50+ varied queries on replicaSchema, run in order.
var replicaQueries = []string{
	"INSERT INTO customers (name, email, status, region, created_at, type) VALUES ('Alice', 'alice@example.com', 'active', 'EU', '2024-01-02 03:04:05', 2), ('Bob', 'bob@example.org', 'suspended', 'US', '2024-02-03 04:05:06', 3)",
	"INSERT INTO customers (name, email, type, date, comment) VALUES ('Carol', 'carol@example.net', 1, '2023-12-31', 'VIP') ON DUPLICATE KEY UPDATE name = VALUES(name)",
	`INSERT INTO products (sku, title, price, data, ` + "`value`" + `) VALUES ('SKU-1', 'Widget', 9.99, '{"color": "red", "size": "L", "tags": [1, 2], "ok": true, "none": null}', 5)`,
	"REPLACE INTO products (id, sku, title, price) VALUES (1000, 'SKU-1000', 'Gadget', 19.95)",
	"INSERT INTO orders (customer_id, total, status, created_at, level) SELECT id, 10.00, 'new', NOW(), 1 FROM customers WHERE region = 'EU'",
	"INSERT INTO orders (customer_id, total, created_at) VALUES ((SELECT MIN(id) FROM customers), 250.75, '2024-05-05 10:00:00.123456')",
	"INSERT INTO order_items (order_id, product_id, quantity, price) SELECT o.id, p.id, 2, p.price FROM orders o CROSS JOIN products p WHERE p.id > 0 ON DUPLICATE KEY UPDATE quantity = quantity + 1",
	"SET @min_total = 50",
	"SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'",
	"SET NAMES utf8mb4",
	"SELECT id, name, email FROM customers WHERE id = 42",
	"SELECT * FROM customers WHERE status = 'active' AND region IN ('EU', 'US') ORDER BY created_at DESC LIMIT 10",
	"SELECT c.name, COUNT(o.id) AS orders, SUM(o.total) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.name HAVING COUNT(o.id) > 2 ORDER BY 2 DESC",
	"SELECT name FROM customers WHERE email LIKE '%@example.com'",
	"SELECT id FROM orders WHERE created_at >= '2024-01-01 00:00:00' AND created_at < '2024-02-01'",
	"SELECT DATE(created_at) AS day, SUM(total) FROM orders GROUP BY DATE(created_at)",
	"SELECT id FROM orders WHERE created_at > NOW() - INTERVAL 7 DAY",
	"SELECT id, total FROM orders WHERE ship_date = DATE '2024-03-15'",
	"SELECT CAST(total AS DECIMAL(10,2)), CAST(created_at AS DATE), CONVERT(total, CHAR(20)) FROM orders",
	"SELECT p.title, oi.quantity * oi.price AS line FROM order_items oi JOIN products p ON p.id = oi.product_id WHERE oi.order_id = 1001",
	"WITH big AS (SELECT customer_id, SUM(total) AS s FROM orders GROUP BY customer_id HAVING s > 1000) SELECT c.name, big.s FROM big JOIN customers c ON c.id = big.customer_id",
	"SELECT id, total, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY created_at) AS rn FROM orders",
	"SELECT customer_id, total, LAG(total) OVER (ORDER BY id) FROM orders",
	"SELECT * FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE total > 99.5)",
	"SELECT * FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'shipped')",
	"SELECT CASE WHEN total > 100 THEN 'big' WHEN total > 10 THEN 'medium' ELSE 'small' END AS size, COUNT(*) FROM orders GROUP BY 1",
	"SELECT COALESCE(comment, 'none'), IFNULL(date, CURDATE()) FROM customers",
	"SELECT DATE_FORMAT(created_at, '%Y-%m') AS month, COUNT(*) FROM orders GROUP BY month ORDER BY month",
	"SELECT JSON_EXTRACT(data, '$.color') FROM products WHERE JSON_EXTRACT(data, '$.size') = 'L'",
	"SELECT id FROM products WHERE flags & b'00000001' OR sku = X'414243'",
	"SELECT title FROM products WHERE price BETWEEN 10 AND 20.50 ORDER BY price LIMIT 5 OFFSET 10",
	"SELECT UPPER(name), LENGTH(email), SUBSTRING(email, 1, 5) FROM customers",
	"SELECT name FROM customers UNION SELECT title FROM products",
	"SELECT name FROM customers UNION ALL SELECT title FROM products ORDER BY 1 LIMIT 20",
	"SELECT status, type, COUNT(*) FROM customers GROUP BY status, type WITH ROLLUP",
	"SELECT * FROM customer_totals WHERE total > 500",
	"SELECT o.id FROM orders o FORCE INDEX (idx_created) WHERE o.created_at > '2024-05-05 10:00:00.123456'",
	"SELECT GROUP_CONCAT(name ORDER BY name SEPARATOR ', ') FROM customers WHERE region = 'EU'",
	"SELECT level, `value` FROM orders, products LIMIT 3",
	"SELECT @r := 0",
	"SELECT id FROM orders WHERE total > @min_total",
	"/* dashboard */ SELECT /*+ MAX_EXECUTION_TIME(1000) */ id FROM orders /*route='x'*/ -- tail",
	"SELECT /*!40001 SQL_NO_CACHE */ COUNT(*) FROM orders",
	"UPDATE customers SET status = 'closed', comment = 'left us' WHERE id = 3",
	"UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.status = 'shipped', o.ship_date = CURDATE() WHERE c.region = 'US'",
	"UPDATE products SET price = price * 1.10 WHERE JSON_EXTRACT(data, '$.color') = 'red'",
	"SELECT c.id, c.`name` FROM customers AS c WHERE c.`status` <> 'closed' AND c.created_at BETWEEN '2023-01-01' AND '2025-12-31'",
	"SELECT HEX(flags), BIN(flags) FROM products WHERE id = 0x10",
	"SELECT id FROM customers WHERE name REGEXP '^A' OR name SOUNDS LIKE 'Alice'",
	"SELECT TIMESTAMPDIFF(DAY, created_at, NOW()) AS age FROM orders WHERE TIME(created_at) > '12:30:00'",
	"SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() LIMIT 1",
	"SELECT COUNT(DISTINCT customer_id), AVG(total), MIN(created_at), MAX(created_at) FROM orders WHERE status IN ('new', 'shipped', 'cancelled')",
	"SELECT o.id FROM orders o WHERE o.total > ALL (SELECT AVG(total) FROM orders)",
	"SELECT name, CHAR_LENGTH(comment) FROM customers WHERE date IS NULL OR date < '2024-06-01'",
	"SELECT a.id, b.id FROM customers a JOIN customers b ON a.region = b.region AND a.id < b.id",
	"SELECT CONVERT(name USING utf8mb4) FROM customers",
	"SELECT name COLLATE utf8mb4_bin FROM customers ORDER BY name COLLATE utf8mb4_bin",
	"SELECT CONCAT_WS('-', sku, title) FROM products WHERE title LIKE 'W_dget%'",
	"SELECT * FROM orders WHERE (customer_id, status) IN ((1, 'new'), (2, 'shipped'))",
	"SELECT EXTRACT(YEAR FROM created_at), QUARTER(created_at) FROM orders",
	"SELECT 1 + 2 * 3, -5, 1e3, .5, 'it''s', \"dq\", N'nat', _utf8mb4'intro'",
	"SELECT * FROM orders WHERE id = 1 FOR UPDATE",
	"SET @x = 1; SELECT @x + 1",
	"DELETE FROM order_items WHERE quantity = 0",
	"DELETE FROM orders WHERE status = 'cancelled' AND created_at < '2020-01-01' ORDER BY id LIMIT 100",
}

// names that must not survive obfuscation.
var replicaNames = []string{"customers", "products", "orders", "order_items", "email", "created_at", "customer_id",
	"idx_status_region", "uk_email", "fk_orders_customer", "customer_totals", "weight", "min_total", "Alice", "example", "Widget"}

func TestObfuscatorReplicaOnMariaDB(t *testing.T) {
	srv := rig.Server(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The originals run: the test itself is sound.
	plain := srv.Open(t, srv.NewDatabase(t))
	for _, q := range append(append([]string{}, replicaSchema...), replicaQueries...) {
		_, err := plain.ExecContext(ctx, q)
		require.NoError(t, err, "original: %s", q)
	}

	o := NewObfuscator([]byte("acceptance key"))
	db := srv.Open(t, srv.NewDatabase(t))
	var all []string
	for _, q := range replicaSchema {
		ob, err := o.DDL(q)
		require.NoError(t, err)
		all = append(all, ob)
		_, err = db.ExecContext(ctx, ob)
		require.NoError(t, err, "DDL %s\nobfuscated: %s", q, ob)
	}
	for _, q := range replicaQueries {
		ob, err := o.Query(q)
		require.NoError(t, err)
		all = append(all, ob)
		_, err = db.ExecContext(ctx, ob)
		require.NoError(t, err, "query %s\nobfuscated: %s", q, ob)
	}
	text := strings.Join(all, "\n")
	for _, n := range replicaNames {
		require.NotRegexp(t, `(?i)\b`+regexp.QuoteMeta(n)+`\b`, text, "name %q survived", n)
	}
	for _, n := range []string{"dashboard", "route", "MAX_EXECUTION_TIME"} {
		require.NotContains(t, text, n, "comment or hint survived")
	}

	// The same key gives the same text; a different key different names.
	o2 := NewObfuscator([]byte("acceptance key"))
	for _, q := range replicaSchema {
		_, err := o2.DDL(q)
		require.NoError(t, err)
	}
	again, err := o2.Query(replicaQueries[10])
	require.NoError(t, err)
	require.Equal(t, all[len(replicaSchema)+10], again)

	other := NewObfuscator([]byte("another key"))
	a, err := o.Query("SELECT email FROM customers")
	require.NoError(t, err)
	b, err := other.Query("SELECT email FROM customers")
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	require.NotEqual(t, identsOf(a), identsOf(b))
}

func identsOf(q string) []string { return regexp.MustCompile(`\bo[a-z2-7]{9}\b`).FindAllString(q, -1) }

// Ident gives the name Query and DDL write for the same identifier, quoted
// or not, whatever its case.
func TestObfuscatorIdentMatchesQuery(t *testing.T) {
	o := NewObfuscator([]byte("k"))
	for _, q := range []string{"SELECT a FROM Orders", "SELECT a FROM `orders`", "SELECT a FROM ORDERS"} {
		got, err := o.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, o.Ident("orders")) {
			t.Fatalf("%q -> %q does not contain Ident(orders) = %q", q, got, o.Ident("orders"))
		}
	}
	if NewObfuscator([]byte("other")).Ident("orders") == o.Ident("orders") {
		t.Fatal("another key gives the same name")
	}
}
