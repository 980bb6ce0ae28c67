package baseline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestBaselineOnMariaDB runs the harness against a real MariaDB server. One
// server serves all cases, for the life of this test.
func TestBaselineOnMariaDB(t *testing.T) {
	srv, err := testdb.Start(nil)
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	defer srv.Remove()
	db := srv.Open(t, srv.NewDatabase(t))
	db.SetMaxOpenConns(4)
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `
		CREATE TABLE customers (id INT PRIMARY KEY, region VARCHAR(8) NOT NULL);
		CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(10,2) NOT NULL, score DOUBLE NOT NULL);
		INSERT INTO customers SELECT seq, ELT(1 + seq % 3, 'emea', 'amer', 'apac') FROM seq_1_to_200;
		INSERT INTO orders SELECT seq, 1 + seq % 200, (seq % 1000) / 10, seq / 7 FROM seq_1_to_20000;`)
	require.NoError(t, err)

	run := func(t *testing.T, base, cand string, opts *Options) *Report {
		t.Helper()
		h, err := New(db, db, base, cand, opts)
		require.NoError(t, err)
		rep, err := h.Run(ctx)
		require.NoError(t, err)
		var js bytes.Buffer
		require.NoError(t, rep.WriteJSON(&js))
		var back map[string]any
		require.NoError(t, json.Unmarshal(js.Bytes(), &back))
		require.Equal(t, string(rep.Outcome), back["verdict"])
		var md bytes.Buffer
		require.NoError(t, rep.WriteMarkdown(&md))
		require.Contains(t, md.String(), strings.ToUpper(string(rep.Outcome)))
		return rep
	}

	t.Run("equivalent rewrite passes", func(t *testing.T) {
		base := "SELECT c.region, SUM(o.amount) AS total FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.region ORDER BY c.region"
		cand := "SELECT c.region, (SELECT SUM(o.amount) FROM orders o WHERE o.customer_id IN (SELECT id FROM customers c2 WHERE c2.region = c.region)) AS total FROM (SELECT DISTINCT region FROM customers) c ORDER BY 1"
		// A wide tolerance: this machine is shared and noisy; the point is that
		// equal rows and equal speed reach a pass.
		rep := run(t, base, base, &Options{Runs: 20, Tolerance: 1.0})
		require.Equal(t, compare.VerdictPass, rep.Outcome, rep.Reasons)
		require.True(t, rep.Rows.Equal)
		require.True(t, rep.Rows.Ordered)
		require.Equal(t, "mariadb", rep.Engine)
		require.NotEmpty(t, rep.Schema)
		require.Contains(t, rep.Baseline.Stats, "rows_examined")
		// A rewrite with other SQL: rows are equal; latency may go either way.
		rep = run(t, base, cand, &Options{Runs: 5})
		require.True(t, rep.Rows.Equal, rep.Rows)
		require.NotEmpty(t, rep.PlanChanges, "another query shape has another plan")
	})

	t.Run("different rows fail with examples", func(t *testing.T) {
		rep := run(t,
			"SELECT id, amount FROM orders WHERE customer_id = 7",
			"SELECT id, amount FROM orders WHERE customer_id = 7 AND amount > 10",
			&Options{Runs: 5})
		require.Equal(t, compare.VerdictFail, rep.Outcome)
		require.False(t, rep.Rows.Equal)
		require.Positive(t, rep.Rows.BaselineOnly)
		require.Zero(t, rep.Rows.CandidateOnly)
		require.NotEmpty(t, rep.Rows.Examples)
		require.Equal(t, "baseline", rep.Rows.Examples[0].Side)
		require.Contains(t, rep.Reasons[0], "rows differ")
	})

	t.Run("decimal formatting and float noise are not differences", func(t *testing.T) {
		rep := run(t,
			"SELECT customer_id, SUM(amount) AS s, SUM(score) AS f FROM orders GROUP BY customer_id",
			"SELECT customer_id, CAST(SUM(amount) AS DECIMAL(20,4)) AS s, SUM(score) * (1 + 1e-13) AS f FROM orders GROUP BY customer_id",
			&Options{Runs: 5})
		require.True(t, rep.Rows.Equal, rep.Rows.Examples)
	})

	t.Run("order difference is found", func(t *testing.T) {
		rep := run(t,
			"SELECT id FROM orders WHERE customer_id = 3 ORDER BY id",
			"SELECT id FROM orders WHERE customer_id = 3 ORDER BY id DESC",
			&Options{Runs: 5})
		require.Equal(t, compare.VerdictFail, rep.Outcome)
		require.True(t, rep.Rows.Ordered)
		require.False(t, rep.Rows.OrderEqual)
	})

	t.Run("an index changes the plan and the diff names it", func(t *testing.T) {
		q := "SELECT id, amount FROM orders WHERE customer_id = 42"
		h, err := New(db, db, q, q, &Options{Runs: 3})
		require.NoError(t, err)
		before, err := h.Run(ctx)
		require.NoError(t, err)
		require.Empty(t, before.PlanChanges)
		_, err = db.ExecContext(ctx, "CREATE INDEX idx_customer ON orders (customer_id)")
		require.NoError(t, err)
		defer db.ExecContext(ctx, "DROP INDEX idx_customer ON orders") //nolint:errcheck
		after, err := h.Run(ctx)
		require.NoError(t, err)
		changes := diffSides(t, before.Baseline, after.Candidate)
		require.Contains(t, changes, "key=idx_customer")
		require.Contains(t, changes, "ALL")
	})

	t.Run("a deliberately slow candidate fails", func(t *testing.T) {
		base := "SELECT COUNT(*) FROM orders WHERE customer_id = 9"
		// The derived table sleeps once per run: 30 ms on top of a scan of
		// a few milliseconds.
		cand := "SELECT COUNT(*) FROM orders, (SELECT SLEEP(0.03) AS s) AS d WHERE customer_id = 9 AND d.s = 0"
		rep := run(t, base, cand, &Options{Runs: 10})
		require.Equal(t, compare.VerdictFail, rep.Outcome, rep.Reasons)
		require.True(t, rep.Rows.Equal)
		require.Greater(t, rep.Latency.CILow, 1.1)
		require.Contains(t, strings.Join(rep.Reasons, " "), "slower")
	})

	t.Run("too few runs are inconclusive", func(t *testing.T) {
		q := "SELECT id FROM customers WHERE region = 'emea'"
		rep := run(t, q, q, &Options{Runs: 2, Warmup: -1})
		require.Equal(t, compare.VerdictInconclusive, rep.Outcome, rep.Reasons)
		require.Contains(t, rep.Reasons[0], "too few runs")
	})

	t.Run("a failing candidate fails with its error", func(t *testing.T) {
		rep := run(t, "SELECT id FROM customers", "SELECT id, no_such_column FROM customers", &Options{Runs: 3})
		require.Equal(t, compare.VerdictFail, rep.Outcome)
		require.Equal(t, uint16(1054), rep.Candidate.ErrorCode)
	})
}

func diffSides(t *testing.T, a, b Side) string {
	t.Helper()
	require.NotNil(t, a.Plan)
	require.NotNil(t, b.Plan)
	return fmt.Sprint(planDiff(a, b))
}
