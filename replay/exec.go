package replay

import (
	"context"
	"crypto/tls"
	"errors"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/internal/canon"
)

// Target is a server the runner replays against.
type Target struct {
	// Addr is host:port.
	Addr string
	// User and Password log in; every session of the replay uses them.
	User, Password string
	// TLS, when set, is used for the connection (certificates verified as
	// it says).
	TLS *tls.Config
	// Writable allows statements that are not read-only (when the filter
	// keeps them) to run on this target; otherwise they are skipped here.
	Writable bool
}

// outcome is one statement's result on one target.
type outcome struct {
	start    time.Time
	dur      time.Duration
	ok       bool
	code     uint16
	state    string
	msg      string
	rows     int64
	result   string // canonical result hash, "" without a result set
	columns  string
	floats   bool
	serverID uint32
}

// conn is one session's connection to one target.
type conn struct {
	t   *Target
	c   *client.Conn
	db  string
	row []byte
	key []byte
}

func (c *conn) close() {
	if c.c != nil {
		_ = c.c.Close()
		c.c = nil
		c.db = ""
	}
}

// dial connects when not connected.
func (c *conn) dial(ctx context.Context, timeout time.Duration) error {
	if c.c != nil {
		return nil
	}
	var opts []client.Option
	if c.t.TLS != nil {
		cfg := c.t.TLS
		opts = append(opts, func(cc *client.Conn) error { cc.SetTLSConfig(cfg); return nil })
	}
	cc, err := client.ConnectWithContext(ctx, c.t.Addr, c.t.User, c.t.Password, "", timeout, opts...)
	if err != nil {
		return err
	}
	c.c, c.db = cc, ""
	return nil
}

// run executes st's text on c: the database is set first when the
// statement's differs from the connection's, then each statement of the
// text in turn (a multi-statement text's results add up, as the proxy
// hashes a multi-result response). A server error leaves the connection
// usable; any other error closes it (the next statement reconnects).
func (c *conn) run(ctx context.Context, st *Statement, timeout time.Duration) outcome {
	var o outcome
	o.start = time.Now()
	if err := c.dial(ctx, timeout); err != nil {
		o.dur = time.Since(o.start)
		o.msg = err.Error()
		return o
	}
	o.serverID = c.c.GetConnectionID()
	// Interrupt the exchange when ctx ends or the statement times out.
	var wg sync.WaitGroup
	wg.Add(1)
	nc := c.c
	stop := context.AfterFunc(ctx, func() {
		defer wg.Done()
		_ = nc.SetDeadline(time.Unix(1, 0))
	})
	defer func() {
		if stop() {
			wg.Done()
		}
		wg.Wait()
	}()
	if timeout > 0 {
		_ = nc.SetDeadline(time.Now().Add(timeout))
	} else {
		_ = nc.SetDeadline(time.Time{})
	}
	if st.Database != "" && st.Database != c.db {
		if err := c.c.UseDB(st.Database); err == nil {
			c.db = st.Database
		} else if !isServerErr(err) {
			c.close()
			o.dur = time.Since(o.start)
			o.msg = err.Error()
			return o
		}
	}
	parts := hashing.Split(st.Text)
	if len(parts) == 0 {
		parts = []string{st.Text}
	}
	var sum canon.RowSum
	sets := 0
	c.key = c.key[:0]
	o.start = time.Now()
	o.ok = true
	for _, q := range parts {
		var res mysql.Result
		err := c.c.ExecuteSelectStreaming(q, &res, func(row []mysql.FieldValue) error {
			c.row = appendRow(c.row[:0], res.Fields, row)
			sum.Add(c.row)
			return nil
		}, nil)
		if err != nil {
			o.ok = false
			var me *mysql.MyError
			if errors.As(err, &me) {
				o.code, o.state, o.msg = me.Code, me.State, me.Message
			} else {
				o.msg = err.Error()
				c.close()
			}
			break
		}
		if len(res.Fields) > 0 {
			sets++
			var floats bool
			c.key, floats = appendColumns(c.key, res.Fields)
			o.floats = o.floats || floats
		}
		o.rows += int64(res.AffectedRows)
		if hashing.Classify(q).Class == hashing.ClassUse {
			if db := useTarget(q); db != "" {
				c.db = db
			}
		}
	}
	o.dur = time.Since(o.start)
	o.rows += sum.Rows
	if sets > 0 {
		if o.ok {
			o.result = sum.String()
		}
		o.columns = canon.ColumnsHash(c.key)
	}
	if cap(c.row) > 1<<20 {
		c.row = nil
	}
	return o
}

func isServerErr(err error) bool {
	var me *mysql.MyError
	return errors.As(err, &me)
}
