package shadow

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// shadowGenGroup describes the traffic of one query shape in generated logs.
type shadowGenGroup struct {
	// query is the statement; "%d" (if present) is replaced by a literal
	// drawn from 0..literals-1, so one template has several query hashes.
	query    string
	literals int
	n        int
	baseMS   float64
	// factor multiplies every shadow duration; tailFrac of the commands are
	// further multiplied by tailFactor on the shadow only.
	factor, tailFrac, tailFactor float64
	// failFrac of the commands fail only on the shadow with failCode.
	failFrac float64
	failCode uint16
	failMsg  string
	// mismatchFrac of the commands answer differently on the shadow.
	mismatchFrac float64
	floatCols    bool
	// primaryVaries: the primary's answer differs between executions of the
	// same text (a non-deterministic function, or changing data).
	primaryVaries bool
	// Shares of shadow records that are diverged, dropped or filtered (and
	// then fail with error 1146, which must never be reported).
	divergedFrac, droppedFrac, filteredFrac float64
	// clientWaitMS is added to the primary's duration_ms (a slow client).
	clientWaitMS float64
}

func genHash(parts ...any) string {
	h := md5.Sum(fmt.Appendln(nil, parts...))
	return hex.EncodeToString(h[:])
}

// genShadowLogs writes the primary and shadow records of groups, spread
// over shards JSONL buffers; the two records of a command go to different
// shards, so a reader cannot rely on pairing them.
func genShadowLogs(seed uint64, start time.Time, span time.Duration, shards int, groups []shadowGenGroup) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 99))
	bufs := make([]*bytes.Buffer, shards)
	for i := range bufs {
		bufs[i] = &bytes.Buffer{}
	}
	total := 0
	for _, g := range groups {
		total += g.n
	}
	seq := 0
	order := make([]int, 0, total)
	for gi, g := range groups {
		for range g.n {
			order = append(order, gi)
		}
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, gi := range order {
		g := groups[gi]
		seq++
		lit := 0
		if g.literals > 0 {
			lit = rng.IntN(g.literals)
		}
		text := g.query
		tmpl := g.query
		if strings.Contains(g.query, "%d") {
			text = fmt.Sprintf(g.query, lit)
			tmpl = strings.ReplaceAll(g.query, "%d", "?")
		}
		ts := start.Add(time.Duration(float64(span) * float64(seq) / float64(total+1)))
		qid := fmt.Sprintf("q%08d", seq)
		server := g.baseMS * math.Exp(0.25*rng.NormFloat64())
		shadowMS := server * g.factor * math.Exp(0.1*rng.NormFloat64())
		if rng.Float64() < g.tailFrac {
			shadowMS *= g.tailFactor
		}
		primResult := genHash("result", text)
		if g.primaryVaries {
			primResult = genHash("result", text, seq)
		}
		shadResult := primResult
		if rng.Float64() < g.mismatchFrac {
			shadResult = genHash("wrong", text, seq)
		}
		cols := genHash("columns", tmpl)
		base := dataset.QueryLog{
			QueryID: qid, Command: "COM_QUERY", QueryText: text,
			QueryHash: genMD5(text), TemplateHash: genMD5(tmpl),
			Route: routeTag(text), Database: "shop", User: "app", ClientAddr: "10.0.0.1:5000",
			ConnID: uint64(seq % 7), Seq: uint64(seq), ServerConnID: 40, Rows: 3,
			ColumnsHash: cols, FloatCols: g.floatCols, BytesSent: int64(len(text)), BytesRecv: 100,
		}
		base.TS = sink.Time(ts)

		p := base
		p.Target = "primary"
		p.DurationMS = server + g.clientWaitMS
		wait := g.clientWaitMS
		p.ClientWaitMS = &wait
		ttfb := server / 2
		p.TTFBMS = &ttfb
		p.Success = true
		p.ResultHash = primResult

		s := base
		s.Target = "shadow"
		s.DurationMS = shadowMS
		q := 0.1
		s.QueueMS = &q
		// As the proxy writes them: the primary's duration_ms and
		// client_wait_ms, its columns.
		pd, pw, ps, pc, pr := p.DurationMS, wait, true, uint16(0), int64(3)
		s.PrimaryDurationMS, s.PrimaryClientWaitMS, s.PrimarySuccess, s.PrimaryErrorCode, s.PrimaryRows = &pd, &pw, &ps, &pc, &pr
		s.PrimaryResultHash, s.PrimaryColumnsHash = primResult, cols
		s.Success = true
		s.ResultHash = shadResult
		switch u := rng.Float64(); {
		case u < g.divergedFrac:
			s.Diverged = true
			s.Success, s.ErrorCode, s.Error, s.ResultHash = false, 1146, "Table 'shop.tmp' doesn't exist", ""
		case u < g.divergedFrac+g.droppedFrac:
			s.Dropped = true
			s.Success, s.ResultHash = false, ""
		case u < g.divergedFrac+g.droppedFrac+g.filteredFrac:
			s.Filtered, s.FilterReason = true, "sampling"
			s.Success, s.ResultHash = false, ""
		case rng.Float64() < g.failFrac:
			s.Success, s.ErrorCode, s.SQLState, s.Error, s.ResultHash, s.Rows = false, g.failCode, "42S22", g.failMsg, "", 0
		}
		for k, rec := range []dataset.QueryLog{p, s} {
			b, err := rec.AppendJSON(nil)
			if err != nil {
				panic(err)
			}
			w := bufs[(seq+k)%shards]
			w.Write(b)
			w.WriteByte('\n')
		}
	}
	out := make([][]byte, shards)
	for i, b := range bufs {
		out[i] = b.Bytes()
	}
	return out
}

func routeTag(text string) string {
	const tag = "/*route='"
	i := strings.Index(text, tag)
	if i < 0 {
		return ""
	}
	rest := text[i+len(tag):]
	j := strings.IndexByte(rest, '\'')
	if j < 0 {
		return ""
	}
	return rest[:j]
}

func readers(bufs [][]byte) []io.Reader {
	out := make([]io.Reader, len(bufs))
	for i, b := range bufs {
		out[i] = bytes.NewReader(b)
	}
	return out
}

func genMD5(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}
