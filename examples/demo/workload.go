package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

// A statement of the workload: its route (the sqlcommenter tag the report
// groups by), whether it runs as a prepared statement, and how it draws its
// arguments.
type shape struct {
	route    string
	sql      string
	prepared bool
	weight   int
	args     func(r *rand.Rand) []any
}

// shapes is the workload: mostly ordinary API queries, plus the three routes
// whose shadow side was planted to differ, and a non-deterministic one that
// the report must call noise, not a difference.
var shapes = []shape{
	{route: "customer-orders", prepared: true, weight: 6,
		sql:  "SELECT id, amount, status FROM orders WHERE customer_id = ? ORDER BY id /*route='customer-orders'*/",
		args: func(r *rand.Rand) []any { return []any{1 + r.IntN(numCustomers)} }},
	{route: "order-detail", prepared: true, weight: 6,
		sql:  "SELECT id, customer_id, amount, currency, status, created FROM orders WHERE id = ? /*route='order-detail'*/",
		args: func(r *rand.Rand) []any { return []any{1 + r.IntN(numOrders)} }},
	{route: "region-customers", weight: 3,
		sql:  "/*route='region-customers'*/ SELECT COUNT(*) FROM customers WHERE region = '%s'",
		args: func(r *rand.Rand) []any { return []any{[]string{"emea", "amer", "apac", "latam"}[r.IntN(4)]} }},
	{route: "audit-trail", weight: 4, // planted: slower on the shadow
		sql:  "/*route='audit-trail'*/ SELECT COUNT(*) FROM audit_log WHERE tenant = 1 AND customer_id = %d",
		args: func(r *rand.Rand) []any { return []any{1 + r.IntN(numCustomers)} }},
	{route: "loyalty", weight: 2, // planted: fails on the shadow
		sql:  "/*route='loyalty'*/ SELECT loyalty_points FROM customers WHERE id = %d",
		args: func(r *rand.Rand) []any { return []any{1 + r.IntN(numCustomers)} }},
	{route: "fx-convert", prepared: true, weight: 2, // planted: another answer on the shadow
		sql:  "SELECT CAST(SUM(o.amount * r.rate) AS DECIMAL(20,4)) FROM orders o JOIN fx_rates r ON r.currency = o.currency WHERE o.currency = 'BRL' AND o.customer_id = ? /*route='fx-convert'*/",
		args: func(r *rand.Rand) []any { return []any{1 + 4*r.IntN(numCustomers/4) + 3} }},
	{route: "request-id", weight: 1, // noise: UUID() differs by nature
		sql:  "/*route='request-id'*/ SELECT UUID(), %d",
		args: func(r *rand.Rand) []any { return []any{r.IntN(10)} }},
}

type workloadResult struct {
	statements, clientErrors int
}

// runWorkload runs n statements through the proxy from clients concurrent
// connections, calling tick after each.
// beforeClose, when not nil, runs after the statements and before the
// sessions close.
func runWorkload(ctx context.Context, proxyAddr, user, password string, n, clients int, tick func(done, total int), beforeClose func()) (workloadResult, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", proxyAddr, demoDB
	cfg.Timeout = 10 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return workloadResult{}, err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(clients)
	db.SetMaxIdleConns(clients)
	if err := db.PingContext(ctx); err != nil {
		return workloadResult{}, fmt.Errorf("connect through the proxy: %w", err)
	}

	total := 0
	for _, s := range shapes {
		total += s.weight
	}
	var done, clientErrs atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg, finished sync.WaitGroup
	release := make(chan struct{})
	per := n / clients
	for c := 0; c < clients; c++ {
		count := per
		if c == 0 {
			count += n - per*clients
		}
		wg.Add(1)
		finished.Add(1)
		go func(seed uint64, count int) {
			defer wg.Done()
			markFinished := sync.OnceFunc(finished.Done)
			defer markFinished()
			r := rand.New(rand.NewPCG(seed, 42))
			// Each client is one session: prepared statements live on it.
			sess, err := db.Conn(ctx)
			if err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
			defer func() { markFinished(); <-release; sess.Close() }()
			stmts := map[string]*sql.Stmt{}
			defer func() {
				for _, st := range stmts {
					st.Close()
				}
			}()
			for i := 0; i < count && ctx.Err() == nil; i++ {
				pick := r.IntN(total)
				var s shape
				for _, s = range shapes {
					if pick < s.weight {
						break
					}
					pick -= s.weight
				}
				args := s.args(r)
				var rows *sql.Rows
				if s.prepared {
					st, ok := stmts[s.route]
					if !ok {
						if st, err = sess.PrepareContext(ctx, s.sql); err != nil {
							errOnce.Do(func() { firstErr = fmt.Errorf("prepare %s: %w", s.route, err) })
							return
						}
						stmts[s.route] = st
					}
					rows, err = st.QueryContext(ctx, args...)
				} else {
					rows, err = sess.QueryContext(ctx, fmt.Sprintf(s.sql, args...))
				}
				if err == nil {
					for rows.Next() {
					}
					err = rows.Err()
					rows.Close()
				}
				if err != nil {
					clientErrs.Add(1)
				}
				tick(int(done.Add(1)), n)
			}
		}(uint64(c+1), count)
	}
	finished.Wait()
	if beforeClose != nil {
		beforeClose()
	}
	close(release)
	wg.Wait()
	if firstErr != nil {
		return workloadResult{}, firstErr
	}
	return workloadResult{statements: int(done.Load()), clientErrors: int(clientErrs.Load())}, ctx.Err()
}
