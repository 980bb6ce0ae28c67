package certify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/replay"
)

// mixedRows is the size of the built-in workload's table.
const mixedRows = 1000

// mixedSetup creates the built-in workload's database and table, with the
// same rows on every server.
func mixedSetup(ctx context.Context, db *sql.DB, database string) error {
	stmts := []string{
		"CREATE DATABASE IF NOT EXISTS `" + database + "`",
		"CREATE TABLE IF NOT EXISTS `" + database + "`.certify_mixed (id INT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(32) NOT NULL)",
	}
	var b strings.Builder
	b.WriteString("INSERT IGNORE INTO `" + database + "`.certify_mixed (id, v, s) VALUES ")
	for i := 1; i <= mixedRows; i++ {
		if i > 1 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "(%d,%d,'row-%d')", i, i*37%1009, i)
	}
	stmts = append(stmts, b.String())
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// idTag marks a statement of the built-in workload with its id, so that the
// run finds its query-log records.
const idTag = "/*certify:"

// idOf returns the certify id in a statement's text ("" if none).
func idOf(text string) string {
	i := strings.Index(text, idTag)
	if i < 0 {
		return ""
	}
	rest := text[i+len(idTag):]
	j := strings.Index(rest, "*/")
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// workload runs a workload step until its duration ends.
func (rn *run) workload(ctx context.Context, w *Workload) (string, error) {
	d, clients, rate := w.Duration, w.Clients, w.Rate
	if d == 0 {
		d = 30 * time.Second
	}
	if clients == 0 {
		clients = 4
	}
	if rate == 0 {
		rate = 50
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var obs []observation
	var err error
	if w.Replay != nil {
		obs, err = rn.replay(wctx, w.Replay, clients)
	} else {
		per := make([][]observation, clients)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				per[i] = rn.mixedClient(wctx, i, rate)
			}()
		}
		wg.Wait()
		for _, p := range per {
			obs = append(obs, p...)
		}
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	failed := 0
	for _, o := range obs {
		if !o.ok {
			failed++
		}
	}
	rn.mu.Lock()
	rn.obs = append(rn.obs, obs...)
	rn.mu.Unlock()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d statements from %d clients, %d failed (the assertions place them against the fault windows)", len(obs), clients, failed), nil
}

// mixedClient runs the built-in mixed workload on one connection through
// the proxy at rate statements per second until ctx ends: point selects,
// range aggregates, a division whose scale depends on a session variable,
// and prepared statements.
func (rn *run) mixedClient(ctx context.Context, client int, rate float64) []observation {
	db := rn.open(rn.proxyAddr, rn.database())
	defer db.Close()
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	var obs []observation
	timer := time.NewTimer(0)
	defer timer.Stop()
	for n := 0; ; n++ {
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return obs
		case <-timer.C:
		}
		next = next.Add(interval)
		if now := time.Now(); next.Before(now.Add(-interval)) {
			next = now // behind: do not burst to catch up
		}
		id := fmt.Sprintf("%s-%d-%d", rn.runID, client, n)
		k := 1 + (n*7919+client*104729)%mixedRows
		var query string
		var args []any
		switch n % 4 {
		case 0:
			query = fmt.Sprintf("SELECT %s%s*/ v, s FROM certify_mixed WHERE id = %d", idTag, id, k)
		case 1:
			query = fmt.Sprintf("SELECT %s%s*/ COUNT(*), SUM(v) FROM certify_mixed WHERE id BETWEEN %d AND %d", idTag, id, k, k+50)
		case 2:
			query = fmt.Sprintf("SELECT %s%s*/ id / 7 FROM certify_mixed WHERE id = %d", idTag, id, k)
		case 3:
			query, args, id = "SELECT v FROM certify_mixed WHERE id = ?", []any{k}, ""
		}
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		start := time.Now()
		rows, err := db.QueryContext(qctx, query, args...)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		cancel()
		obs = append(obs, observation{start: start, dur: time.Since(start), ok: err == nil, id: id})
	}
}

// replay replays a captured log through the proxy until ctx ends, starting
// over at its end; each statement's run is an observation.
func (rn *run) replay(ctx context.Context, spec *ReplaySpec, clients int) ([]observation, error) {
	deadline, _ := ctx.Deadline() // the workload's
	rec := &recorder{deadline: deadline}
	for ctx.Err() == nil {
		var src replay.Source
		var err error
		switch spec.Format {
		case "slowlog":
			src, err = replay.OpenSlowLog(spec.Paths, nil)
		case "generallog":
			src, err = replay.OpenGeneralLog(spec.Paths, nil)
		default:
			src, err = replay.OpenAuditLog(spec.Paths, nil)
		}
		if err != nil {
			return rec.obs, err
		}
		runner, err := replay.NewRunner(replay.Options{
			Primary: replay.Target{Addr: rn.proxyAddr, User: rn.r.User, Password: rn.o.Password},
			Sink:    rec, Speed: spec.Speed, Workers: clients, Logger: rn.o.Logger,
		})
		if err != nil {
			src.Close()
			return rec.obs, err
		}
		_, err = runner.Run(ctx, src)
		src.Close()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			return rec.obs, err
		}
		if rec.count() == 0 {
			return rec.obs, errors.New("the log holds no statement to replay")
		}
	}
	return rec.obs, nil
}

// recorder is the sink of a replay: it keeps each record as an observation,
// but for the statements that the end of the workload interrupted (they
// failed and ended at the deadline): the replay stopped them, not the
// servers.
type recorder struct {
	deadline time.Time
	mu       sync.Mutex
	obs      []observation
}

func (r *recorder) Write(_ context.Context, ts time.Time, record any) error {
	q, ok := record.(*dataset.QueryLog)
	if !ok {
		return fmt.Errorf("certify: unexpected record %T", record)
	}
	dur := time.Duration(q.DurationMS * float64(time.Millisecond))
	if !q.Success && !ts.Add(dur).Before(r.deadline.Add(-10*time.Millisecond)) {
		return nil
	}
	r.mu.Lock()
	r.obs = append(r.obs, observation{start: ts, dur: dur, ok: q.Success, id: idOf(q.QueryText)})
	r.mu.Unlock()
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.obs)
}

func (r *recorder) Flush(context.Context) error { return nil }
func (r *recorder) Close(context.Context) error { return nil }
