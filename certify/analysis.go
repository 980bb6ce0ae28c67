package certify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/compare/stats"
	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// Statuses of steps and assertions: the verdicts of package compare.
const (
	StatusPass         = compare.VerdictPass
	StatusFail         = compare.VerdictFail
	StatusInconclusive = compare.VerdictInconclusive
)

// logRec is what the run keeps of one command's query-log records.
type logRec struct {
	ts                                    time.Time
	primary, shadow                       bool
	shadowOK, diverged, dropped, filtered bool
	mismatch                              bool
	what                                  string    // the command and text, for examples
	shadowErr                             string    // the shadow record's error, for examples
	end                                   time.Time // shadow: when the shadow finished it (ts + the primary's time + queue + duration)
}

// logIndex is the query logs of a run, by query id.
type logIndex struct {
	byQuery         map[string]*logRec
	ids             map[string]bool // certify ids of the primary records
	primary, shadow int
	malformed       int64
}

// readLogs reads the query-log records of [from, to) from bucket.
func readLogs(ctx context.Context, bucket *blob.Bucket, from, to time.Time) (*logIndex, error) {
	rd := sink.NewReader(bucket, dataset.QueryLogs, from, to, nil)
	defer rd.Close()
	idx := &logIndex{byQuery: map[string]*logRec{}, ids: map[string]bool{}}
	var dec dataset.QueryLogDecoder
	var q dataset.QueryLog
	for {
		line, err := rd.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("certify: read the query logs: %w", err)
		}
		q = dataset.QueryLog{}
		if err := dec.Decode(line, &q); err != nil {
			idx.malformed++
			continue
		}
		ts := time.Time(q.TS)
		if ts.Before(from) || !ts.Before(to) || q.Command == "COM_QUIT" {
			// COM_QUIT ends the session: the shadow side logs out
			// without a record of it.
			continue
		}
		r := idx.byQuery[q.QueryID]
		if r == nil {
			r = &logRec{ts: ts}
			idx.byQuery[q.QueryID] = r
		}
		switch q.Target {
		case dataset.TargetPrimary:
			r.primary = true
			r.what = q.Command + " " + q.QueryText
			idx.primary++
			if id := idOf(q.QueryText); id != "" {
				idx.ids[id] = true
			}
		case dataset.TargetShadow:
			r.shadow = true
			idx.shadow++
			if r.what == "" {
				r.what = q.Command + " " + q.QueryText
			}
			r.shadowOK, r.diverged, r.dropped, r.filtered = q.Success, q.Diverged, q.Dropped, q.Filtered
			r.shadowErr = q.Error
			// The shadow queues a command when the primary has answered
			// it: its end is the primary's time, the queue's and its own
			// after the time received.
			took := q.DurationMS
			for _, ms := range []*float64{q.PrimaryDurationMS, q.PrimaryClientWaitMS, q.QueueMS} {
				if ms != nil {
					took += *ms
				}
			}
			r.end = ts.Add(time.Duration(took * float64(time.Millisecond)))
			r.mismatch = q.Success && q.PrimarySuccess != nil && *q.PrimarySuccess && !q.Diverged && !q.Filtered &&
				!q.FloatCols && q.ResultHash != q.PrimaryResultHash
		}
	}
	idx.malformed += rd.Stats().Malformed
	return idx, nil
}

// judge computes the fault windows, the figures and the assertions, and
// sets the verdict.
func (rn *run) judge(logs *logIndex) {
	rep, r := rn.rep, rn.r
	bound := r.Assert.Recovery
	if bound == 0 {
		bound = 30 * time.Second
	}
	rep.RecoveryBound = bound
	sort.Slice(rn.obs, func(i, j int) bool { return rn.obs[i].start.Before(rn.obs[j].start) })
	sort.Slice(rn.events, func(i, j int) bool { return rn.events[i].Start.Before(rn.events[j].Start) })

	// Failures and successes of each side, in time order.
	// t is when the statement was received, end when it ended.
	type mark struct {
		t, end time.Time
		ok     bool
	}
	sides := map[string][]mark{}
	for _, o := range rn.obs {
		sides["primary"] = append(sides["primary"], mark{o.start, o.start.Add(o.dur), o.ok})
	}
	if logs != nil {
		for _, lr := range logs.byQuery {
			if lr.shadow && !lr.filtered {
				sides["shadow"] = append(sides["shadow"], mark{lr.ts, lr.end, lr.shadowOK && !lr.diverged && !lr.dropped})
			}
		}
		sort.Slice(sides["shadow"], func(i, j int) bool { return sides["shadow"][i].t.Before(sides["shadow"][j].t) })
	}
	for i, ev := range rn.events {
		ev.WindowStart, ev.WindowEnd, ev.Recovered = ev.Start, ev.Ready, ev.Error == ""
		if ev.Side == "" || ev.Error != "" {
			continue
		}
		// Failures are the event's up to the bound, or up to the next
		// event's start: that one's failures are its own.
		limit := ev.Ready.Add(bound)
		if i+1 < len(rn.events) && rn.events[i+1].Start.Before(limit) {
			limit = rn.events[i+1].Start
		}
		var after bool
		for _, m := range sides[ev.Side] {
			if m.ok || m.end.Before(ev.Start) || !m.t.Before(limit) {
				continue
			}
			// A failure that ended after the event started: received
			// before it (in flight, or queued for the shadow) or after.
			if m.t.Before(ev.WindowStart) {
				ev.WindowStart = m.t
			}
			if m.t.After(ev.WindowEnd) {
				ev.WindowEnd = m.t
			}
		}
		for _, m := range sides[ev.Side] {
			if m.ok && m.t.After(ev.WindowEnd) {
				after = true
				break
			}
		}
		ev.Recovery = ev.WindowEnd.Sub(ev.Ready)
		ev.Recovered = after && ev.Recovery < bound
	}
	rep.Events = make([]Event, len(rn.events))
	for i, ev := range rn.events {
		rep.Events[i] = *ev
	}
	inWindow := func(t time.Time) bool {
		for _, ev := range rn.events {
			if !t.Before(ev.WindowStart) && !t.After(ev.WindowEnd) {
				return true
			}
		}
		return false
	}

	// Clients.
	c := &rep.Clients
	for _, o := range rn.obs {
		c.Statements++
		if !o.ok {
			if inWindow(o.start) {
				c.ErrorsInside++
			} else {
				c.ErrorsOutside++
			}
		}
	}
	rep.Timeline = timeline(rn.obs, rn.t0, rep.Ended)

	// Logs.
	if logs != nil {
		l := &LogSummary{PrimaryRecords: logs.primary, ShadowRecords: logs.shadow, Malformed: logs.malformed}
		rep.Logs = l
		count := func(t time.Time, in, out *int) {
			if inWindow(t) {
				*in++
			} else {
				*out++
			}
		}
		for _, o := range rn.obs {
			if o.ok && o.id != "" && !logs.ids[o.id] {
				count(o.start, &l.LostInside, &l.LostOutside)
				if !inWindow(o.start) && len(l.Examples) < 5 {
					l.Examples = append(l.Examples, fmt.Sprintf("client statement %s at %.2fs without its primary record", o.id, o.start.Sub(rn.t0).Seconds()))
				}
			}
		}
		for _, lr := range logs.byQuery {
			if r.Shadow != "" && lr.primary != lr.shadow {
				count(lr.ts, &l.UnpairedInside, &l.UnpairedOutside)
				if !inWindow(lr.ts) && len(l.Examples) < 5 {
					side := "primary record without its shadow record"
					if lr.shadow {
						side = "shadow record without its primary record"
					}
					l.Examples = append(l.Examples, fmt.Sprintf("%s at %.2fs: %s", side, lr.ts.Sub(rn.t0).Seconds(), lr.what))
				}
			}
			if !lr.shadow || lr.filtered {
				continue
			}
			if !lr.shadowOK || lr.dropped {
				count(lr.ts, &l.ShadowFailedInside, &l.ShadowFailedOutside)
			}
			if lr.diverged {
				count(lr.ts, &l.DivergedInside, &l.DivergedOutside)
			}
			if (!lr.shadowOK || lr.dropped || lr.diverged) && !inWindow(lr.ts) && len(l.ShadowExamples) < 5 {
				l.ShadowExamples = append(l.ShadowExamples, fmt.Sprintf("received at %.2fs, ended at %.2fs: %s: %s",
					lr.ts.Sub(rn.t0).Seconds(), lr.end.Sub(rn.t0).Seconds(), lr.what, lr.shadowErr))
			}
			if lr.mismatch {
				count(lr.ts, &l.MismatchesInside, &l.MismatchesOutside)
			}
		}
	}

	// Assertions.
	add := func(name string, st compare.Verdict, format string, args ...any) {
		rep.Assertions = append(rep.Assertions, AssertionResult{Name: name, Status: st, Message: fmt.Sprintf(format, args...)})
	}
	within := func(v int, max *int) (compare.Verdict, bool) {
		limit := 0
		if max != nil {
			limit = *max
		}
		if limit < 0 {
			return "", false
		}
		if v > limit {
			return StatusFail, true
		}
		return StatusPass, true
	}
	workloads := false
	for _, s := range r.Steps {
		workloads = workloads || s.Workload != nil
	}
	if workloads {
		if c.Statements == 0 {
			add("client_errors", StatusInconclusive, "the workload ran no statement")
		} else if st, ok := within(c.ErrorsOutside, r.Assert.ClientErrors); ok {
			add("client_errors", st, "%d client errors outside fault windows, %d inside, of %d statements", c.ErrorsOutside, c.ErrorsInside, c.Statements)
		}
	}
	if l := rep.Logs; l != nil && workloads {
		if st, ok := within(l.LostOutside+l.UnpairedOutside, r.Assert.LostRecords); ok {
			add("lost_records", st, "outside fault windows: %d client statements without a log record, %d records unpaired; inside: %d lost, %d unpaired, %d shadow records failed or dropped, %d diverged (marked)",
				l.LostOutside, l.UnpairedOutside, l.LostInside, l.UnpairedInside, l.ShadowFailedInside, l.DivergedInside)
			if len(l.Examples) > 0 {
				last := &rep.Assertions[len(rep.Assertions)-1]
				last.Message += "; first: " + strings.Join(l.Examples, "; ")
			}
		}
		if r.Shadow != "" {
			if st, ok := within(l.MismatchesOutside, r.Assert.Mismatches); ok {
				add("mismatches", st, "%d shadow answers differ from the primary's outside fault windows (%d inside); %d shadow failures and %d diverged records outside",
					l.MismatchesOutside, l.MismatchesInside, l.ShadowFailedOutside, l.DivergedOutside)
				if len(l.ShadowExamples) > 0 {
					last := &rep.Assertions[len(rep.Assertions)-1]
					last.Message += "; first failed or diverged: " + strings.Join(l.ShadowExamples, "; ")
				}
			}
		}
	}
	for _, ev := range rep.Events {
		st := StatusPass
		if !ev.Recovered {
			st = StatusFail
		}
		switch {
		case ev.Error != "":
			add("recovery", st, "%s: %s", ev.Name, ev.Error)
		case ev.Side == "":
			add("recovery", st, "%s: ready %.1fs after it started", ev.Name, ev.Ready.Sub(ev.Start).Seconds())
		default:
			add("recovery", st, "%s: %s ready %.1fs after it started; the %s side recovered %.2fs later (bound %v)",
				ev.Name, ev.Target, ev.Ready.Sub(ev.Start).Seconds(), ev.Side, ev.Recovery.Seconds(), bound)
		}
	}
	if r.Primary != "" {
		if rep.ProxyUp {
			add("proxy_up", StatusPass, "the proxy took a new session at the end of the run")
		} else {
			add("proxy_up", StatusFail, "the proxy refused a new session at the end of the run: %s", rep.ProxyError)
		}
	}
	for _, s := range rep.Steps {
		if s.Status != StatusPass {
			add("step", s.Status, "%s: %s", s.Name, s.Message)
		}
	}
	if rep.Soak != nil {
		for _, s := range rep.Soak.Series {
			add("soak "+s.Metric, s.Status, "%s", s.Message)
		}
	}
	if rep.Startup != nil {
		for _, v := range rep.Startup.Versions[1:] {
			add("startup "+v.Name, v.Status, "%s", v.Message)
		}
	}

	rep.Status = StatusPass
	for _, a := range rep.Assertions {
		switch a.Status {
		case StatusFail:
			rep.Status = StatusFail
		case StatusInconclusive:
			if rep.Status == StatusPass {
				rep.Status = StatusInconclusive
			}
		}
	}
	if len(rep.Assertions) == 0 {
		rep.Status = StatusInconclusive
		rep.Findings = append(rep.Findings, "nothing was checked")
	}
	rep.ExitCode = rep.Status.ExitCode()
}

// timeline bins client observations for the report's charts.
func timeline(obs []observation, t0, end time.Time) []Bin {
	if len(obs) == 0 {
		return nil
	}
	width := time.Second
	if d := end.Sub(t0); d > 10*time.Minute {
		width = (d / 600).Round(time.Second)
	}
	n := int(end.Sub(t0)/width) + 1
	bins := make([]Bin, n)
	lat := make([][]float64, n)
	for _, o := range obs {
		i := int(o.start.Sub(t0) / width)
		if i < 0 || i >= n {
			continue
		}
		bins[i].Statements++
		if !o.ok {
			bins[i].Errors++
		}
		lat[i] = append(lat[i], float64(o.dur)/float64(time.Millisecond))
	}
	for i := range bins {
		bins[i].Offset = (time.Duration(i) * width).Seconds()
		bins[i].Width = width.Seconds()
		if len(lat[i]) > 0 {
			sort.Float64s(lat[i])
			bins[i].P50MS = stats.Quantile(lat[i], 0.5)
			bins[i].P99MS = stats.Quantile(lat[i], 0.99)
		}
	}
	return bins
}
