package hashing

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// benchCorpus is a realistic mixed corpus: point lookups, analytical
// queries, IN-lists, multi-row INSERTs, hex and date literals, comments,
// hints and sqlcommenter tags.
func benchCorpus() []string {
	r := rand.New(rand.NewPCG(1, 2))
	var qs []string
	for i := 0; i < 200; i++ {
		switch i % 8 {
		case 0:
			qs = append(qs, fmt.Sprintf("SELECT id, name, email FROM customers WHERE id = %d /*route='profile',controller='users'*/", r.IntN(1e6)))
		case 1:
			ids := make([]string, 5+r.IntN(200))
			for j := range ids {
				ids[j] = fmt.Sprint(r.IntN(1e7))
			}
			qs = append(qs, "SELECT o.id, o.total FROM orders o WHERE o.customer_id IN ("+strings.Join(ids, ", ")+") AND o.status = 'shipped'")
		case 2:
			rows := make([]string, 10+r.IntN(100))
			for j := range rows {
				rows[j] = fmt.Sprintf("(%d, 'item-%d', %d.%02d, '2024-%02d-%02d 12:00:00', 0x%X)", j, r.IntN(1e5), r.IntN(1000), r.IntN(100), 1+r.IntN(12), 1+r.IntN(28), r.Uint32())
			}
			qs = append(qs, "INSERT INTO order_items (order_id, sku, price, created_at, flags) VALUES "+strings.Join(rows, ",\n  "))
		case 3:
			qs = append(qs, fmt.Sprintf(`/* dashboard: revenue */
SELECT /*+ SET_VAR(query_timeout = 300) */ date_trunc('day', o.created_at) AS day,
       c.region, SUM(o.total) AS revenue, COUNT(DISTINCT o.customer_id) AS buyers
FROM orders o
JOIN customers c ON c.id = o.customer_id
WHERE o.created_at >= '2024-%02d-01' AND o.created_at < DATE '2024-%02d-01' -- month window
  AND c.segment IN ('enterprise', 'smb', 'consumer')
GROUP BY 1, 2
HAVING SUM(o.total) > %d.5
ORDER BY revenue DESC
LIMIT 100`, 1+r.IntN(12), 1+r.IntN(12), r.IntN(10000)))
		case 4:
			qs = append(qs, fmt.Sprintf("UPDATE accounts SET balance = balance - %d.%02d, updated_at = NOW() WHERE account_id = %d AND version = %d", r.IntN(1000), r.IntN(100), r.IntN(1e6), r.IntN(50)))
		case 5:
			qs = append(qs, fmt.Sprintf("SELECT `t1`.`col_a`, t2.col_b FROM `db1`.`t1` LEFT JOIN t2 USING (id) WHERE t1.x BETWEEN %d AND %d AND t2.flag = b'1' AND t2.blob_col = X'%08X' # tail comment", r.IntN(100), 100+r.IntN(100), r.Uint32()))
		case 6:
			qs = append(qs, fmt.Sprintf("DELETE FROM sessions WHERE expires_at < '2024-05-%02d 00:00:00' AND user_id NOT IN (SELECT id FROM admins) LIMIT %d", 1+r.IntN(28), r.IntN(1000)))
		case 7:
			qs = append(qs, fmt.Sprintf("SELECT COUNT(*) FROM events WHERE tenant = 'acme-%d' AND kind IN ('click','view','purchase') AND ts > %d AND payload->>'$.source' = \"web\"", r.IntN(100), 1700000000+r.IntN(1e6)))
		}
	}
	return qs
}

func benchmarkCorpus(b *testing.B, fn func(string)) {
	qs := benchCorpus()
	n := 0
	for _, q := range qs {
		n += len(q)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	loops := 0
	for b.Loop() {
		for _, q := range qs {
			fn(q)
		}
		loops++
	}
	// MB per second of CPU time on this thread: the one-core figure,
	// unaffected by other processes competing for the machine.
	if cpu := threadCPU() - start; cpu > 0 {
		b.ReportMetric(float64(n)*float64(loops)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}

// BenchmarkFingerprint measures Fingerprint over the mixed corpus; its MB/s
// figure is the one quoted in the package documentation.
func BenchmarkFingerprint(b *testing.B) {
	benchmarkCorpus(b, func(q string) { Fingerprint(q) })
}

func BenchmarkTemplateHash(b *testing.B) {
	benchmarkCorpus(b, func(q string) { TemplateHash(q) })
}

func BenchmarkClassify(b *testing.B) {
	benchmarkCorpus(b, func(q string) { Classify(q) })
}

// BenchmarkClassifyShort is the per-statement cost on typical short
// statements, as a proxy pays it.
func BenchmarkClassifyShort(b *testing.B) {
	qs := []string{
		"SELECT * FROM t WHERE id = 42",
		"SET NAMES utf8mb4",
		"USE shop",
		"BEGIN",
		"UPDATE t SET a = 1 WHERE id = 2",
		"SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c",
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, q := range qs {
			Classify(q)
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	benchmarkCorpus(b, func(q string) { Split(q) })
}

func BenchmarkTags(b *testing.B) {
	benchmarkCorpus(b, func(q string) { Tags(q) })
}

func BenchmarkNonDeterministic(b *testing.B) {
	benchmarkCorpus(b, func(q string) { NonDeterministic(q) })
}

func BenchmarkObfuscatorQuery(b *testing.B) {
	o := NewObfuscator([]byte("bench"))
	benchmarkCorpus(b, func(q string) {
		if _, err := o.Query(q); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkQueryHash measures QueryHash, which the query log runs on every
// record's statement text.
func BenchmarkQueryHash(b *testing.B) {
	benchmarkCorpus(b, func(q string) { QueryHash(q) })
}
