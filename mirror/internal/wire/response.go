package wire

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"

	"github.com/sqlshadow/sqlshadow/internal/canon"
)

// Request says which response ReadResponse has to read.
type Request struct {
	// Cmd is the command byte the client sent.
	Cmd byte
	// Caps are the capabilities negotiated on this connection (only
	// ClientDeprecateEOF changes the framing).
	Caps uint32
	// Columns are the columns of the statement's open cursor, for
	// COM_STMT_FETCH (whose response carries no column definitions).
	Columns []Column
	// NoHash skips the canonical result hash (Result.Sum stays empty but
	// rows are still counted).
	NoHash bool
	// CursorAsked says that a COM_STMT_EXECUTE asked for a cursor (its
	// flags, ExecuteAsksCursor). Only then does the cursor-exists status
	// mean that the rows come with COM_STMT_FETCH: MariaDB also sets it on
	// result sets of a CALL whose procedure opened a cursor.
	CursorAsked bool
	// ExtendedMetadata says that the connection negotiated
	// MariaDBClientExtendedMetadata: column definitions carry it.
	ExtendedMetadata bool
}

// ExecuteAsksCursor reports whether a COM_STMT_EXECUTE payload (command byte
// first) asks for a cursor: read-only, for update or scrollable.
func ExecuteAsksCursor(payload []byte) bool {
	return len(payload) > 5 && payload[0] == ComStmtExecute && payload[5]&7 != 0
}

// Result is the outcome of one command's response. Reuse one Result across
// commands (Reset between them) to avoid allocations.
type Result struct {
	// Success is false when the response ended with an ERR packet.
	Success bool
	// Err is the ERR packet that ended the response (nil on success).
	Err *Err
	// Status is the server status of the last OK or EOF packet.
	Status uint16
	// Warnings is the warning count of the last OK or EOF packet.
	Warnings uint16
	// AffectedRows sums the affected rows of the OK packets;
	// LastInsertID is the last one's.
	AffectedRows uint64
	LastInsertID uint64
	// RowsReturned counts the rows of every result set.
	RowsReturned int64
	// ResultSets counts the result sets (OK packets not included).
	ResultSets int
	// Sum is the canonical hash of every row returned.
	Sum canon.RowSum
	// HashErr is set when a row could not be decoded for the hash; the
	// response is still read and relayed.
	HashErr error
	// FloatCols says whether any column was FLOAT or DOUBLE.
	FloatCols bool
	// Columns are the columns of the last result set (or, for
	// COM_STMT_PREPARE, of the statement).
	Columns []Column
	// Cursor is true when COM_STMT_EXECUTE opened a cursor: the rows come
	// with COM_STMT_FETCH.
	Cursor bool
	// LocalInfile is true when the server asked for a LOCAL INFILE
	// (InfileName): the caller sends the file's packets and an empty one,
	// then calls ReadResponse again with the same Result (not Reset) to read
	// the rest of the response.
	LocalInfile bool
	InfileName  string
	// StmtID, NumColumns and NumParams come from a COM_STMT_PREPARE OK.
	StmtID     uint32
	NumColumns uint16
	NumParams  uint16
	// Packets counts the physical packets read.
	Packets int
	// Payload is, for COM_STATISTICS, the answer string.
	Payload []byte

	// colKey holds what the columns hash covers (names and types of every
	// result set); lastKey and lastSum remember the previous command's, so
	// that a connection repeating one statement shape hashes it once.
	colKey  []byte
	hasCols bool
	lastKey []byte
	lastSum [md5.Size]byte
	row     []byte
	// textRaw: every column's text form is canonical, so text rows are
	// hashed as they are.
	textRaw bool
}

// Reset clears r for the next command, keeping its buffers.
func (r *Result) Reset() {
	row, cols, key, lastKey, lastSum := r.row[:0], r.Columns[:0], r.colKey[:0], r.lastKey, r.lastSum
	*r = Result{row: row, Columns: cols, colKey: key, lastKey: lastKey, lastSum: lastSum}
}

// Rows is the design's rows field: rows returned plus rows affected.
func (r *Result) Rows() int64 { return r.RowsReturned + int64(r.AffectedRows) }

// ResultHash returns the canonical result hash ("" when the response had no
// result set or a row could not be decoded).
func (r *Result) ResultHash() string {
	if r.ResultSets == 0 || r.HashErr != nil {
		return ""
	}
	return r.Sum.String()
}

// ColumnsHash returns the lower-case hex MD5 of the column names and types of
// every result set ("" when there were none).
func (r *Result) ColumnsHash() string {
	sum, ok := r.ColumnsSum()
	if !ok {
		return ""
	}
	return hex.EncodeToString(sum[:])
}

// ColumnsSum returns the MD5 behind ColumnsHash, and false when the response
// had no columns.
func (r *Result) ColumnsSum() (sum [md5.Size]byte, ok bool) {
	if !r.hasCols {
		return sum, false
	}
	if len(r.colKey) > maxCachedColumnsKey {
		return canon.ColumnsSum(r.colKey), true
	}
	if r.lastKey == nil || string(r.colKey) != string(r.lastKey) {
		r.lastSum = canon.ColumnsSum(r.colKey)
		r.lastKey = append(r.lastKey[:0], r.colKey...)
	}
	return r.lastSum, true
}

// maxCachedColumnsKey bounds the column key a Result keeps between commands.
const maxCachedColumnsKey = 4 << 10

// HashOK reports whether ResultHash is not empty: the response had a result
// set and every row decoded.
func (r *Result) HashOK() bool { return r.ResultSets > 0 && r.HashErr == nil }

func (r *Result) fail(p []byte) error {
	e, err := ParseErr(p)
	if err != nil {
		return err
	}
	r.Success = false
	r.Err = e
	return nil
}

func (r *Result) ok(p []byte) error {
	ok, err := ParseOK(p)
	if err != nil {
		return err
	}
	r.AffectedRows += ok.AffectedRows
	r.LastInsertID = ok.LastInsertID
	r.Status = ok.Status
	r.Warnings = ok.Warnings
	return nil
}

func (r *Result) eof(p []byte, deprecate bool) error {
	st, w, err := ParseEOF(p, deprecate)
	if err != nil {
		return err
	}
	r.Status, r.Warnings = st, w
	return nil
}

// ReadResponse reads exactly one command's whole response from c, calling
// fn (when not nil) with each physical packet, header included, as it is
// read, and fills res. An ERR packet is a result (res.Success false, res.Err),
// not an error: the returned error is an I/O error or a response that does
// not follow the protocol, after which the connection is unusable.
//
// Commands without a response (COM_QUIT, COM_STMT_CLOSE,
// COM_STMT_SEND_LONG_DATA) return at once. COM_CHANGE_USER starts an
// authentication exchange: ReadResponse reads its first packet only, and
// res.Success is false with res.Err nil when the exchange goes on.
func (c *Conn) ReadResponse(req Request, fn func(raw []byte) error, res *Result) error {
	res.LocalInfile, res.InfileName = false, ""
	res.Success = true
	if HasNoResponse(req.Cmd) {
		return nil
	}
	deprecate := req.Caps&ClientDeprecateEOF != 0
	read := func() ([]byte, error) {
		_, p, err := c.ReadPacket(func(raw []byte) error {
			res.Packets++
			if fn != nil {
				return fn(raw)
			}
			return nil
		})
		return p, err
	}
	switch req.Cmd {
	case ComStatistics:
		p, err := read()
		if err != nil {
			return err
		}
		if len(p) > 0 && p[0] == HeaderErr {
			return res.fail(p)
		}
		res.Payload = append(res.Payload[:0], p...)
		return nil
	case ComChangeUser:
		p, err := read()
		if err != nil {
			return err
		}
		switch {
		case len(p) > 0 && p[0] == HeaderErr:
			return res.fail(p)
		case len(p) > 0 && p[0] == HeaderOK:
			return res.ok(p)
		}
		res.Success = false
		return nil
	case ComStmtPrepare:
		return c.readPrepare(read, deprecate, req.ExtendedMetadata, res)
	case ComFieldList:
		return res.readList(read, deprecate, func(p []byte) error {
			_, _, err := ParseColumn(p, req.ExtendedMetadata)
			return err
		})
	case ComStmtFetch:
		res.Columns = append(res.Columns[:0], req.Columns...)
		res.ResultSets = 1
		return res.readList(read, deprecate, func(p []byte) error {
			res.addRow(p, true, req.NoHash)
			return nil
		})
	}
	binary := req.Cmd == ComStmtExecute || req.Cmd == ComStmtBulkExecute
	for {
		p, err := read()
		if err != nil {
			return err
		}
		if len(p) == 0 {
			return malformed("empty response packet")
		}
		switch p[0] {
		case HeaderErr:
			return res.fail(p)
		case HeaderOK:
			if err := res.ok(p); err != nil {
				return err
			}
			if res.Status&StatusMoreResultsExists != 0 {
				continue
			}
			return nil
		case HeaderLocalInfile:
			res.LocalInfile = true
			res.InfileName = string(p[1:])
			return nil
		case HeaderEOF:
			if IsEOF(p) {
				// COM_SET_OPTION, COM_DEBUG and the like answer EOF.
				return res.eof(p, deprecate)
			}
		}
		n, _, m := ReadLenEnc(p)
		if m == 0 || m != len(p) || n == 0 {
			return malformed("result set column count")
		}
		more, err := c.readResultSet(read, int(n), req.Cmd == ComStmtExecute && req.CursorAsked, binary, deprecate, req.NoHash, req.ExtendedMetadata, res)
		if err != nil || !more {
			return err
		}
	}
}

// readList reads the packets of a list up to the ERR or EOF that ends it,
// handing each of the others to each.
func (res *Result) readList(read func() ([]byte, error), deprecate bool, each func(p []byte) error) error {
	for {
		p, err := read()
		if err != nil {
			return err
		}
		switch {
		case len(p) > 0 && p[0] == HeaderErr:
			return res.fail(p)
		case IsEOF(p):
			return res.eof(p, deprecate)
		}
		if err := each(p); err != nil {
			return err
		}
	}
}

// readResultSet reads the column definitions and rows of one result set and
// reports whether more results follow. cursorAsked: the command is an
// execute that asked for a cursor.
func (c *Conn) readResultSet(read func() ([]byte, error), n int, cursorAsked, binary, deprecate, noHash, ext bool, res *Result) (bool, error) {
	res.ResultSets++
	if err := res.readColumns(read, n, true, ext); err != nil {
		return false, err
	}
	if !deprecate {
		p, err := read()
		if err != nil {
			return false, err
		}
		if len(p) > 0 && p[0] == HeaderErr {
			// The statement failed while its cursor was built.
			return false, res.fail(p)
		}
		if !IsEOF(p) {
			return false, malformed("EOF after column definitions")
		}
		if err := res.eof(p, false); err != nil {
			return false, err
		}
		if cursorAsked && res.cursorOpened() {
			res.Cursor = true
			return false, nil
		}
	}
	first := true
	for {
		p, err := read()
		if err != nil {
			return false, err
		}
		switch {
		case len(p) > 0 && p[0] == HeaderErr:
			return false, res.fail(p)
		case IsEOF(p):
			if err := res.eof(p, deprecate); err != nil {
				return false, err
			}
			if first && cursorAsked && res.cursorOpened() {
				res.Cursor = true
				return false, nil
			}
			return res.Status&StatusMoreResultsExists != 0, nil
		}
		first = false
		res.addRow(p, binary, noHash)
	}
}

// readColumns reads n column definitions into res.Columns, feeding the
// columns hash when hashCols; ext: they carry extended metadata.
func (res *Result) readColumns(read func() ([]byte, error), n int, hashCols, ext bool) error {
	res.Columns = res.Columns[:0]
	res.textRaw = true
	if hashCols {
		res.colKey = canon.NextResultSet(res.colKey)
	}
	for i := 0; i < n; i++ {
		p, err := read()
		if err != nil {
			return err
		}
		col, name, err := ParseColumn(p, ext)
		if err != nil {
			return err
		}
		res.Columns = append(res.Columns, col)
		if !TextIsCanonical(&col) {
			res.textRaw = false
		}
		if canon.KindOf(col.Type) == canon.Float {
			res.FloatCols = true
		}
		if hashCols {
			res.hasCols = true
			res.colKey = canon.AppendColumn(res.colKey, name, col.Type)
		}
	}
	return nil
}

// cursorOpened reports whether the status of the packet that ended the
// column definitions says that a cursor holds the rows. A cursor is one
// result set: MariaDB also sets cursor-exists on the result sets of a CALL
// (with more results to follow) whose procedure opened a cursor.
func (res *Result) cursorOpened() bool {
	return res.Status&StatusCursorExists != 0 && res.Status&StatusMoreResultsExists == 0
}

func (res *Result) addRow(p []byte, binary, noHash bool) {
	res.RowsReturned++
	if noHash || res.HashErr != nil {
		return
	}
	if !binary && res.textRaw {
		res.Sum.Add(p)
		return
	}
	var err error
	if binary {
		res.row, err = AppendBinaryRow(res.row[:0], res.Columns, p)
	} else {
		res.row, err = AppendTextRow(res.row[:0], res.Columns, p)
	}
	if err != nil {
		res.HashErr = err
		return
	}
	res.Sum.Add(res.row)
	if cap(res.row) > 1<<20 {
		res.row = nil
	}
}

func (c *Conn) readPrepare(read func() ([]byte, error), deprecate, ext bool, res *Result) error {
	p, err := read()
	if err != nil {
		return err
	}
	if len(p) > 0 && p[0] == HeaderErr {
		return res.fail(p)
	}
	if len(p) < 12 || p[0] != HeaderOK {
		return malformed("COM_STMT_PREPARE response")
	}
	res.StmtID = binary.LittleEndian.Uint32(p[1:])
	res.NumColumns = binary.LittleEndian.Uint16(p[5:])
	res.NumParams = binary.LittleEndian.Uint16(p[7:])
	res.Warnings = binary.LittleEndian.Uint16(p[10:])
	for _, n := range []uint16{res.NumParams, res.NumColumns} {
		if n == 0 {
			continue
		}
		if err := res.readColumns(read, int(n), false, ext); err != nil {
			return err
		}
		if !deprecate {
			p, err := read()
			if err != nil {
				return err
			}
			if !IsEOF(p) {
				return malformed("EOF after prepared statement definitions")
			}
		}
	}
	if res.NumColumns == 0 {
		res.Columns = res.Columns[:0]
	}
	return nil
}
