package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxLineBytes bounds one physical line of a log file; longer lines are
// reported as malformed and skipped.
const maxLineBytes = 16 << 20

// lineReader reads physical lines, counting them, and skips (and reports)
// lines longer than maxLineBytes.
type lineReader struct {
	r    *bufio.Reader
	line int64
	buf  []byte
	// tooLong is called with the line number of each line that was too long.
	tooLong func(line int64)
}

func newLineReader(r io.Reader, tooLong func(int64)) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), tooLong: tooLong}
}

// next returns the next line without its "\n" (and "\r\n"); the bytes are
// valid until the next call. It returns io.EOF at the end.
func (l *lineReader) next() ([]byte, error) {
	for {
		l.buf = l.buf[:0]
		long := false
		for {
			chunk, err := l.r.ReadSlice('\n')
			if !long {
				if len(l.buf)+len(chunk) > maxLineBytes {
					long = true
					l.buf = l.buf[:0]
				} else {
					l.buf = append(l.buf, chunk...)
				}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err == io.EOF {
				if len(l.buf) == 0 && !long {
					return nil, io.EOF
				}
				break
			}
			if err != nil {
				return nil, err
			}
			break
		}
		l.line++
		if long {
			if l.tooLong != nil {
				l.tooLong(l.line)
			}
			continue
		}
		b := bytes.TrimSuffix(l.buf, []byte("\n"))
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
}

// logLines is the line source the log parsers (audit, slow and general log)
// embed: it opens the file on the first next (unless start was given a
// stream), counts lines longer than maxLineBytes and read errors as
// malformed, and gives the parser its counter, Stats and Close. The parser
// keeps only its format's logic.
type logLines struct {
	path string // the file, or the name used in positions for a stream
	c    counter
	rc   io.ReadCloser
	lr   *lineReader
	done bool
}

// start reads rc instead of opening path.
func (l *logLines) start(rc io.ReadCloser) {
	l.rc = rc
	l.lr = newLineReader(rc, func(n int64) {
		l.c.malformed(Position{l.path, n}, "line longer than %d bytes", maxLineBytes)
	})
}

// next returns the next line (valid until the next call), opening the file
// on the first call. ok is false at the end of the input, after a read error
// (counted as malformed at the line it hit), after Close, and after an open
// error (returned once). err is otherwise ctx's error.
func (l *logLines) next(ctx context.Context) (line []byte, ok bool, err error) {
	if l.lr == nil && !l.done {
		rc, err := openLog(l.path)
		if err != nil {
			l.done = true
			return nil, false, fmt.Errorf("replay: %w", err)
		}
		l.start(rc)
	}
	if l.done {
		return nil, false, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	line, err = l.lr.next()
	if err != nil {
		if err != io.EOF {
			l.c.malformed(Position{l.path, l.lr.line + 1}, "read: %v", err)
		}
		l.done = true
		return nil, false, nil
	}
	return line, true, nil
}

// pos is the position of the line next returned last.
func (l *logLines) pos() Position { return Position{l.path, l.lr.line} }

// Stats returns the source's counts.
func (l *logLines) Stats() SourceStats { return l.c.stats() }

// Close closes the file; next then reports the end.
func (l *logLines) Close() error {
	l.done = true
	if l.rc != nil {
		rc := l.rc
		l.rc = nil
		return rc.Close()
	}
	return nil
}

// openLog opens a log file, decompressing it when it is gzip (by content,
// whatever its name).
func openLog(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var magic [2]byte
	n, _ := io.ReadFull(f, magic[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	if n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("replay: %s: %w", path, err)
		}
		return &gzipFile{zr, f}, nil
	}
	return f, nil
}

type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gzipFile) Close() error {
	err := g.Reader.Close()
	if err2 := g.f.Close(); err == nil {
		err = err2
	}
	return err
}
