package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	gms "github.com/dolthub/go-mysql-server/sql"
	_ "github.com/go-sql-driver/mysql"
	"github.com/shopspring/decimal"
	"github.com/sirupsen/logrus"
)

// demoDB is the database the demo's workload runs in.
const demoDB = "shop"

// Sizes of the synthetic data set: small enough to load in a second, large
// enough that a planted full scan is measurably slower than a lookup.
const (
	numCustomers = 500
	numOrders    = 5000
	// shadowAuditNoise is how many extra audit rows only the shadow has: the
	// audit query filters them out (same answer) but scans them (slower).
	shadowAuditNoise = 40000
	numAudit         = 1000
)

// engine is an embedded go-mysql-server on 127.0.0.1.
type engine struct {
	name string
	srv  *server.Server
	ln   net.Listener
	done chan struct{}
}

func (e *engine) Addr() string { return e.ln.Addr().String() }

func (e *engine) Close() {
	_ = e.srv.Close()
	<-e.done
}

// startEngine starts an in-memory engine with the demo schema and data. The
// shadow differs from the primary in three planted ways:
//
//   - slower: its audit_log holds many extra rows of another tenant, which the
//     audit query filters out (same answer) but must scan (route
//     "audit-trail");
//   - failing: its customers table lacks the loyalty_points column (route
//     "loyalty": an unknown-column error only on the shadow);
//   - wrong answer: one exchange rate differs (route "fx-convert").
func startEngine(ctx context.Context, name string, shadow bool) (*engine, error) {
	// go-mysql-server logs every connection and every failed query through
	// logrus' standard logger; the planted failures would flood the demo.
	logrus.SetLevel(logrus.FatalLevel)
	db := memory.NewDatabase(demoDB)
	pro := memory.NewDBProvider(db)
	eng := sqle.NewDefault(pro)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv, err := server.NewServer(server.Config{Protocol: "tcp", Listener: ln, Version: "8.0.33-sqlshadow-demo-" + name},
		eng, gms.NewContext, memory.NewSessionBuilder(pro), nil)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	e := &engine{name: name, srv: srv, ln: ln, done: make(chan struct{})}
	go func() { defer close(e.done); _ = srv.Start() }()

	if err := e.load(ctx, pro, db, shadow); err != nil {
		e.Close()
		return nil, fmt.Errorf("%s: load data: %w", name, err)
	}
	return e, nil
}

func (e *engine) load(ctx context.Context, pro *memory.DbProvider, db *memory.Database, shadow bool) error {
	conn, err := sql.Open("mysql", "root@tcp("+e.Addr()+")/"+demoDB)
	if err != nil {
		return err
	}
	defer conn.Close()
	loyalty := "loyalty_points INT NOT NULL DEFAULT 0, "
	if shadow {
		loyalty = ""
	}
	ddl := []string{
		"CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, region VARCHAR(16) NOT NULL, " + loyalty + "created DATETIME NOT NULL)",
		"CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(10,2) NOT NULL, currency CHAR(3) NOT NULL, status VARCHAR(16) NOT NULL, created DATETIME NOT NULL, INDEX idx_customer (customer_id))",
		"CREATE TABLE audit_log (id INT NOT NULL, tenant INT NOT NULL, customer_id INT NOT NULL, action VARCHAR(16) NOT NULL, at DATETIME NOT NULL)",
		"CREATE TABLE fx_rates (currency CHAR(3) PRIMARY KEY, rate DECIMAL(12,6) NOT NULL)",
	}
	for _, q := range ddl {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	// Rows go in through the engine's API (SQL inserts are far slower), in
	// one session whose transaction is committed at the end.
	sess := memory.NewSession(gms.NewBaseSession(), pro)
	sctx := gms.NewContext(ctx, gms.WithSession(sess))
	if _, err := sess.StartTransaction(sctx, gms.ReadWrite); err != nil {
		return err
	}
	insert := func(table string, rows func(add func(gms.Row) error) error) error {
		t, ok, err := db.GetTableInsensitive(sctx, table)
		if err != nil || !ok {
			return fmt.Errorf("table %s: %v", table, err)
		}
		ins := t.(*memory.Table).Inserter(sctx)
		if err := rows(func(r gms.Row) error { return ins.Insert(sctx, r) }); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		return ins.Close(sctx)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	regions := []string{"emea", "amer", "apac", "latam"}
	currencies := []string{"EUR", "USD", "JPY", "BRL"}
	err = insert("customers", func(add func(gms.Row) error) error {
		for i := 1; i <= numCustomers; i++ {
			r := gms.Row{int32(i), fmt.Sprintf("customer-%04d", i), regions[i%len(regions)]}
			if !shadow {
				r = append(r, int32(i*7%500))
			}
			if err := add(append(r, base.Add(time.Duration(i)*time.Hour))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = insert("orders", func(add func(gms.Row) error) error {
		for i := 1; i <= numOrders; i++ {
			amt := decimal.New(int64(i*37%100000), -2)
			r := gms.Row{int32(i), int32(i%numCustomers + 1), amt, currencies[i%len(currencies)],
				[]string{"paid", "shipped", "refunded"}[i%3], base.Add(time.Duration(i) * time.Minute)}
			if err := add(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = insert("audit_log", func(add func(gms.Row) error) error {
		n := numAudit
		if shadow {
			n += shadowAuditNoise
		}
		for i := 1; i <= n; i++ {
			tenant := int32(1)
			if i > numAudit {
				tenant = 2 // rows of another tenant: filtered out by the query
			}
			if err := add(gms.Row{int32(i), tenant, int32(i%numCustomers + 1), "login", base.Add(time.Duration(i) * time.Second)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = insert("fx_rates", func(add func(gms.Row) error) error {
		rates := map[string]string{"EUR": "1.000000", "USD": "0.920000", "JPY": "0.006100", "BRL": "0.170000"}
		if shadow {
			rates["BRL"] = "0.190000" // the planted wrong answer
		}
		for _, c := range currencies {
			if err := add(gms.Row{c, decimal.RequireFromString(rates[c])}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return sess.CommitTransaction(sctx, nil)
}
