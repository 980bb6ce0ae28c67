package main

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEnginesDifferOnlyWherePlanted(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	p, err := startEngine(ctx, "primary", false)
	t.Logf("primary loaded in %v", time.Since(start))
	require.NoError(t, err)
	defer p.Close()
	start = time.Now()
	s, err := startEngine(ctx, "shadow", true)
	t.Logf("shadow loaded in %v", time.Since(start))
	require.NoError(t, err)
	defer s.Close()
	open := func(e *engine) *sql.DB {
		db, err := sql.Open("mysql", "root@tcp("+e.Addr()+")/"+demoDB)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	pdb, sdb := open(p), open(s)
	one := func(db *sql.DB, q string, args ...any) (string, time.Duration, error) {
		start := time.Now()
		var v string
		err := db.QueryRow(q, args...).Scan(&v)
		return v, time.Since(start), err
	}
	q := "SELECT SUM(o.amount * r.rate) FROM orders o JOIN fx_rates r ON r.currency = o.currency WHERE o.currency = ?"
	a, d, err := one(pdb, q, "BRL")
	t.Logf("fx %v", d)
	require.NoError(t, err)
	b, _, err := one(sdb, q, "BRL")
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	a, _, err = one(pdb, q, "EUR")
	require.NoError(t, err)
	b, _, err = one(sdb, q, "EUR")
	require.NoError(t, err)
	require.Equal(t, a, b)

	_, _, err = one(pdb, "SELECT loyalty_points FROM customers WHERE id = ?", 5)
	require.NoError(t, err)
	_, _, err = one(sdb, "SELECT loyalty_points FROM customers WHERE id = ?", 5)
	require.Error(t, err)

	aq := "SELECT COUNT(*) FROM audit_log WHERE tenant = 1 AND customer_id = ?"
	var pd, sd time.Duration
	for i := 0; i < 10; i++ {
		a, d1, err := one(pdb, aq, i+1)
		require.NoError(t, err)
		b, d2, err := one(sdb, aq, i+1)
		require.NoError(t, err)
		require.Equal(t, a, b)
		pd += d1
		sd += d2
	}
	t.Logf("audit primary %v shadow %v", pd/10, sd/10)
	for _, q := range []string{"SELECT id, amount, status FROM orders WHERE customer_id = ? ORDER BY id", "SELECT id, amount FROM orders WHERE id = ?"} {
		rows, err := pdb.Query(q, 77)
		require.NoError(t, err)
		rows.Close()
		_, d, err := one(pdb, "SELECT COUNT(*) FROM orders WHERE customer_id = ?", 77)
		require.NoError(t, err)
		t.Logf("%s %v", q, d)
	}
}
