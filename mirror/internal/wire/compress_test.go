package wire

import (
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCompressedConnRoundTrip(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w, r := NewCompressedConn(a), NewCompressedConn(b)
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
}

func TestCompressedConnMalformed(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		// Announces 100 uncompressed bytes, sends bytes that are not zlib.
		_, _ = a.Write([]byte{5, 0, 0, 0, 100, 0, 0, 1, 2, 3, 4, 5})
	}()
	_, err := NewCompressedConn(b).Read(make([]byte, 10))
	require.ErrorIs(t, err, ErrMalformed)
}
