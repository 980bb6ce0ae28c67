package mirror

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

// TestMirrorLongDataNeverHalfMirrored: a prepared statement's
// COM_STMT_SEND_LONG_DATA parts and its execute reach the shadow together or
// not at all, with the shadow's queue forced full (a table lock on the
// shadow stalls its session).
func TestMirrorLongDataNeverHalfMirrored(t *testing.T) {
	ctx := context.Background()
	name := twinName(t)
	var shadowDB *sql.DB
	twinDatabase(t, name, func(db *sql.DB, side int) {
		mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)")
		if side == 1 {
			shadowDB = db
		}
	})
	mr := startMirror(t, rig.Server(t, 1).Addr(), &ShadowOptions{QueueCommands: 2})
	c, caps := rawLogin(t, mr.Addr, name, wire.Supported)
	stall := func() (unstall func()) {
		locker, err := shadowDB.Conn(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { _ = locker.Close() }) // releases the lock if the test fails
		_, err = locker.ExecContext(ctx, "LOCK TABLES t WRITE")
		require.NoError(t, err)
		require.True(t, rawCommand(t, c, caps, append([]byte{wire.ComQuery}, "SELECT COUNT(*) FROM t"...), nil).Success)
		// The shadow session runs it and waits: its queue is empty.
		require.Eventually(t, func() bool {
			var n int
			err := shadowDB.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT COUNT(*) FROM t'").Scan(&n)
			return err == nil && n == 1
		}, 20*time.Second, 5*time.Millisecond)
		// Two commands fill the queue; a long data part then goes to the
		// state reserve when it fits there.
		for range 2 {
			require.True(t, rawCommand(t, c, caps, []byte{wire.ComPing}, nil).Success)
		}
		return func() {
			_, err := locker.ExecContext(ctx, "UNLOCK TABLES")
			require.NoError(t, err)
			require.NoError(t, locker.Close())
			fctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			require.NoError(t, mr.Flush(fctx))
		}
	}
	prep := rawCommand(t, c, caps, append([]byte{wire.ComStmtPrepare}, "SELECT CONCAT(?, '-')"...), nil)
	require.True(t, prep.Success)
	id := binary.LittleEndian.AppendUint32(nil, prep.StmtID)
	long := func(part []byte) {
		p := append(append(append([]byte{wire.ComStmtSendLongData}, id...), 0, 0), part...)
		_, err := c.WritePacket(0, p)
		require.NoError(t, err)
		require.NoError(t, c.Flush())
	}
	exe := append(append([]byte{wire.ComStmtExecute}, id...), 0, 1, 0, 0, 0, 0, 1, byte(wire.TypeVarString), 0)
	execute := func() {
		r := rawCommand(t, c, caps, exe, nil)
		require.True(t, r.Success, "%v", r.Err)
		require.Equal(t, int64(1), r.RowsReturned)
	}

	// 1. A part is dropped (larger than the state reserve): the other parts
	// and the execute are dropped too; the shadow statement must not keep
	// the part that was queued.
	unstall := stall()
	long([]byte("abc"))                           // queued (reserve)
	long(bytes.Repeat([]byte("x"), reserveBytes)) // dropped
	long([]byte("def"))                           // dropped with the round
	execute()                                     // dropped with the round
	unstall()
	// 2. The part is queued, the execute is dropped (the queue is full).
	unstall = stall()
	long([]byte("ghi")) // queued (reserve)
	execute()           // dropped
	unstall()
	// 3. Both reach the shadow: it answers as the primary, with this
	// round's data only.
	long([]byte("jkl"))
	execute()

	primary, shadow := mr.all(t)
	ps, ss := pairs(primary, shadow, "COM_STMT_EXECUTE", "SELECT CONCAT")
	require.Len(t, ps, 3)
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(ps[a].Seq) - int(ps[b].Seq) })
	for k, i := range order {
		p, s := ps[i], ss[i]
		require.True(t, p.Success)
		require.Equal(t, dataset.TargetShadow, s.Target, "execute %d has a shadow record", k)
		if k < 2 {
			require.True(t, s.Dropped, "execute %d: %+v", k, s)
			require.False(t, s.Success)
			continue
		}
		require.True(t, s.Success, "execute %d: %+v", k, s)
		require.Equal(t, p.ResultHash, s.ResultHash, "the shadow ran the execute with the primary's data")
	}
	_, longs := pairs(primary, shadow, "COM_STMT_SEND_LONG_DATA", "SELECT CONCAT")
	dropped := 0
	for _, s := range longs {
		if s.Dropped {
			dropped++
		}
	}
	require.Equal(t, 2, dropped, "the big part and the one after it")
}
