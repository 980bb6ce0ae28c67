package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
)

// MaxPayload is the largest payload of one physical packet. A logical packet
// of MaxPayload bytes or more is split into physical packets of MaxPayload
// bytes, ended by a shorter one (possibly empty).
const MaxPayload = 1<<24 - 1

// HeaderSize is the size of a packet header: 3 bytes of length, 1 of sequence.
const HeaderSize = 4

// DefaultBufferSize is the size of the read and write buffers of a Conn.
const DefaultBufferSize = 64 << 10

var (
	// ErrMalformed is wrapped by every error about a packet that does not
	// parse.
	ErrMalformed = errors.New("wire: malformed packet")
	// ErrPacketTooLarge is returned when a logical packet exceeds the
	// Conn's MaxPacket.
	ErrPacketTooLarge = errors.New("wire: packet too large")
)

func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }

// Conn reads and writes MySQL packets over a buffered connection. Reads hand
// out slices of the read buffer where the packet fits in it (no copy), valid
// until the next read. A Conn is not safe for concurrent use, except that
// one goroutine may read while another writes.
type Conn struct {
	nc net.Conn
	br *bufio.Reader
	bw *bufio.Writer

	pending int    // bytes of the last peeked packet still to discard
	big     []byte // physical packets larger than the read buffer
	join    []byte // logical packets of several physical packets

	// MaxPacket bounds a joined logical packet (0 = 1 GiB).
	MaxPacket int

	// BytesRead and BytesWritten count wire bytes, headers included.
	BytesRead, BytesWritten int64
}

// NewConn returns a Conn over nc with buffers of DefaultBufferSize.
func NewConn(nc net.Conn) *Conn {
	return &Conn{nc: nc, br: bufio.NewReaderSize(nc, DefaultBufferSize), bw: bufio.NewWriterSize(nc, DefaultBufferSize)}
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Buffered returns the bytes read from the connection but not yet consumed
// (for example a TLS ClientHello sent right behind an SSLRequest).
func (c *Conn) Buffered() []byte {
	c.discard()
	n := c.br.Buffered()
	b, _ := c.br.Peek(n)
	return append([]byte(nil), b...)
}

// Reset makes the Conn read and write nc (after a TLS upgrade), dropping its
// buffers' content.
func (c *Conn) Reset(nc net.Conn) {
	c.nc = nc
	c.pending = 0
	c.br.Reset(nc)
	c.bw.Reset(nc)
}

func (c *Conn) discard() {
	if c.pending > 0 {
		_, _ = c.br.Discard(c.pending)
		c.pending = 0
	}
}

// ReadRaw reads one physical packet and returns it whole, header included.
// The slice is valid until the next read on c.
func (c *Conn) ReadRaw() ([]byte, error) {
	c.discard()
	h, err := c.br.Peek(HeaderSize)
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	total := HeaderSize + (int(h[0]) | int(h[1])<<8 | int(h[2])<<16)
	c.BytesRead += int64(total)
	if total <= c.br.Size() {
		p, err := c.br.Peek(total)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		c.pending = total
		return p, nil
	}
	if cap(c.big) < total {
		c.big = make([]byte, total)
	}
	p := c.big[:total]
	if _, err := io.ReadFull(c.br, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return p, nil
}

// PayloadLen returns the payload length in the header of raw.
func PayloadLen(raw []byte) int { return int(raw[0]) | int(raw[1])<<8 | int(raw[2])<<16 }

// ReadPacket reads one logical packet, joining physical packets of
// MaxPayload bytes with what follows them. fn, when not nil, is called with
// each physical packet (header included) as it is read, so that a relay can
// forward it unchanged. It returns the sequence id of the first physical
// packet and the payload, valid until the next read on c.
func (c *Conn) ReadPacket(fn func(raw []byte) error) (seq uint8, payload []byte, err error) {
	raw, err := c.ReadRaw()
	if err != nil {
		return 0, nil, err
	}
	seq = raw[3]
	if fn != nil {
		if err := fn(raw); err != nil {
			return 0, nil, err
		}
	}
	if PayloadLen(raw) < MaxPayload {
		return seq, raw[HeaderSize:], nil
	}
	limit := c.MaxPacket
	if limit <= 0 {
		limit = 1 << 30
	}
	c.join = append(c.join[:0], raw[HeaderSize:]...)
	for {
		raw, err = c.ReadRaw()
		if err != nil {
			return 0, nil, err
		}
		if fn != nil {
			if err := fn(raw); err != nil {
				return 0, nil, err
			}
		}
		if len(c.join)+len(raw)-HeaderSize > limit {
			return 0, nil, ErrPacketTooLarge
		}
		c.join = append(c.join, raw[HeaderSize:]...)
		if PayloadLen(raw) < MaxPayload {
			if cap(c.join) > 4*MaxPayload {
				// Do not keep a huge buffer for the life of the connection.
				out := c.join
				c.join = nil
				return seq, out, nil
			}
			return seq, c.join, nil
		}
	}
}

// WriteRaw writes one physical packet (header included) to the write buffer.
func (c *Conn) WriteRaw(raw []byte) error {
	c.BytesWritten += int64(len(raw))
	_, err := c.bw.Write(raw)
	return err
}

// Available returns how many bytes can be written before the buffer flushes.
func (c *Conn) Available() int { return c.bw.Available() }

// WritePacket writes a logical packet with sequence id seq, splitting it into
// physical packets as needed, and returns the next sequence id. It does not
// flush.
func (c *Conn) WritePacket(seq uint8, payload []byte) (uint8, error) {
	for {
		n := len(payload)
		if n > MaxPayload {
			n = MaxPayload
		}
		hdr := [HeaderSize]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}
		seq++
		if _, err := c.bw.Write(hdr[:]); err != nil {
			return seq, err
		}
		if _, err := c.bw.Write(payload[:n]); err != nil {
			return seq, err
		}
		c.BytesWritten += int64(HeaderSize + n)
		payload = payload[n:]
		if n < MaxPayload {
			return seq, nil
		}
	}
}

// Flush writes the buffered packets to the connection.
func (c *Conn) Flush() error { return c.bw.Flush() }

// Buffering returns how many bytes wait in the write buffer.
func (c *Conn) Buffering() int { return c.bw.Buffered() }
