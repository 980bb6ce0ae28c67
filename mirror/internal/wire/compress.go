package wire

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"net"
)

// compressedHeaderSize is the size of a compressed packet's header: 3 bytes
// of compressed length, 1 of sequence, 3 of uncompressed length (0: the
// payload is sent as it is).
const compressedHeaderSize = 7

// minCompressLength is the payload size below which a compressed packet
// carries its payload uncompressed, as MariaDB and MySQL do.
const minCompressLength = 50

// CompressedConn is a net.Conn speaking the zlib compressed protocol
// (CLIENT_COMPRESS) over another one: what is written is sent as compressed
// packets, what is read is the decompressed stream of MySQL packets. A Conn
// (NewConn, or Reset after the handshake's OK) reads and writes packets over
// it unchanged.
//
// Compressed packets carry a sequence id of their own: a write continues
// from the last compressed packet read plus one (an answer), and
// ResetSequence starts a command at 0 (the side that sends commands calls it
// before each).
type CompressedConn struct {
	net.Conn
	seq uint8

	rd  []byte // decompressed data not yet read
	buf []byte // the current compressed packet's payload, and decompression output
	zr  io.ReadCloser
	src bytes.Reader

	zw  *zlib.Writer
	out bytes.Buffer
}

// NewCompressedConn returns nc speaking the compressed protocol.
func NewCompressedConn(nc net.Conn) *CompressedConn { return &CompressedConn{Conn: nc} }

// ResetSequence makes the next written compressed packet's sequence id 0:
// the start of a command.
func (c *CompressedConn) ResetSequence() { c.seq = 0 }

// Read reads decompressed bytes.
func (c *CompressedConn) Read(b []byte) (int, error) {
	for len(c.rd) == 0 {
		if err := c.readPacket(); err != nil {
			return 0, err
		}
	}
	n := copy(b, c.rd)
	c.rd = c.rd[n:]
	return n, nil
}

func (c *CompressedConn) readPacket() error {
	var h [compressedHeaderSize]byte
	if _, err := io.ReadFull(c.Conn, h[:]); err != nil {
		return err
	}
	clen := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	ulen := int(h[4]) | int(h[5])<<8 | int(h[6])<<16
	c.seq = h[3] + 1
	if need := clen + ulen; cap(c.buf) < need || cap(c.buf) > 1<<20 && need <= 1<<20 {
		c.buf = make([]byte, need)
	}
	in := c.buf[:clen]
	if _, err := io.ReadFull(c.Conn, in); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if ulen == 0 {
		c.rd = in
		return nil
	}
	c.src.Reset(in)
	var err error
	if c.zr == nil {
		c.zr, err = zlib.NewReader(&c.src)
	} else {
		err = c.zr.(zlib.Resetter).Reset(&c.src, nil)
	}
	if err != nil {
		return malformed(fmt.Sprintf("compressed packet: %v", err))
	}
	out := c.buf[clen : clen+ulen]
	if _, err := io.ReadFull(c.zr, out); err != nil {
		return malformed(fmt.Sprintf("compressed packet: %v", err))
	}
	c.rd = out
	return nil
}

// Write sends b as compressed packets of at most MaxPayload bytes of
// uncompressed data each.
func (c *CompressedConn) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		chunk := b[:min(len(b), MaxPayload)]
		if err := c.writePacket(chunk); err != nil {
			return written, err
		}
		written += len(chunk)
		b = b[len(chunk):]
	}
	return written, nil
}

func (c *CompressedConn) writePacket(p []byte) error {
	var header [compressedHeaderSize]byte
	c.out.Reset()
	c.out.Write(header[:])
	ulen := 0
	if len(p) >= minCompressLength {
		if c.zw == nil {
			c.zw = zlib.NewWriter(&c.out)
		} else {
			c.zw.Reset(&c.out)
		}
		if _, err := c.zw.Write(p); err != nil {
			return err
		}
		if err := c.zw.Close(); err != nil {
			return err
		}
		ulen = len(p)
		if c.out.Len()-compressedHeaderSize >= len(p) { // no gain: send it as it is
			c.out.Truncate(compressedHeaderSize)
			ulen = 0
		}
	}
	if ulen == 0 {
		c.out.Write(p)
	}
	pkt := c.out.Bytes()
	clen := len(pkt) - compressedHeaderSize
	pkt[0], pkt[1], pkt[2] = byte(clen), byte(clen>>8), byte(clen>>16)
	pkt[3] = c.seq
	pkt[4], pkt[5], pkt[6] = byte(ulen), byte(ulen>>8), byte(ulen>>16)
	c.seq++
	_, err := c.Conn.Write(pkt)
	if c.out.Cap() > 1<<20 {
		c.out = bytes.Buffer{}
	}
	return err
}
