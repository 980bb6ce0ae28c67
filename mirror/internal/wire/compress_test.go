package wire

import (
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// compressedPair returns the two ends of a pipe speaking the compressed
// protocol with alg ("zlib" or "zstd").
func compressedPair(t *testing.T, alg string) (w, r *CompressedConn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	if alg == "zlib" {
		return NewCompressedConn(a), NewCompressedConn(b)
	}
	z := NewZstdCodec()
	return NewZstdConn(a, z, 3), NewZstdConn(b, z, 19)
}

func TestCompressedConnRoundTrip(t *testing.T) {
	for _, alg := range []string{"zlib", "zstd"} {
		t.Run(alg, func(t *testing.T) {
			w, r := compressedPair(t, alg)
			big := bytes.Repeat([]byte("0123456789"), (MaxPayload+1000)/10) // two compressed packets
			random := make([]byte, 4096)
			for i := range random {
				random[i] = byte(i*7919 + i>>3)
			}
			payloads := [][]byte{[]byte("short"), bytes.Repeat([]byte("ab"), 500), random, big}
			done := make(chan error, 1)
			go func() {
				for _, p := range payloads {
					if _, err := w.Write(p); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for _, p := range payloads {
				got := make([]byte, len(p))
				_, err := io.ReadFull(r, got)
				require.NoError(t, err)
				require.Equal(t, p, got)
			}
			require.NoError(t, <-done)
			// Sequence ids: the writer numbered its packets 0..4, the reader
			// answers with 5; ResetSequence starts a command at 0.
			require.Equal(t, uint8(5), w.seq)
			require.Equal(t, uint8(5), r.seq)
			r.ResetSequence()
			require.Equal(t, uint8(0), r.seq)
		})
	}
}

// TestCompressedConnShrinks checks that a compressible payload travels
// compressed (its packet announces an uncompressed length and is smaller),
// and a short one as it is.
func TestCompressedConnShrinks(t *testing.T) {
	for _, alg := range []string{"zlib", "zstd"} {
		t.Run(alg, func(t *testing.T) {
			a, b := net.Pipe()
			t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
			var w *CompressedConn
			if alg == "zlib" {
				w = NewCompressedConn(a)
			} else {
				z := NewZstdCodec()
				w = NewZstdConn(a, z, 0)
			}
			p := bytes.Repeat([]byte("select 1 from dual; "), 100)
			go func() { _, _ = w.Write(p); _, _ = w.Write([]byte("tiny")) }()
			var h [compressedHeaderSize]byte
			_, err := io.ReadFull(b, h[:])
			require.NoError(t, err)
			clen, ulen := int(h[0])|int(h[1])<<8, int(h[4])|int(h[5])<<8
			require.Equal(t, len(p), ulen)
			require.Less(t, clen, len(p)/10)
			_, err = io.ReadFull(b, make([]byte, clen))
			require.NoError(t, err)
			_, err = io.ReadFull(b, h[:])
			require.NoError(t, err)
			require.Equal(t, []byte{4, 0, 0, 1, 0, 0, 0}, h[:])
		})
	}
}

func TestCompressedConnMalformed(t *testing.T) {
	for _, alg := range []string{"zlib", "zstd"} {
		t.Run(alg, func(t *testing.T) {
			w, r := compressedPair(t, alg)
			go func() {
				// Announces 100 uncompressed bytes, sends bytes that are
				// neither zlib nor zstd.
				_, _ = w.Conn.Write([]byte{5, 0, 0, 0, 100, 0, 0, 1, 2, 3, 4, 5})
			}()
			_, err := r.Read(make([]byte, 10))
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

// TestZstdConnLengthMismatch checks that a zstd frame decompressing to
// another length than its packet announces is malformed.
func TestZstdConnLengthMismatch(t *testing.T) {
	w, r := compressedPair(t, "zstd")
	e, err := r.zstd.encoder(r.level)
	require.NoError(t, err)
	frame := e.EncodeAll(bytes.Repeat([]byte("x"), 200), nil)
	pkt := append([]byte{byte(len(frame)), 0, 0, 0, 100, 0, 0}, frame...) // announces 100, holds 200
	go func() { _, _ = w.Conn.Write(pkt) }()
	_, err = r.Read(make([]byte, 10))
	require.ErrorIs(t, err, ErrMalformed)
	require.ErrorContains(t, err, "100 bytes announced, 200 decompressed")
}

// FuzzCompressedConn feeds arbitrary bytes to both algorithms' readers: they
// return data or an error, never panic, and never return more data than the
// packets announce.
func FuzzCompressedConn(f *testing.F) {
	var zl, zs bytes.Buffer
	z := NewZstdCodec()
	_, _ = NewCompressedConn(&bufConn{w: &zl}).Write(bytes.Repeat([]byte("abc"), 40))
	_, _ = NewZstdConn(&bufConn{w: &zs}, z, 3).Write(bytes.Repeat([]byte("abc"), 40))
	f.Add(zl.Bytes(), false)
	f.Add(zs.Bytes(), true)
	f.Add([]byte{5, 0, 0, 0, 100, 0, 0, 1, 2, 3, 4, 5}, true)
	f.Fuzz(func(t *testing.T, in []byte, useZstd bool) {
		nc := &bufConn{r: bytes.NewReader(in)}
		var c *CompressedConn
		if useZstd {
			c = NewZstdConn(nc, z, 3)
		} else {
			c = NewCompressedConn(nc)
		}
		n, _ := io.Copy(io.Discard, c)
		if n > int64(len(in))*1024+1<<24 {
			t.Fatalf("%d bytes out of %d in", n, len(in))
		}
	})
}

// bufConn is a net.Conn reading r and writing w.
type bufConn struct {
	net.Conn
	r io.Reader
	w io.Writer
}

func (c *bufConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *bufConn) Write(b []byte) (int, error) { return c.w.Write(b) }
