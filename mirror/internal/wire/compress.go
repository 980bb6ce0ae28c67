package wire

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// compressedHeaderSize is the size of a compressed packet's header: 3 bytes
// of compressed length, 1 of sequence, 3 of uncompressed length (0: the
// payload is sent as it is).
const compressedHeaderSize = 7

// minCompressLength is the payload size below which a compressed packet
// carries its payload uncompressed, as MariaDB and MySQL do.
const minCompressLength = 50

// CompressedConn is a net.Conn speaking the compressed protocol over another
// one, with zlib (CLIENT_COMPRESS) or zstd (CLIENT_ZSTD_COMPRESSION_ALGORITHM,
// MySQL 8.0.18 and later): what is written is sent as compressed packets,
// what is read is the decompressed stream of MySQL packets. A Conn (NewConn,
// or Reset after the handshake's OK) reads and writes packets over it
// unchanged. Both algorithms frame packets alike; a zstd packet's payload is
// one zstd frame.
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

	zstd  *ZstdCodec // nil: zlib
	level zstd.EncoderLevel
	enc   *zstd.Encoder // the codec's, looked up on first use
	dec   *zstd.Decoder
}

// NewCompressedConn returns nc speaking the zlib compressed protocol.
func NewCompressedConn(nc net.Conn) *CompressedConn { return &CompressedConn{Conn: nc} }

// NewZstdConn returns nc speaking the zstd compressed protocol, compressing
// at level (zstd's 1 to 22, as a client's handshake response carries it; 0
// is zstd's default, 3) with z's shared state.
func NewZstdConn(nc net.Conn, z *ZstdCodec, level int) *CompressedConn {
	if level <= 0 {
		level = 3
	}
	return &CompressedConn{Conn: nc, zstd: z, level: zstd.EncoderLevelFromZstd(level)}
}

// ZstdCodec is the zstd state the CompressedConns of one owner (a proxy)
// share: an encoder per level and a decoder, each as many times over as
// there are CPUs. A zstd encoder takes hundreds of KiB to more than a MiB,
// too much to keep one per connection for thousands of connections. It is
// safe for concurrent use, holds no goroutines and needs no closing; the
// zero value is not usable: use NewZstdCodec.
type ZstdCodec struct {
	mu  sync.Mutex
	enc map[zstd.EncoderLevel]*zstd.Encoder
	dec *zstd.Decoder
}

// NewZstdCodec returns a codec that creates its encoders and decoder on
// first use.
func NewZstdCodec() *ZstdCodec {
	return &ZstdCodec{enc: make(map[zstd.EncoderLevel]*zstd.Encoder)}
}

func (z *ZstdCodec) encoder(level zstd.EncoderLevel) (*zstd.Encoder, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if e := z.enc[level]; e != nil {
		return e, nil
	}
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, err
	}
	z.enc[level] = e
	return e, nil
}

func (z *ZstdCodec) decoder() (*zstd.Decoder, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.dec == nil {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(MaxPayload+1))
		if err != nil {
			return nil, err
		}
		z.dec = d
	}
	return z.dec, nil
}

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
	if c.zstd != nil {
		return c.decodeZstd(in, ulen)
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

func (c *CompressedConn) decodeZstd(in []byte, ulen int) error {
	if c.dec == nil {
		d, err := c.zstd.decoder()
		if err != nil {
			return err
		}
		c.dec = d
	}
	out, err := c.dec.DecodeAll(in, c.buf[len(in):len(in)])
	if err != nil {
		return malformed(fmt.Sprintf("zstd compressed packet: %v", err))
	}
	if len(out) != ulen {
		return malformed(fmt.Sprintf("zstd compressed packet: %d bytes announced, %d decompressed", ulen, len(out)))
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
		if err := c.compress(p); err != nil {
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

// compress appends p compressed to c.out.
func (c *CompressedConn) compress(p []byte) error {
	if c.zstd != nil {
		if c.enc == nil {
			e, err := c.zstd.encoder(c.level)
			if err != nil {
				return err
			}
			c.enc = e
		}
		c.out.Write(c.enc.EncodeAll(p, c.out.AvailableBuffer()))
		return nil
	}
	if c.zw == nil {
		c.zw = zlib.NewWriter(&c.out)
	} else {
		c.zw.Reset(&c.out)
	}
	if _, err := c.zw.Write(p); err != nil {
		return err
	}
	return c.zw.Close()
}
