package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/sqlshadow/sqlshadow/sink"
)

// ErrSyntax is returned (wrapped) by QueryLogDecoder.Decode for a line that
// is not one well-formed JSON object, or whose known fields have the wrong
// JSON type.
var ErrSyntax = errors.New("dataset: malformed record")

// QueryLogDecoder decodes QueryLog records from JSON lines without
// reflection, several times faster than encoding/json: a shadow report reads
// millions of them. It reads every field of QueryLog, skips fields it does
// not know, and accepts null for any field (as absent). Timestamps may be in
// sink.TimeFormat or RFC 3339 (a timestamp without a zone is UTC). String
// bytes are kept as they are: invalid UTF-8 is not replaced (the project's
// encoder never writes it).
//
// Strings that repeat across records (targets, commands, routes, hashes,
// statement texts, users) are interned in a bounded table, so decoding
// allocates little; the strings are ordinary Go strings and may be kept.
// A QueryLogDecoder is not safe for concurrent use; use one per goroutine.
// The zero value is ready to use.
type QueryLogDecoder struct {
	intern  map[string]string
	scratch []byte
	// spare holds the pointer fields' memory between records.
	spare spare
}

type spare struct {
	ttfb, wait, queue, primDur, primWait *float64
	primOK                               *bool
	primCode                             *uint16
	primRows                             *int64
}

// maxInterned bounds the intern table; it is emptied when full.
const maxInterned = 1 << 14

// maxInternLen is the longest string interned; longer ones are copied.
const maxInternLen = 4096

// Decode decodes one JSON object into r, which it resets first: fields
// absent from line are zero (nil for pointers). Memory r's pointer fields
// point to may be reused by the next Decode into the same decoder, as
// encoding/json reuses non-nil pointers: copy the values you keep. On error
// r holds what was decoded before the error.
func (d *QueryLogDecoder) Decode(line []byte, r *QueryLog) error {
	d.reclaim(r)
	*r = QueryLog{}
	if err := d.decode(line, r); err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return nil
}

// reclaim keeps r's pointer fields' memory for reuse.
func (d *QueryLogDecoder) reclaim(r *QueryLog) {
	s := &d.spare
	keep := func(p *float64, slot **float64) {
		if p != nil {
			*slot = p
		}
	}
	keep(r.TTFBMS, &s.ttfb)
	keep(r.ClientWaitMS, &s.wait)
	keep(r.QueueMS, &s.queue)
	keep(r.PrimaryDurationMS, &s.primDur)
	keep(r.PrimaryClientWaitMS, &s.primWait)
	if r.PrimarySuccess != nil {
		s.primOK = r.PrimarySuccess
	}
	if r.PrimaryErrorCode != nil {
		s.primCode = r.PrimaryErrorCode
	}
	if r.PrimaryRows != nil {
		s.primRows = r.PrimaryRows
	}
}

func take[T any](slot **T) *T {
	p := *slot
	if p == nil {
		return new(T)
	}
	*slot = nil
	return p
}

var (
	errNotObject = errors.New("not a JSON object")
	errTruncated = errors.New("truncated")
	errBadKey    = errors.New("bad key")
	errBadValue  = errors.New("bad value")
)

func (d *QueryLogDecoder) decode(b []byte, r *QueryLog) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return errTruncated
		}
		if b[i] == '}' {
			if j := skipSpace(b, i+1); j != len(b) {
				return errors.New("data after the object")
			}
			return nil
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != '"' {
			return errBadKey
		}
		key, next, ok := scanRawString(b, i)
		if !ok {
			return errBadKey
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return errBadKey
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return errTruncated
		}
		var err error
		if i, err = d.field(b, i, string(key), r); err != nil {
			return fmt.Errorf("field %q: %w", key, err)
		}
	}
}

// field decodes the value at b[i] of the field named key into r.
func (d *QueryLogDecoder) field(b []byte, i int, key string, r *QueryLog) (int, error) {
	var err error
	switch key {
	case FieldTS:
		var s []byte
		if s, i, err = d.bytes(b, i); err == nil && len(s) > 0 {
			var t time.Time
			if t, err = parseTime(unsafe.String(&s[0], len(s))); err == nil {
				r.TS = sink.Time(t)
			}
		}
	case FieldQueryID:
		r.QueryID, i, err = d.str(b, i, false)
	case FieldTarget:
		r.Target, i, err = d.str(b, i, true)
	case FieldCommand:
		r.Command, i, err = d.str(b, i, true)
	case FieldQueryText:
		r.QueryText, i, err = d.str(b, i, true)
	case FieldQueryHash:
		r.QueryHash, i, err = d.str(b, i, true)
	case FieldTemplateHash:
		r.TemplateHash, i, err = d.str(b, i, true)
	case FieldRoute:
		r.Route, i, err = d.str(b, i, true)
	case FieldDatabase:
		r.Database, i, err = d.str(b, i, true)
	case FieldUser:
		r.User, i, err = d.str(b, i, true)
	case FieldClientAddr:
		r.ClientAddr, i, err = d.str(b, i, true)
	case FieldConnID:
		r.ConnID, _, i, err = unsigned[uint64](b, i)
	case FieldSeq:
		r.Seq, _, i, err = unsigned[uint64](b, i)
	case FieldDurationMS:
		r.DurationMS, _, i, err = number(b, i)
	case FieldTTFBMS:
		r.TTFBMS, i, err = optNumber(b, i, &d.spare.ttfb)
	case FieldClientWaitMS:
		r.ClientWaitMS, i, err = optNumber(b, i, &d.spare.wait)
	case FieldServerConnID:
		r.ServerConnID, _, i, err = unsigned[uint32](b, i)
	case FieldQueueMS:
		r.QueueMS, i, err = optNumber(b, i, &d.spare.queue)
	case FieldSuccess:
		r.Success, _, i, err = boolean(b, i)
	case FieldErrorCode:
		r.ErrorCode, _, i, err = unsigned[uint16](b, i)
	case FieldSQLState:
		r.SQLState, i, err = d.str(b, i, true)
	case FieldError:
		r.Error, i, err = d.str(b, i, true)
	case FieldRows:
		r.Rows, _, i, err = integer(b, i)
	case FieldResultHash:
		r.ResultHash, i, err = d.str(b, i, true)
	case FieldColumnsHash:
		r.ColumnsHash, i, err = d.str(b, i, true)
	case FieldFloatCols:
		r.FloatCols, _, i, err = boolean(b, i)
	case FieldPrimaryDurationMS:
		r.PrimaryDurationMS, i, err = optNumber(b, i, &d.spare.primDur)
	case FieldPrimaryClientWaitMS:
		r.PrimaryClientWaitMS, i, err = optNumber(b, i, &d.spare.primWait)
	case FieldPrimarySuccess:
		var v, ok bool
		if v, ok, i, err = boolean(b, i); ok && err == nil {
			r.PrimarySuccess = take(&d.spare.primOK)
			*r.PrimarySuccess = v
		}
	case FieldPrimaryErrorCode:
		var v uint16
		var ok bool
		if v, ok, i, err = unsigned[uint16](b, i); ok && err == nil {
			r.PrimaryErrorCode = take(&d.spare.primCode)
			*r.PrimaryErrorCode = v
		}
	case FieldPrimaryRows:
		var v int64
		var ok bool
		if v, ok, i, err = integer(b, i); ok && err == nil {
			r.PrimaryRows = take(&d.spare.primRows)
			*r.PrimaryRows = v
		}
	case FieldPrimaryResultHash:
		r.PrimaryResultHash, i, err = d.str(b, i, true)
	case FieldPrimaryColumnsHash:
		r.PrimaryColumnsHash, i, err = d.str(b, i, true)
	case FieldBytesSent:
		r.BytesSent, _, i, err = integer(b, i)
	case FieldBytesRecv:
		r.BytesRecv, _, i, err = integer(b, i)
	case FieldFiltered:
		r.Filtered, _, i, err = boolean(b, i)
	case FieldFilterReason:
		r.FilterReason, i, err = d.str(b, i, true)
	case FieldDropped:
		r.Dropped, _, i, err = boolean(b, i)
	case FieldDiverged:
		r.Diverged, _, i, err = boolean(b, i)
	default:
		i, err = skipValue(b, i, 0)
	}
	return i, err
}

// bytes decodes a JSON string (or null, giving nil) starting at b[i]. The
// result points into b, or into the decoder's scratch when the string had
// escapes; it is valid until the next call.
func (d *QueryLogDecoder) bytes(b []byte, i int) ([]byte, int, error) {
	if b[i] == 'n' {
		next, err := skipLiteral(b, i, "null")
		return nil, next, err
	}
	if b[i] != '"' {
		return nil, i, errBadValue
	}
	raw, next, ok := scanRawString(b, i)
	if !ok {
		return nil, next, errTruncated
	}
	if bytes.IndexByte(raw, '\\') >= 0 {
		if d.scratch, ok = unescape(d.scratch[:0], raw); !ok {
			return nil, next, errBadValue
		}
		raw = d.scratch
	}
	return raw, next, nil
}

// unescape appends the JSON string body raw, unescaped, to dst. Unpaired
// surrogates become U+FFFD, as in encoding/json.
func unescape(dst, raw []byte) ([]byte, bool) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := bytes.IndexByte(raw[i:], '\\')
			if j < 0 {
				return append(dst, raw[i:]...), true
			}
			dst = append(dst, raw[i:i+j]...)
			i += j
			continue
		}
		if i+1 >= len(raw) {
			return dst, false
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			dst = append(dst, raw[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return dst, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2, ok := hex4(raw[i+2:])
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst, false
		}
		i += 2
	}
	return dst, true
}

// hex4 decodes the four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// str decodes a JSON string (or null, giving "") starting at b[i]. When
// intern is true, short strings come from (and go to) the intern table.
func (d *QueryLogDecoder) str(b []byte, i int, intern bool) (string, int, error) {
	raw, next, err := d.bytes(b, i)
	if err != nil || raw == nil {
		return "", next, err
	}
	if !intern || len(raw) > maxInternLen {
		return string(raw), next, nil
	}
	if s, ok := d.intern[string(raw)]; ok {
		return s, next, nil
	}
	if d.intern == nil || len(d.intern) >= maxInterned {
		d.intern = make(map[string]string, 256)
	}
	s := string(raw)
	d.intern[s] = s
	return s, next, nil
}

func optNumber(b []byte, i int, slot **float64) (*float64, int, error) {
	v, ok, next, err := number(b, i)
	if !ok || err != nil {
		return nil, next, err
	}
	p := take(slot)
	*p = v
	return p, next, nil
}

// integer decodes a JSON number that must be a whole number fitting int64.
func integer(b []byte, i int) (int64, bool, int, error) {
	f, ok, next, err := number(b, i)
	if !ok || err != nil {
		return 0, ok, next, err
	}
	if f != float64(int64(f)) {
		return 0, false, next, errBadValue
	}
	return int64(f), true, next, nil
}

// unsigned decodes a JSON number that must be a whole number fitting T.
func unsigned[T uint16 | uint32 | uint64](b []byte, i int) (T, bool, int, error) {
	f, ok, next, err := number(b, i)
	if !ok || err != nil {
		return 0, ok, next, err
	}
	if f < 0 || f != float64(T(f)) {
		return 0, false, next, errBadValue
	}
	return T(f), true, next, nil
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

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, errBadValue
	}
	return i + len(lit), nil
}

// number decodes a JSON number (or null: ok false).
func number(b []byte, i int) (v float64, ok bool, next int, err error) {
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
		return 0, false, i, errBadValue
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
		return 0, false, j, errBadValue
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
	return false, false, i, errBadValue
}

// skipValue skips one JSON value of any kind starting at b[i].
func skipValue(b []byte, i, depth int) (int, error) {
	if depth > 64 {
		return i, errors.New("nested too deep")
	}
	if i >= len(b) {
		return i, errTruncated
	}
	switch c := b[i]; {
	case c == '"':
		_, next, ok := scanRawString(b, i)
		if !ok {
			return next, errTruncated
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
				return i, errTruncated
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
		_, _, next, err := number(b, i)
		return next, err
	}
}

// parseTime parses a timestamp in sink.TimeFormat (fast path) or RFC 3339.
// A timestamp without a zone (as some producers write) is read as UTC.
func parseTime(s string) (time.Time, error) {
	if us, ok := parseTSMicros(s); ok {
		return time.UnixMicro(us).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q: not RFC 3339", s)
}

// parseTSMicros parses sink.TimeFormat into Unix microseconds.
func parseTSMicros(s string) (int64, bool) {
	// 2006-01-02T15:04:05.000000Z
	if !(len(s) == 27 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == '.' && s[26] == 'Z') {
		return 0, false
	}
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
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31 && h < 24 && mi < 60 && se < 61) {
		return 0, false
	}
	days := daysFromCivil(y, mo, dd)
	return ((days*24+h)*60+mi)*60*1_000_000 + se*1_000_000 + us, true
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
