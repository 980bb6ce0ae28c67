package wire

import (
	"bytes"
	"encoding/binary"
)

// ReadLenEnc decodes a length-encoded integer at the start of b. It returns
// the value, whether it is the NULL marker (0xfb), and the bytes consumed (0
// when b is too short).
func ReadLenEnc(b []byte) (v uint64, null bool, n int) {
	if len(b) == 0 {
		return 0, false, 0
	}
	switch b[0] {
	case 0xfb:
		return 0, true, 1
	case 0xfc:
		if len(b) < 3 {
			return 0, false, 0
		}
		return uint64(binary.LittleEndian.Uint16(b[1:])), false, 3
	case 0xfd:
		if len(b) < 4 {
			return 0, false, 0
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, false, 4
	case 0xfe:
		if len(b) < 9 {
			return 0, false, 0
		}
		return binary.LittleEndian.Uint64(b[1:]), false, 9
	case 0xff:
		return 0, false, 0
	default:
		return uint64(b[0]), false, 1
	}
}

// ReadLenEncString decodes a length-encoded string at the start of b. It
// returns the string (a sub-slice of b), whether it is NULL, and the bytes
// consumed (0 when b is too short).
func ReadLenEncString(b []byte) (s []byte, null bool, n int) {
	v, null, n := ReadLenEnc(b)
	if n == 0 || null {
		return nil, null, n
	}
	if v > uint64(len(b)-n) {
		return nil, false, 0
	}
	end := n + int(v)
	return b[n:end:end], false, end
}

// AppendLenEnc appends v as a length-encoded integer.
func AppendLenEnc(b []byte, v uint64) []byte {
	switch {
	case v < 251:
		return append(b, byte(v))
	case v < 1<<16:
		return append(b, 0xfc, byte(v), byte(v>>8))
	case v < 1<<24:
		return append(b, 0xfd, byte(v), byte(v>>8), byte(v>>16))
	default:
		b = append(b, 0xfe)
		return binary.LittleEndian.AppendUint64(b, v)
	}
}

// AppendLenEncString appends s as a length-encoded string.
func AppendLenEncString(b, s []byte) []byte {
	return append(AppendLenEnc(b, uint64(len(s))), s...)
}

// readNul returns the bytes of b before the first NUL and the bytes consumed
// (the NUL included), or n = 0 when there is no NUL.
func readNul(b []byte) (s []byte, n int) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return nil, 0
	}
	return b[:i], i + 1
}

// OK is an OK packet, or an EOF packet read as one (Info empty).
type OK struct {
	AffectedRows uint64
	LastInsertID uint64
	Status       uint16
	Warnings     uint16
	// Info is the human-readable status (and, with session tracking, what
	// follows it is not decoded). A sub-slice of the packet.
	Info []byte
}

// ParseOK parses an OK packet (header 0x00), or an OK packet with header
// 0xfe ending a result set under ClientDeprecateEOF.
func ParseOK(p []byte) (OK, error) {
	var ok OK
	if len(p) < 1 || (p[0] != HeaderOK && p[0] != HeaderEOF) {
		return ok, malformed("OK packet header")
	}
	pos := 1
	v, _, n := ReadLenEnc(p[pos:])
	if n == 0 {
		return ok, malformed("OK packet affected rows")
	}
	ok.AffectedRows = v
	pos += n
	v, _, n = ReadLenEnc(p[pos:])
	if n == 0 {
		return ok, malformed("OK packet last insert id")
	}
	ok.LastInsertID = v
	pos += n
	if len(p) < pos+4 {
		// Pre-4.1 servers stop here; so do some minimal OK packets.
		return ok, nil
	}
	ok.Status = binary.LittleEndian.Uint16(p[pos:])
	ok.Warnings = binary.LittleEndian.Uint16(p[pos+2:])
	ok.Info = p[pos+4:]
	return ok, nil
}

// IsEOF reports whether p is an EOF packet (or, under ClientDeprecateEOF, an
// OK packet ending a result set): header 0xfe and shorter than a row could be
// with that header.
func IsEOF(p []byte) bool { return len(p) > 0 && p[0] == HeaderEOF && len(p) < 0xffffff }

// ParseEOF returns the status flags and warnings of an EOF packet, in either
// form (classic 5-byte EOF, or OK packet with header 0xfe).
func ParseEOF(p []byte, deprecateEOF bool) (status, warnings uint16, err error) {
	if len(p) < 1 || p[0] != HeaderEOF {
		return 0, 0, malformed("EOF packet header")
	}
	if deprecateEOF && len(p) > 5 {
		ok, err := ParseOK(p)
		return ok.Status, ok.Warnings, err
	}
	if len(p) >= 5 {
		return binary.LittleEndian.Uint16(p[3:]), binary.LittleEndian.Uint16(p[1:]), nil
	}
	return 0, 0, nil
}

// Err is an ERR packet, and an error.
type Err struct {
	Code     uint16
	SQLState string
	Message  string
}

// Error implements error.
func (e *Err) Error() string {
	if e.SQLState != "" {
		return "ERROR " + itoa(int(e.Code)) + " (" + e.SQLState + "): " + e.Message
	}
	return "ERROR " + itoa(int(e.Code)) + ": " + e.Message
}

func itoa(v int) string {
	var b [20]byte
	i := len(b)
	neg := v < 0
	if neg {
		v = -v
	}
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// ParseErr parses an ERR packet (header 0xff).
func ParseErr(p []byte) (*Err, error) {
	if len(p) < 3 || p[0] != HeaderErr {
		return nil, malformed("ERR packet")
	}
	e := &Err{Code: binary.LittleEndian.Uint16(p[1:])}
	rest := p[3:]
	if len(rest) >= 6 && rest[0] == '#' {
		e.SQLState = string(rest[1:6])
		rest = rest[6:]
	}
	e.Message = string(rest)
	return e, nil
}

// AppendErr appends the payload of an ERR packet (protocol 4.1 form).
func AppendErr(b []byte, code uint16, state, msg string) []byte {
	b = append(b, HeaderErr, byte(code), byte(code>>8), '#')
	if len(state) != 5 {
		state = "HY000"
	}
	b = append(b, state...)
	return append(b, msg...)
}

// AppendOK appends the payload of a minimal OK packet.
func AppendOK(b []byte, affected, insertID uint64, status, warnings uint16) []byte {
	b = append(b, HeaderOK)
	b = AppendLenEnc(b, affected)
	b = AppendLenEnc(b, insertID)
	return append(b, byte(status), byte(status>>8), byte(warnings), byte(warnings>>8))
}
