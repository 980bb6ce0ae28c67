package main

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/profile"
	"github.com/sqlshadow/sqlshadow/sink"
)

// backends are the primary and shadow the demo runs against: embedded
// go-mysql-server engines by default, local MariaDB servers with -mariadb.
type backends struct {
	primaryAddr, shadowAddr string
	user, password          string
	// profiles, when set, starts collecting execution profiles of both
	// servers into w; poll collects at once (call it while the client
	// connections are still open: the server's thread table maps statements
	// to connection ids only while they are), stop ends the collection.
	profiles func(ctx context.Context, w sink.Sink) (poll, stop func(), err error)
	closers  []func()
}

func (b *backends) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// embeddedBackends starts the two go-mysql-server engines.
func embeddedBackends(ctx context.Context) (*backends, error) {
	b := &backends{user: "root"}
	primary, err := startEngine(ctx, "primary", false)
	if err != nil {
		return nil, err
	}
	b.closers = append(b.closers, primary.Close)
	shadow, err := startEngine(ctx, "shadow", true)
	if err != nil {
		b.close()
		return nil, err
	}
	b.closers = append(b.closers, shadow.Close)
	b.primaryAddr, b.shadowAddr = primary.Addr(), shadow.Addr()
	return b, nil
}

// mariadbAuditNoise is the other tenant's rows the MariaDB shadow holds.
const mariadbAuditNoise = 8000

// mariadbSchema is the demo schema for MariaDB; the shadow differs as the
// embedded one does (see startEngine), except that its slow shape comes from
// a missing index (the primary's audit query reads a few rows through
// idx_tenant_customer, the shadow's scans the table), which the profiles
// show as rows examined.
func mariadbSchema(shadow bool) []string {
	loyalty, auditIndex, brl := "loyalty_points INT NOT NULL DEFAULT 0, ", ", INDEX idx_tenant_customer (tenant, customer_id)", "0.170000"
	auditRows := numAudit
	if shadow {
		loyalty, auditIndex, brl = "", "", "0.190000"
		// Without the index a few thousand rows make the audit query many
		// times slower, without loading the shared host so much that the
		// shadow's other queries slow down too.
		auditRows += mariadbAuditNoise
	}
	return []string{
		"CREATE DATABASE " + demoDB,
		"USE " + demoDB,
		"CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, region VARCHAR(16) NOT NULL, " + loyalty + "created DATETIME NOT NULL)",
		"CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(10,2) NOT NULL, currency CHAR(3) NOT NULL, status VARCHAR(16) NOT NULL, created DATETIME NOT NULL, INDEX idx_customer (customer_id))",
		"CREATE TABLE audit_log (id INT NOT NULL, tenant INT NOT NULL, customer_id INT NOT NULL, action VARCHAR(16) NOT NULL, at DATETIME NOT NULL" + auditIndex + ")",
		"CREATE TABLE fx_rates (currency CHAR(3) PRIMARY KEY, rate DECIMAL(12,6) NOT NULL)",
		fmt.Sprintf("INSERT INTO customers (id, name, region, created) SELECT seq, CONCAT('customer-', LPAD(seq, 4, '0')), ELT(1 + seq %% 4, 'amer', 'apac', 'latam', 'emea'), '2026-01-01' + INTERVAL seq HOUR FROM seq_1_to_%d", numCustomers),
		fmt.Sprintf("INSERT INTO orders SELECT seq, seq %% %d + 1, (seq * 37 %% 100000) / 100, ELT(1 + seq %% 4, 'EUR', 'USD', 'JPY', 'BRL'), ELT(1 + seq %% 3, 'paid', 'shipped', 'refunded'), '2026-01-01' + INTERVAL seq MINUTE FROM seq_1_to_%d", numCustomers, numOrders),
		fmt.Sprintf("INSERT INTO audit_log SELECT seq, IF(seq > %d, 2, 1), seq %% %d + 1, 'login', '2026-01-01' + INTERVAL seq SECOND FROM seq_1_to_%d", numAudit, numCustomers, auditRows),
		"INSERT INTO fx_rates VALUES ('EUR', 1), ('USD', 0.92), ('JPY', 0.0061), ('BRL', " + brl + ")",
	}
}

// mariadbBackends starts two throwaway MariaDB servers (internal/mariadb: on
// 127.0.0.1, in temporary directories) with performance_schema on, so the
// demo also collects and joins execution profiles.
func mariadbBackends(ctx context.Context) (*backends, error) {
	if err := mariadb.Available(); err != nil {
		return nil, fmt.Errorf("-mariadb: %w", err)
	}
	b := &backends{user: mariadb.User, password: mariadb.Password}
	var servers [2]*mariadb.Server
	for i, shadow := range []bool{false, true} {
		srv, err := mariadb.Start(nil)
		if err != nil {
			b.close()
			return nil, err
		}
		b.closers = append(b.closers, func() { _ = srv.Remove() })
		servers[i] = srv
		root, err := sql.Open("mysql", srv.RootDSN(""))
		if err != nil {
			b.close()
			return nil, err
		}
		conn, err := root.Conn(ctx)
		if err == nil {
			for _, q := range mariadbSchema(shadow) {
				if _, err = conn.ExecContext(ctx, q); err != nil {
					err = fmt.Errorf("%s: %w", q, err)
					break
				}
			}
			conn.Close()
		}
		root.Close()
		if err != nil {
			b.close()
			return nil, err
		}
	}
	b.primaryAddr, b.shadowAddr = servers[0].Addr(), servers[1].Addr()
	b.profiles = func(ctx context.Context, w sink.Sink) (func(), func(), error) {
		return collectProfiles(ctx, w, servers[0], servers[1])
	}
	return b, nil
}

// collectProfiles runs one performance_schema collector per server, named
// "primary" and "shadow" as the report expects, polling until stop is called.
func collectProfiles(ctx context.Context, w sink.Sink, primary, shadow *mariadb.Server) (poll, stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex // one poll at a time per collector
		dbs        []*sql.DB
		collectors []*profile.Collector
	)
	poll = func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range collectors {
			_ = c.Poll(ctx)
		}
	}
	stop = func() {
		cancel()
		wg.Wait()
		for _, db := range dbs {
			db.Close()
		}
	}
	for _, s := range []struct {
		cluster string
		srv     *mariadb.Server
	}{{"primary", primary}, {"shadow", shadow}} {
		db, err := sql.Open("mysql", s.srv.RootDSN(""))
		if err != nil {
			stop()
			return nil, nil, err
		}
		dbs = append(dbs, db)
		src := profile.NewPerfSchemaSource(db, s.srv.Addr(), &profile.PerfSchemaOptions{Cluster: s.cluster, NoDigests: true})
		if err := src.EnableConsumers(ctx); err != nil {
			stop()
			return nil, nil, err
		}
		c, err := profile.NewCollector(w, profile.StaticDiscovery(s.srv.Addr()), &profile.Options{
			Cluster:   s.cluster,
			NewSource: func(string) (profile.ProfileSource, error) { return src, nil },
		})
		if err != nil {
			stop()
			return nil, nil, err
		}
		collectors = append(collectors, c)
	}
	poll() // the baseline: statements before the workload are not its own
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(300 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				poll()
			}
		}
	}()
	return poll, stop, nil
}
