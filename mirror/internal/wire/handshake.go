package wire

import (
	"encoding/binary"
)

// Greeting is the server's initial handshake packet (protocol version 10).
type Greeting struct {
	ProtocolVersion byte
	ServerVersion   string
	ConnID          uint32
	// AuthData is the whole scramble (both parts, without the trailing NUL).
	AuthData     []byte
	Capabilities uint32
	Charset      byte
	Status       uint16
	// MariaDBCapabilities are MariaDB's extended capabilities (0 when the
	// server sets ClientLongPassword, i.e. is not MariaDB).
	MariaDBCapabilities uint32
	AuthPlugin          string
}

// ParseGreeting parses the payload of a server greeting.
func ParseGreeting(p []byte) (*Greeting, error) {
	g := &Greeting{}
	if len(p) < 1 {
		return nil, malformed("greeting: empty")
	}
	g.ProtocolVersion = p[0]
	if g.ProtocolVersion != 10 {
		return nil, malformed("greeting: protocol version is not 10")
	}
	pos := 1
	v, n := readNul(p[pos:])
	if n == 0 {
		return nil, malformed("greeting: server version")
	}
	g.ServerVersion = string(v)
	pos += n
	if len(p) < pos+4+8+1+2 {
		return nil, malformed("greeting: too short")
	}
	g.ConnID = binary.LittleEndian.Uint32(p[pos:])
	pos += 4
	g.AuthData = append(g.AuthData, p[pos:pos+8]...)
	pos += 8 + 1
	g.Capabilities = uint32(binary.LittleEndian.Uint16(p[pos:]))
	pos += 2
	if len(p) == pos {
		return g, nil
	}
	if len(p) < pos+1+2+2+1+10 {
		return nil, malformed("greeting: too short for capabilities")
	}
	g.Charset = p[pos]
	g.Status = binary.LittleEndian.Uint16(p[pos+1:])
	g.Capabilities |= uint32(binary.LittleEndian.Uint16(p[pos+3:])) << 16
	authLen := int(p[pos+5])
	pos += 6
	if g.Capabilities&ClientLongPassword == 0 {
		g.MariaDBCapabilities = binary.LittleEndian.Uint32(p[pos+6:])
	}
	pos += 10
	if g.Capabilities&ClientSecureConnection != 0 {
		n := authLen - 8
		if n < 13 {
			n = 13
		}
		if len(p) < pos+n {
			return nil, malformed("greeting: auth data")
		}
		part := p[pos : pos+n]
		if len(part) > 0 && part[len(part)-1] == 0 {
			part = part[:len(part)-1]
		}
		g.AuthData = append(g.AuthData, part...)
		pos += n
	}
	if g.Capabilities&ClientPluginAuth != 0 && pos < len(p) {
		name, n := readNul(p[pos:])
		if n == 0 {
			name = p[pos:] // some servers omit the final NUL
		}
		g.AuthPlugin = string(name)
	}
	return g, nil
}

// Append appends g serialised as a greeting payload.
func (g *Greeting) Append(b []byte) []byte {
	b = append(b, g.ProtocolVersion)
	b = append(b, g.ServerVersion...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, g.ConnID)
	auth := g.AuthData
	var part1 [8]byte
	copy(part1[:], auth)
	b = append(b, part1[:]...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(g.Capabilities))
	b = append(b, g.Charset)
	b = binary.LittleEndian.AppendUint16(b, g.Status)
	b = binary.LittleEndian.AppendUint16(b, uint16(g.Capabilities>>16))
	if g.Capabilities&ClientPluginAuth != 0 {
		b = append(b, byte(len(auth)+1))
	} else {
		b = append(b, 0)
	}
	b = append(b, 0, 0, 0, 0, 0, 0)
	if g.Capabilities&ClientLongPassword == 0 {
		b = binary.LittleEndian.AppendUint32(b, g.MariaDBCapabilities)
	} else {
		b = append(b, 0, 0, 0, 0)
	}
	if g.Capabilities&ClientSecureConnection != 0 {
		var part2 []byte
		if len(auth) > 8 {
			part2 = auth[8:]
		}
		b = append(b, part2...)
		for i := len(part2); i < 12; i++ {
			b = append(b, 0)
		}
		b = append(b, 0)
	}
	if g.Capabilities&ClientPluginAuth != 0 {
		b = append(b, g.AuthPlugin...)
		b = append(b, 0)
	}
	return b
}

// HandshakeResponse is the client's HandshakeResponse41 (or, with only the
// fixed part, an SSLRequest).
type HandshakeResponse struct {
	Capabilities        uint32
	MaxPacket           uint32
	Charset             byte
	MariaDBCapabilities uint32
	// SSLRequest is true when the packet stops after the fixed part.
	SSLRequest bool
	User       string
	AuthData   []byte
	Database   string
	AuthPlugin string
	// Attrs is the raw connect attributes block (without its length).
	Attrs []byte
	// ZstdLevel is the zstd compression level (1 to 22) the client asks
	// for, present with ClientZstdCompression.
	ZstdLevel byte
}

// handshakeFixed is the size of the fixed part (and of an SSLRequest).
const handshakeFixed = 32

// ParseHandshakeResponse parses a HandshakeResponse41 or SSLRequest payload.
// It returns an error for the pre-4.1 protocol.
func ParseHandshakeResponse(p []byte) (*HandshakeResponse, error) {
	if len(p) < handshakeFixed {
		return nil, malformed("handshake response: too short (pre-4.1 client?)")
	}
	r := &HandshakeResponse{
		Capabilities: binary.LittleEndian.Uint32(p),
		MaxPacket:    binary.LittleEndian.Uint32(p[4:]),
		Charset:      p[8],
	}
	if r.Capabilities&ClientProtocol41 == 0 {
		return nil, malformed("handshake response: client does not speak protocol 4.1")
	}
	if r.Capabilities&ClientLongPassword == 0 {
		r.MariaDBCapabilities = binary.LittleEndian.Uint32(p[28:])
	}
	if len(p) == handshakeFixed {
		r.SSLRequest = true
		return r, nil
	}
	pos := handshakeFixed
	user, n := readNul(p[pos:])
	if n == 0 {
		return nil, malformed("handshake response: user")
	}
	r.User = string(user)
	pos += n
	switch {
	case r.Capabilities&ClientPluginAuthLenencClientData != 0:
		s, _, n := ReadLenEncString(p[pos:])
		if n == 0 {
			return nil, malformed("handshake response: auth data")
		}
		r.AuthData = append([]byte{}, s...)
		pos += n
	case r.Capabilities&ClientSecureConnection != 0:
		if pos >= len(p) || pos+1+int(p[pos]) > len(p) {
			return nil, malformed("handshake response: auth data")
		}
		l := int(p[pos])
		r.AuthData = append([]byte{}, p[pos+1:pos+1+l]...)
		pos += 1 + l
	default:
		s, n := readNul(p[pos:])
		if n == 0 {
			return nil, malformed("handshake response: auth data")
		}
		r.AuthData = append([]byte{}, s...)
		pos += n
	}
	if r.Capabilities&ClientConnectWithDB != 0 && pos < len(p) {
		db, n := readNul(p[pos:])
		if n == 0 {
			return nil, malformed("handshake response: database")
		}
		r.Database = string(db)
		pos += n
	}
	if r.Capabilities&ClientPluginAuth != 0 && pos < len(p) {
		name, n := readNul(p[pos:])
		if n == 0 {
			name, n = p[pos:], len(p)-pos
		}
		r.AuthPlugin = string(name)
		pos += n
	}
	if r.Capabilities&ClientConnectAttrs != 0 && pos < len(p) {
		s, _, n := ReadLenEncString(p[pos:])
		if n == 0 {
			return nil, malformed("handshake response: connect attributes")
		}
		r.Attrs = append([]byte{}, s...)
		pos += n
	}
	if r.Capabilities&ClientZstdCompression != 0 && pos < len(p) {
		r.ZstdLevel = p[pos]
	}
	return r, nil
}

// Append appends r serialised as a HandshakeResponse41 payload (or as an
// SSLRequest when r.SSLRequest), in the layout its Capabilities call for.
func (r *HandshakeResponse) Append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, r.Capabilities)
	b = binary.LittleEndian.AppendUint32(b, r.MaxPacket)
	b = append(b, r.Charset)
	b = append(b, make([]byte, 19)...)
	if r.Capabilities&ClientLongPassword == 0 {
		b = binary.LittleEndian.AppendUint32(b, r.MariaDBCapabilities)
	} else {
		b = append(b, 0, 0, 0, 0)
	}
	if r.SSLRequest {
		return b
	}
	b = append(b, r.User...)
	b = append(b, 0)
	switch {
	case r.Capabilities&ClientPluginAuthLenencClientData != 0:
		b = AppendLenEncString(b, r.AuthData)
	case r.Capabilities&ClientSecureConnection != 0:
		b = append(b, byte(len(r.AuthData)))
		b = append(b, r.AuthData...)
	default:
		b = append(b, r.AuthData...)
		b = append(b, 0)
	}
	if r.Capabilities&ClientConnectWithDB != 0 {
		b = append(b, r.Database...)
		b = append(b, 0)
	}
	if r.Capabilities&ClientPluginAuth != 0 {
		b = append(b, r.AuthPlugin...)
		b = append(b, 0)
	}
	if r.Capabilities&ClientConnectAttrs != 0 {
		b = AppendLenEncString(b, r.Attrs)
	}
	if r.Capabilities&ClientZstdCompression != 0 {
		b = append(b, r.ZstdLevel)
	}
	return b
}

// ChangeUser is the body of a COM_CHANGE_USER command.
type ChangeUser struct {
	User       string
	AuthData   []byte
	Database   string
	Charset    uint16
	AuthPlugin string
}

// ParseChangeUser parses a COM_CHANGE_USER payload (command byte included)
// sent under caps. Only what follows the user and database is optional.
func ParseChangeUser(p []byte, caps uint32) (*ChangeUser, error) {
	if len(p) < 1 || p[0] != ComChangeUser {
		return nil, malformed("change user: command byte")
	}
	cu := &ChangeUser{}
	pos := 1
	user, n := readNul(p[pos:])
	if n == 0 {
		return nil, malformed("change user: user")
	}
	cu.User = string(user)
	pos += n
	if caps&ClientSecureConnection != 0 {
		if pos >= len(p) || pos+1+int(p[pos]) > len(p) {
			return nil, malformed("change user: auth data")
		}
		l := int(p[pos])
		cu.AuthData = append([]byte{}, p[pos+1:pos+1+l]...)
		pos += 1 + l
	} else {
		s, n := readNul(p[pos:])
		if n == 0 {
			return nil, malformed("change user: auth data")
		}
		cu.AuthData = append([]byte{}, s...)
		pos += n
	}
	db, n := readNul(p[pos:])
	if n == 0 {
		return cu, nil
	}
	cu.Database = string(db)
	pos += n
	if len(p) >= pos+2 {
		cu.Charset = binary.LittleEndian.Uint16(p[pos:])
		pos += 2
	}
	if caps&ClientPluginAuth != 0 && pos < len(p) {
		name, _ := readNul(p[pos:])
		cu.AuthPlugin = string(name)
	}
	return cu, nil
}
