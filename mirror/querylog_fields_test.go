package mirror

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/sink"
)

// neverWritten lists the fields of dataset.QueryLog that the proxy and the
// shadow cannot be made to write in this test, with the reason. Keep it
// empty unless a condition is impractical to provoke.
var neverWritten = map[string]string{}

// TestQueryLogFieldsAllWritten runs a session that succeeds, fails, returns
// result sets, is filtered, uses prepared statements, overflows the shadow's
// queue and passes the shadow's deadline, through the real sink, and checks
// that every field of dataset.QueryLog is written by a producer at least
// once: a field that nothing writes is one that readers cannot rely on.
func TestQueryLogFieldsAllWritten(t *testing.T) {
	leakCheck(t)
	name := twinName(t)
	twinDatabase(t, name, func(db *sql.DB, side int) {
		mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10), f DOUBLE)",
			"INSERT INTO t VALUES (1, 'a', 0.5), (2, 'b', 1.5)")
	})
	ctx := context.Background()
	logs := &appendRecorder{}
	sh, err := NewShadow(rig.Server(t, 1).Addr(), &ShadowOptions{
		User: mariadb.User, Password: mariadb.Password, Sink: logs,
		// One queued command and a short deadline: a slow statement makes
		// the next commands overflow the queue (dropped) and diverges the
		// session (diverged).
		QueueCommands: 1, MinDeadline: 50 * time.Millisecond, DeadlineScale: 0.01,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sh.Close() })
	pr := startProxy(t, rig.Server(t, 0).Addr(), &Options{Sink: logs, Mirror: sh})

	db := openDB(t, pr.dsn(t, rig.Server(t, 0), name, nil))
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	query := func(q string, args ...any) error {
		rows, err := conn.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		return rows.Close()
	}
	require.NoError(t, query("SELECT /*route='fields'*/ id, v, f FROM t")) // text result set
	require.NoError(t, query("SELECT id, v, f FROM t WHERE id > ?", 0))    // prepared
	require.Error(t, query("SELECT * FROM no_such_table"))                 // error on both
	// settle waits until every command so far has run on the shadow (its
	// queue is empty). Equal record counts are not enough: both sides'
	// records reach the sink through queues of their own.
	settle := func() {
		t.Helper()
		fctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		require.NoError(t, pr.Flush(fctx))
	}
	settle()
	_, err = conn.ExecContext(ctx, "INSERT INTO t VALUES (3, 'c', 2.5)") // filtered (write)
	require.NoError(t, err)
	settle()
	require.NoError(t, query("SELECT SLEEP(0.2)")) // past the shadow's deadline
	for range 20 {
		require.NoError(t, query("SELECT 1")) // the queue is full while the shadow reconnects
	}
	require.NoError(t, conn.Close())

	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, pr.Shutdown(sctx))
	require.NoError(t, sh.Shutdown(sctx))

	written := map[string]map[string]bool{dataset.TargetPrimary: {}, dataset.TargetShadow: {}}
	for _, line := range logs.lines() {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(line, &m))
		var target string
		require.NoError(t, json.Unmarshal(m[dataset.FieldTarget], &target))
		require.Contains(t, written, target)
		for k := range m {
			written[target][k] = true
		}
	}
	require.NotEmpty(t, written[dataset.TargetPrimary])
	require.NotEmpty(t, written[dataset.TargetShadow])

	var missing []string
	typ := reflect.TypeFor[dataset.QueryLog]()
	for i := range typ.NumField() {
		key, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if written[dataset.TargetPrimary][key] || written[dataset.TargetShadow][key] {
			require.NotContains(t, neverWritten, key, "%s is written: take it off neverWritten", key)
			continue
		}
		if _, ok := neverWritten[key]; !ok {
			missing = append(missing, key)
		}
	}
	slices.Sort(missing)
	require.Empty(t, missing, "fields of dataset.QueryLog that no record wrote")
	// The shadow-only fields are on shadow records only.
	for _, k := range []string{dataset.FieldQueueMS, dataset.FieldPrimaryDurationMS, dataset.FieldPrimaryClientWaitMS,
		dataset.FieldPrimaryColumnsHash, dataset.FieldFiltered, dataset.FieldDropped, dataset.FieldDiverged} {
		require.False(t, written[dataset.TargetPrimary][k], "%s on a primary record", k)
		require.True(t, written[dataset.TargetShadow][k], "%s never on a shadow record", k)
	}
}

// appendRecorder is a sink that encodes each record with its own AppendJSON
// method, as sink.Writer does, and fails a record that has none.
type appendRecorder struct {
	mu sync.Mutex
	ls [][]byte
}

func (a *appendRecorder) Write(_ context.Context, _ time.Time, record any) error {
	ap, ok := record.(sink.JSONAppender)
	if !ok {
		return fmt.Errorf("record %T does not encode itself", record)
	}
	b, err := ap.AppendJSON(nil)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.ls = append(a.ls, b)
	a.mu.Unlock()
	return nil
}

func (a *appendRecorder) Flush(context.Context) error { return nil }
func (a *appendRecorder) Close(context.Context) error { return nil }

func (a *appendRecorder) lines() [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.ls)
}

// count returns how many records of target were written.
func (a *appendRecorder) count(target string) int {
	n := 0
	for _, l := range a.lines() {
		if bytes.Contains(l, []byte(`"target":"`+target+`"`)) {
			n++
		}
	}
	return n
}
