package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress prints steps, and a progress bar on a terminal (plain lines at
// each tenth otherwise).
type progress struct {
	w        io.Writer
	quiet    bool
	terminal bool
	start    time.Time
	mu       sync.Mutex
	lastPct  int
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, quiet: quiet, start: time.Now(), lastPct: -1}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) step(msg string) {
	if p.quiet {
		return
	}
	fmt.Fprintf(p.w, "[%5.1fs] %s\n", time.Since(p.start).Seconds(), msg)
}

func (p *progress) tick(done, total int) {
	if p.quiet {
		return
	}
	pct := done * 100 / total
	p.mu.Lock()
	defer p.mu.Unlock()
	if pct == p.lastPct {
		return
	}
	p.lastPct = pct
	if p.terminal {
		bar := strings.Repeat("#", pct/4) + strings.Repeat(".", 25-pct/4)
		fmt.Fprintf(p.w, "\r        [%s] %3d%% %d/%d", bar, pct, done, total)
	} else if pct%10 == 0 {
		fmt.Fprintf(p.w, "        %3d%% (%d/%d statements)\n", pct, done, total)
	}
}

func (p *progress) done() {
	if !p.quiet && p.terminal {
		fmt.Fprintln(p.w)
	}
}
