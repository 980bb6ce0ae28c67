package shadow

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unsafe"
)

// shadowLine is one decoded query-log record: only the fields the analysis
// reads. Byte-slice fields point into the line buffer (or into scratch) and
// are valid until the next decode.
type shadowLine struct {
	tsMicros     int64 // Unix microseconds; 0 when absent
	queryID      []byte
	target       []byte
	command      []byte
	queryText    []byte
	queryHash    []byte
	templateHash []byte
	route        []byte
	errorText    []byte
	resultHash   []byte
	columnsHash  []byte
	primResult   []byte
	primColumns  []byte // optional primary_columns_hash, when the producer writes it

	durationMS   float64
	clientWaitMS float64
	primDuration float64
	primWaitMS   float64 // optional primary_client_wait_ms
	errorCode    int64
	primErrCode  int64
	serverConnID int64
	hasConnID    bool

	hasPrimDuration bool
	hasPrimSuccess  bool
	success         bool
	primSuccess     bool
	floatCols       bool
	filtered        bool
	dropped         bool
	diverged        bool

	scratch []byte // unescaped strings live here
}

var errShadowSyntax = errors.New("shadow: malformed query-log line")

func (r *shadowLine) reset() {
	s := r.scratch[:0]
	*r = shadowLine{scratch: s}
}

// decodeShadowLine decodes one JSON object, reading only the fields the
// analysis needs and skipping the others without allocating. It never
// panics on bad input.
func decodeShadowLine(b []byte, r *shadowLine) error {
	r.reset()
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errShadowSyntax
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return errShadowSyntax
		}
		if b[i] == '}' {
			return nil
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != '"' {
			return errShadowSyntax
		}
		key, next, ok := scanRawString(b, i)
		if !ok {
			return errShadowSyntax
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return errShadowSyntax
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return errShadowSyntax
		}
		var err error
		switch string(key) {
		case "ts":
			var s []byte
			if s, i, err = r.str(b, i); err == nil && s != nil {
				r.tsMicros = parseTSMicros(s)
			}
		case "query_id":
			r.queryID, i, err = r.str(b, i)
		case "target":
			r.target, i, err = r.str(b, i)
		case "command":
			r.command, i, err = r.str(b, i)
		case "query_text":
			r.queryText, i, err = r.str(b, i)
		case "query_hash":
			r.queryHash, i, err = r.str(b, i)
		case "template_hash":
			r.templateHash, i, err = r.str(b, i)
		case "route":
			r.route, i, err = r.str(b, i)
		case "error":
			r.errorText, i, err = r.str(b, i)
		case "result_hash":
			r.resultHash, i, err = r.str(b, i)
		case "columns_hash":
			r.columnsHash, i, err = r.str(b, i)
		case "primary_result_hash":
			r.primResult, i, err = r.str(b, i)
		case "primary_columns_hash":
			r.primColumns, i, err = r.str(b, i)
		case "duration_ms":
			r.durationMS, _, i, err = num(b, i)
		case "client_wait_ms":
			r.clientWaitMS, _, i, err = num(b, i)
		case "primary_duration_ms":
			r.primDuration, r.hasPrimDuration, i, err = num(b, i)
		case "server_conn_id":
			var f float64
			f, r.hasConnID, i, err = num(b, i)
			r.serverConnID = int64(f)
		case "primary_client_wait_ms":
			r.primWaitMS, _, i, err = num(b, i)
		case "error_code":
			var f float64
			f, _, i, err = num(b, i)
			r.errorCode = int64(f)
		case "primary_error_code":
			var f float64
			f, _, i, err = num(b, i)
			r.primErrCode = int64(f)
		case "success":
			r.success, _, i, err = boolean(b, i)
		case "primary_success":
			r.primSuccess, r.hasPrimSuccess, i, err = boolean(b, i)
		case "float_cols":
			r.floatCols, _, i, err = boolean(b, i)
		case "filtered":
			r.filtered, _, i, err = boolean(b, i)
		case "dropped":
			r.dropped, _, i, err = boolean(b, i)
		case "diverged":
			r.diverged, _, i, err = boolean(b, i)
		default:
			i, err = skipValue(b, i, 0)
		}
		if err != nil {
			return err
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanRawString returns the raw bytes between the quotes of the string that
// starts at b[i] (escapes left as they are), and the index after it.
func scanRawString(b []byte, i int) (raw []byte, next int, ok bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return nil, len(b), false
		}
		end := j + k
		// The quote is escaped when an odd number of backslashes precede it.
		bs := 0
		for p := end - 1; p > i && b[p] == '\\'; p-- {
			bs++
		}
		if bs%2 == 0 {
			return b[i+1 : end], end + 1, true
		}
		j = end + 1
	}
}

// str decodes a JSON string (or null, giving nil) starting at b[i]. Strings
// without escapes are returned in place; others are unescaped into scratch.
func (r *shadowLine) str(b []byte, i int) ([]byte, int, error) {
	if b[i] == 'n' {
		next, err := skipLiteral(b, i, "null")
		return nil, next, err
	}
	if b[i] != '"' {
		return nil, i, errShadowSyntax
	}
	raw, next, ok := scanRawString(b, i)
	if !ok {
		return nil, next, errShadowSyntax
	}
	j := next - 1
	escaped := bytes.IndexByte(raw, '\\') >= 0
	if !escaped {
		return b[i+1 : j], j + 1, nil
	}
	var s string
	if err := json.Unmarshal(b[i:j+1], &s); err != nil {
		return nil, j + 1, errShadowSyntax
	}
	start := len(r.scratch)
	r.scratch = append(r.scratch, s...)
	return r.scratch[start:len(r.scratch):len(r.scratch)], j + 1, nil
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, errShadowSyntax
	}
	return i + len(lit), nil
}

// num decodes a JSON number (or null: ok false).
func num(b []byte, i int) (v float64, ok bool, next int, err error) {
	if b[i] == 'n' {
		next, err = skipLiteral(b, i, "null")
		return 0, false, next, err
	}
	j := i
	for j < len(b) {
		c := b[j]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			j++
			continue
		}
		break
	}
	if j == i {
		return 0, false, i, errShadowSyntax
	}
	// Fast path: plain non-negative integers.
	var n int64
	plain := j-i < 16
	for k := i; k < j && plain; k++ {
		c := b[k]
		if c < '0' || c > '9' {
			plain = false
			break
		}
		n = n*10 + int64(c-'0')
	}
	if plain {
		return float64(n), true, j, nil
	}
	f, perr := strconv.ParseFloat(unsafe.String(&b[i], j-i), 64)
	if perr != nil {
		return 0, false, j, errShadowSyntax
	}
	return f, true, j, nil
}

// boolean decodes true, false or null (ok false).
func boolean(b []byte, i int) (v, ok bool, next int, err error) {
	switch b[i] {
	case 't':
		next, err = skipLiteral(b, i, "true")
		return true, true, next, err
	case 'f':
		next, err = skipLiteral(b, i, "false")
		return false, true, next, err
	case 'n':
		next, err = skipLiteral(b, i, "null")
		return false, false, next, err
	}
	return false, false, i, errShadowSyntax
}

// skipValue skips one JSON value of any kind starting at b[i].
func skipValue(b []byte, i, depth int) (int, error) {
	if depth > 64 {
		return i, errShadowSyntax
	}
	if i >= len(b) {
		return i, errShadowSyntax
	}
	switch c := b[i]; {
	case c == '"':
		_, next, ok := scanRawString(b, i)
		if !ok {
			return next, errShadowSyntax
		}
		return next, nil
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i++
		for {
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, errShadowSyntax
			}
			switch b[i] {
			case closing:
				return i + 1, nil
			case ',', ':':
				i++
				continue
			}
			var err error
			if i, err = skipValue(b, i, depth+1); err != nil {
				return i, err
			}
		}
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	default:
		_, _, next, err := num(b, i)
		return next, err
	}
}

// parseTSMicros parses a timestamp in sink.TimeFormat (fast path) or RFC
// 3339, returning Unix microseconds, or 0 when it does not parse.
func parseTSMicros(s []byte) int64 {
	// 2006-01-02T15:04:05.000000Z
	if len(s) == 27 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == '.' && s[26] == 'Z' {
		d := func(a, b int) (int64, bool) {
			var v int64
			for k := a; k < b; k++ {
				c := s[k]
				if c < '0' || c > '9' {
					return 0, false
				}
				v = v*10 + int64(c-'0')
			}
			return v, true
		}
		y, ok1 := d(0, 4)
		mo, ok2 := d(5, 7)
		dd, ok3 := d(8, 10)
		h, ok4 := d(11, 13)
		mi, ok5 := d(14, 16)
		se, ok6 := d(17, 19)
		us, ok7 := d(20, 26)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31 && h < 24 && mi < 60 && se < 61 {
			days := daysFromCivil(y, mo, dd)
			return ((days*24+h)*60+mi)*60*1_000_000 + se*1_000_000 + us
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return 0
	}
	return t.UnixMicro()
}

// daysFromCivil returns days since 1970-01-01 of a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
