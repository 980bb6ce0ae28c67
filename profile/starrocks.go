package profile

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/sink"
)

// FEOptions configures a StarRocks FE source. Nil means defaults.
type FEOptions struct {
	// Cluster names the cluster in records. Default "". (The Collector sets
	// it from its own Options.Cluster.)
	Cluster string
	// User and Password are sent as HTTP Basic auth on every request (harmless
	// on 3.2, which does not check). Default: no Authorization header.
	User, Password string
	// TLS, when not nil, makes the source use HTTPS with this configuration
	// (for an address without a scheme). Default: plain HTTP.
	TLS *tls.Config
	// HTTPClient is the client to use. Default: a client of its own with a
	// 30 s timeout per request and TLS as above.
	HTTPClient *http.Client
	// API is "v1" (/api/query_detail and /api/profile, every version) or
	// "v2" (/api/v2/..., 4.0 and newer). Default "v1".
	API string
	// Overlap is how far back each poll re-reads before the cursor, to catch
	// records the FE appended out of eventTime order. Default 2 s.
	Overlap time.Duration
	// Retention is the FE's query_detail_cache_time_nanosecond: a poll later
	// than this after the previous successful one reports a gap. Default 30 s.
	Retention time.Duration
	// Retries is how many times a request is retried after a 5xx status or a
	// transport error, with exponential backoff from Backoff. Default 3;
	// negative: no retries.
	Retries int
	// Backoff is the first retry delay; it doubles each time. Default 200 ms.
	Backoff time.Duration
	// MaxBodyBytes bounds a query_detail response; a larger one fails with
	// ErrBodyTooLarge. Default 256 MiB.
	MaxBodyBytes int64
	// MaxProfileBytes bounds a profile response. Default 32 MiB.
	MaxProfileBytes int64
	// NoProfiles turns off profile fetching: statements are emitted at once.
	// Default false (profiles are fetched).
	NoProfiles bool
	// ProfileMinLatency fetches profiles only for statements that ran at
	// least this long (match it to big_query_profile_threshold when
	// enable_profile is off). Default 0: every statement.
	ProfileMinLatency time.Duration
	// ProfileWait is how long a statement's profile is retried while the FE
	// answers 404 (profiles can be registered after the statement finished,
	// with enable_async_profile). The statement is held back meanwhile, then
	// emitted without profile. Default 15 s.
	ProfileWait time.Duration
	// ProfileConcurrency bounds concurrent profile requests. Default 4.
	ProfileConcurrency int
	// IncludeNonQuery also emits finished statements with isQuery=false
	// (DDL, DML, SET...). Records without SQL (login events) are never
	// emitted. Default false.
	IncludeNonQuery bool
	// ClusterToken, when set, is sent to /api/bootstrap so the FE reports
	// its start time; a changed start time reports a gap (FE restart).
	// Default "": restarts are inferred from the queue instead.
	ClusterToken string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives warnings. Default: discard.
	Logger *slog.Logger
}

func (o *FEOptions) withDefaults() FEOptions {
	var v FEOptions
	if o != nil {
		v = *o
	}
	if v.API == "" {
		v.API = "v1"
	}
	if v.Overlap <= 0 {
		v.Overlap = 2 * time.Second
	}
	if v.Retention <= 0 {
		v.Retention = 30 * time.Second
	}
	if v.Retries < 0 {
		v.Retries = 0
	} else if v.Retries == 0 {
		v.Retries = 3
	}
	if v.Backoff <= 0 {
		v.Backoff = 200 * time.Millisecond
	}
	if v.MaxBodyBytes <= 0 {
		v.MaxBodyBytes = 256 << 20
	}
	if v.MaxProfileBytes <= 0 {
		v.MaxProfileBytes = 32 << 20
	}
	if v.ProfileWait <= 0 {
		v.ProfileWait = 15 * time.Second
	}
	if v.ProfileConcurrency <= 0 {
		v.ProfileConcurrency = 4
	}
	if v.Now == nil {
		v.Now = time.Now
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	return v
}

// FESource reads one StarRocks FE: /api/query_detail with an int64
// event_time cursor (re-reading Overlap before it), and /api/profile for each
// finished statement. It implements ProfileSource, Drainer and Checkpointer.
//
// Each FE keeps only its own queue, for about 30 s: poll every FE of a
// cluster (the Collector does), well within the retention. A poll later than
// Retention after the previous successful one, an FE restart (a changed start
// time, or records of the previous poll missing from the queue while still
// within retention) or an FE clock far ahead yields a KindGap record.
//
// Statements are emitted once they are FINISHED, FAILED or CANCELLED (and
// isQuery, unless IncludeNonQuery). A statement waiting for its profile is
// held back for up to ProfileWait and emitted by a later Collect.
//
// Collect must not be called concurrently with itself; Drain, Cursor and
// SetCursor may be called at any time.
type FESource struct {
	addr   string
	base   string
	opts   FEOptions
	client *http.Client
	own    bool

	mu          sync.Mutex
	cursor      int64
	lastSuccess time.Time
	seen        map[seenKey]int64 // records read in the overlap window
	pending     []*pendingStatement
	startTime   int64
	restored    int64 // cursor restored by SetCursor: records up to it were emitted
	skew        int64 // how far the FE's clock is known to run ahead of ours (ns)
}

type seenKey struct{ id, state string }

type pendingStatement struct {
	rec      dataset.Profile
	deadline time.Time
	next     time.Time
	tries    int
}

// NewFESource returns a source for the FE at addr: "host:port" (HTTP port,
// 8030 by default on StarRocks) or a URL "http(s)://host:port".
func NewFESource(addr string, opts *FEOptions) *FESource {
	o := opts.withDefaults()
	s := &FESource{opts: o, seen: map[seenKey]int64{}}
	switch {
	case strings.HasPrefix(addr, "http://"), strings.HasPrefix(addr, "https://"):
		s.base = strings.TrimRight(addr, "/")
		if u, err := url.Parse(s.base); err == nil {
			s.addr = u.Host
		} else {
			s.addr = addr
		}
	case o.TLS != nil:
		s.base, s.addr = "https://"+addr, addr
	default:
		s.base, s.addr = "http://"+addr, addr
	}
	if o.HTTPClient != nil {
		s.client = o.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = o.TLS
		tr.MaxIdleConnsPerHost = o.ProfileConcurrency + 1
		s.client = &http.Client{Timeout: 30 * time.Second, Transport: tr}
		s.own = true
	}
	return s
}

// Addr is the FE's host:port, as records carry it in fe_host.
func (s *FESource) Addr() string { return s.addr }

// Close releases the source's idle connections. It does not stop a Collect
// in progress (cancel its ctx).
func (s *FESource) Close() error {
	if s.own {
		s.client.CloseIdleConnections()
	}
	return nil
}

// Cursor implements Checkpointer.
func (s *FESource) Cursor() Cursor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Cursor{Source: s.addr, EventTime: s.cursor, LastSuccess: sink.Time(s.lastSuccess)}
}

// SetCursor implements Checkpointer.
func (s *FESource) SetCursor(c Cursor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor = c.EventTime
	s.restored = c.EventTime
	s.lastSuccess = time.Time(c.LastSuccess)
}

// Drain implements Drainer: it returns the statements still waiting for a
// profile, without one (ProfileError says so).
func (s *FESource) Drain() []dataset.Profile {
	s.mu.Lock()
	p := s.pending
	s.pending = nil
	s.mu.Unlock()
	out := make([]dataset.Profile, 0, len(p))
	for _, ps := range p {
		ps.rec.ProfileError = "collector stopped before the profile was available"
		out = append(out, ps.rec)
	}
	return out
}

// Pending is the number of statements held back waiting for a profile.
func (s *FESource) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Collect implements ProfileSource: one poll of the FE. On an error it still
// returns the statements whose profile wait ended, with the error.
func (s *FESource) Collect(ctx context.Context) ([]dataset.Profile, error) {
	now := s.opts.Now()
	var out []dataset.Profile

	restarted := false
	if s.opts.ClusterToken != "" {
		st, err := s.bootstrap(ctx)
		if err != nil {
			return s.expirePending(now), err
		}
		if s.startTime != 0 && st != s.startTime {
			restarted = true
		}
		s.startTime = st
	}

	s.mu.Lock()
	cursor, lastSuccess := s.cursor, s.lastSuccess
	s.mu.Unlock()
	from := cursor - s.opts.Overlap.Nanoseconds()
	if from < 0 {
		from = 0
	}
	details, err := s.queryDetail(ctx, from)
	if err != nil {
		return s.expirePending(now), err
	}

	// Gap: too long since the last successful poll.
	retNs := s.opts.Retention.Nanoseconds()
	gapDone := false
	if !lastSuccess.IsZero() && now.Sub(lastSuccess) > s.opts.Retention {
		out = append(out, s.gap(now, lastSuccess, now.Add(-s.opts.Retention),
			fmt.Sprintf("no successful poll for %s, over the FE retention of %s", now.Sub(lastSuccess).Round(time.Millisecond), s.opts.Retention)))
		gapDone = true
	}

	// Gap: FE restart, by start time or by records of the previous poll that
	// should still be in the queue but are gone.
	returned := make(map[seenKey]struct{}, len(details))
	var maxET, minNew int64
	for i := range details {
		d := &details[i]
		returned[seenKey{d.QueryID, d.State}] = struct{}{}
		if d.EventTime > maxET {
			maxET = d.EventTime
		}
		if d.EventTime > cursor && (minNew == 0 || d.EventTime < minNew) {
			minNew = d.EventTime
		}
	}
	if maxET > 0 && maxET-now.UnixNano() > s.skew {
		// eventTime <= the FE's clock when it answered: a lower bound of how
		// far the FE's clock runs ahead of ours.
		s.skew = maxET - now.UnixNano()
	}
	if !restarted && len(s.seen) > 0 {
		expected, found := 0, 0
		// Records younger, by the FE's clock, than the retention minus a
		// margin must still be in the queue.
		young := now.UnixNano() + s.skew - retNs + max(10*time.Second, 2*s.opts.Overlap).Nanoseconds()
		for k, et := range s.seen {
			if et > from && et > young {
				expected++
				if _, ok := returned[k]; ok {
					found++
				}
			}
		}
		restarted = expected > 0 && found == 0
	}
	if restarted && !gapDone && !lastSuccess.IsZero() {
		out = append(out, s.gap(now, lastSuccess, now, "FE restarted: its in-memory queue was lost"))
		gapDone = true
	}
	if restarted {
		clear(s.seen)
	}
	// Gap: first new eventTime far above the cursor and above our last poll:
	// the FE's clock runs ahead of ours, so the retention check above cannot
	// be trusted.
	if !gapDone && cursor > 0 && minNew > 0 && !lastSuccess.IsZero() &&
		minNew-cursor > retNs && minNew-lastSuccess.UnixNano() > retNs+s.opts.Overlap.Nanoseconds() {
		out = append(out, s.gap(now, time.Unix(0, cursor), time.Unix(0, minNew),
			"first new eventTime is far above the cursor and the last poll (FE clock ahead?)"))
	}

	// Statements.
	var fresh []*pendingStatement
	for i := range details {
		d := &details[i]
		k := seenKey{d.QueryID, d.State}
		if _, dup := s.seen[k]; dup {
			continue
		}
		s.seen[k] = d.EventTime
		if d.EventTime <= s.restored || !s.wanted(d) {
			continue
		}
		rec := s.record(d)
		if s.opts.NoProfiles || (d.Latency >= 0 && time.Duration(d.Latency)*time.Millisecond < s.opts.ProfileMinLatency) {
			out = append(out, rec)
			continue
		}
		fresh = append(fresh, &pendingStatement{rec: rec, deadline: now.Add(s.opts.ProfileWait), next: now})
	}

	s.mu.Lock()
	if maxET > s.cursor {
		s.cursor = maxET
	}
	s.lastSuccess = now
	low := s.cursor - s.opts.Overlap.Nanoseconds()
	for k, et := range s.seen {
		if et <= low {
			delete(s.seen, k)
		}
	}
	s.pending = append(s.pending, fresh...)
	s.mu.Unlock()

	done, err := s.fetchProfiles(ctx, now)
	out = append(out, done...)
	return out, err
}

func (s *FESource) gap(now, from, to time.Time, reason string) dataset.Profile {
	f, t := sink.Time(from), sink.Time(to)
	return dataset.Profile{TS: sink.Time(now), Kind: dataset.ProfileGap, Source: dataset.SourceStarRocksFE, Cluster: s.opts.Cluster,
		FEHost: s.addr, GapFrom: &f, GapTo: &t, GapReason: reason}
}

func (s *FESource) wanted(d *feDetail) bool {
	switch d.State {
	case dataset.StateFinished, dataset.StateFailed, dataset.StateCancelled:
	default:
		return false
	}
	if d.SQL == "" {
		return false
	}
	return d.IsQuery || s.opts.IncludeNonQuery
}

func nonNeg(v int64) *int64 {
	if v < 0 {
		return nil
	}
	return &v
}

func (s *FESource) record(d *feDetail) dataset.Profile {
	ts := time.UnixMilli(d.StartTime)
	if d.StartTime <= 0 {
		ts = time.Unix(0, d.EventTime/1_000_000*1_000_000)
	}
	r := dataset.Profile{
		TS: sink.Time(ts), Kind: dataset.ProfileStatement, Source: dataset.SourceStarRocksFE, Cluster: s.opts.Cluster, FEHost: s.addr,
		SRQueryID: d.QueryID, State: d.State, IsQuery: ptr(d.IsQuery), Database: d.Database, User: d.User,
		ClientAddr: d.RemoteIP, ServerConnID: ptr(d.ConnID),
		SQLText: d.SQL, QueryHash: hashing.QueryHash(d.SQL), TemplateHash: hashing.TemplateHash(d.SQL),
		ErrorMessage: d.ErrorMessage, ResourceGroup: d.ResourceGroupName, Warehouse: d.Warehouse, Catalog: d.Catalog,
		EventTime: d.EventTime,
		CPUCostNs: nonNeg(d.CPUCostNs), ScanRows: nonNeg(d.ScanRows), ScanBytes: nonNeg(d.ScanBytes),
		ReturnRows: nonNeg(d.ReturnRows), MemCostBytes: nonNeg(d.MemCostBytes), SpillBytes: nonNeg(d.SpillBytes),
		CacheMissRatio: d.CacheMissRatio,
	}
	if d.StartTime > 0 {
		st := sink.Time(time.UnixMilli(d.StartTime))
		r.StartTime = &st
	}
	if d.EndTime > 0 {
		et := sink.Time(time.UnixMilli(d.EndTime))
		r.EndTime = &et
	}
	if d.Latency >= 0 {
		r.DurationMS = ptr(float64(d.Latency))
	}
	if d.PendingTime >= 0 {
		r.PendingMS = ptr(float64(d.PendingTime))
	}
	return r
}

// expirePending returns the pending statements whose wait is over, without
// a profile (used when the FE cannot be reached).
func (s *FESource) expirePending(now time.Time) []dataset.Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []dataset.Profile
	kept := s.pending[:0]
	for _, p := range s.pending {
		if !now.Before(p.deadline) {
			p.rec.ProfileError = "FE unreachable until the profile wait ended"
			out = append(out, p.rec)
			continue
		}
		kept = append(kept, p)
	}
	clear(s.pending[len(kept):])
	s.pending = kept
	return out
}

// fetchProfiles tries the due pending statements, concurrently, and returns
// those that are done: with a profile, or without once their wait ended.
func (s *FESource) fetchProfiles(ctx context.Context, now time.Time) ([]dataset.Profile, error) {
	s.mu.Lock()
	var due []*pendingStatement
	kept := s.pending[:0]
	for _, p := range s.pending {
		if !now.Before(p.next) {
			due = append(due, p)
		} else {
			kept = append(kept, p)
		}
	}
	clear(s.pending[len(kept):])
	s.pending = kept
	s.mu.Unlock()
	if len(due) == 0 {
		return nil, nil
	}

	type result struct {
		p    *pendingStatement
		text string
		err  error
	}
	results := make([]result, len(due))
	sem := make(chan struct{}, s.opts.ProfileConcurrency)
	var wg sync.WaitGroup
	for i, p := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			text, err := s.profile(ctx, p.rec.SRQueryID)
			results[i] = result{p, text, err}
		}()
	}
	wg.Wait()

	var out []dataset.Profile
	var retry []*pendingStatement
	var firstErr error
	for _, r := range results {
		p := r.p
		p.tries++
		switch {
		case r.err == nil:
			p.rec.ProfileText = r.text
			applyProfile(&p.rec, r.text)
			out = append(out, p.rec)
		case ctx.Err() != nil:
			retry = append(retry, p)
		case errors.Is(r.err, errProfileNotFound) || isTransient(r.err):
			if !now.Before(p.deadline) {
				if errors.Is(r.err, errProfileNotFound) {
					p.rec.ProfileError = fmt.Sprintf("profile not found after %s", s.opts.ProfileWait)
				} else {
					p.rec.ProfileError = r.err.Error()
				}
				out = append(out, p.rec)
				continue
			}
			// Back off 1 s, 2 s, 4 s ... but try once more at the deadline.
			next := now.Add(time.Second << min(p.tries-1, 4))
			if next.After(p.deadline) {
				next = p.deadline
			}
			p.next = next
			retry = append(retry, p)
		default:
			// 401/403/400/body too large: permanent for this statement.
			p.rec.ProfileError = r.err.Error()
			out = append(out, p.rec)
			if firstErr == nil && (errors.Is(r.err, ErrUnauthorized) || errors.Is(r.err, ErrForbidden)) {
				firstErr = r.err
			}
		}
	}
	if len(retry) > 0 {
		s.mu.Lock()
		s.pending = append(s.pending, retry...)
		s.mu.Unlock()
	}
	if firstErr != nil {
		s.opts.Logger.Warn("profile: cannot read profiles", "fe", s.addr, "err", firstErr)
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, nil
}

var errProfileNotFound = errors.New("profile: profile not found")

type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func isTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}

// get performs a GET with retries on 5xx and transport errors, and returns
// the status and body (read up to limit; more fails with ErrBodyTooLarge).
func (s *FESource) get(ctx context.Context, path string, q url.Values, limit int64, retryStatus func(int) bool) (int, []byte, error) {
	u := s.base + path + "?" + q.Encode()
	delay := s.opts.Backoff
	var lastErr error
	for attempt := 0; ; attempt++ {
		status, body, err := s.getOnce(ctx, u, limit)
		if err == nil && !retryStatus(status) {
			return status, body, nil
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrBodyTooLarge) {
				return 0, nil, err
			}
			lastErr = &transientError{err}
		} else {
			lastErr = &transientError{&HTTPError{URL: u, StatusCode: status, Body: snippet(body)}}
		}
		if attempt >= s.opts.Retries {
			return 0, nil, lastErr
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, nil, ctx.Err()
		case <-t.C:
		}
		delay *= 2
	}
}

func (s *FESource) getOnce(ctx context.Context, u string, limit int64) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	if s.opts.User != "" || s.opts.Password != "" {
		req.SetBasicAuth(s.opts.User, s.opts.Password)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("profile: GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := readLimited(resp.Body, limit, resp.ContentLength)
	if err != nil {
		if errors.Is(err, ErrBodyTooLarge) {
			return 0, nil, fmt.Errorf("%w: GET %s: more than %d bytes", ErrBodyTooLarge, u, limit)
		}
		return 0, nil, fmt.Errorf("profile: GET %s: read body: %w", u, err)
	}
	return resp.StatusCode, body, nil
}

func readLimited(r io.Reader, limit, contentLength int64) ([]byte, error) {
	if contentLength > limit {
		return nil, ErrBodyTooLarge
	}
	var buf bytes.Buffer
	if contentLength > 0 {
		buf.Grow(int(contentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, ErrBodyTooLarge
	}
	return buf.Bytes(), nil
}

func snippet(b []byte) string {
	const max = 256
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

func is5xx(status int) bool { return status >= 500 }

func (s *FESource) statusError(u string, status int, body []byte) error {
	e := &HTTPError{URL: u, StatusCode: status, Body: snippet(body)}
	switch status {
	case http.StatusUnauthorized:
		e.Hint = hint401
	case http.StatusForbidden:
		e.Hint = hint403
	}
	return e
}

func (s *FESource) queryDetail(ctx context.Context, from int64) ([]feDetail, error) {
	path := "/api/query_detail"
	if s.opts.API == "v2" {
		path = "/api/v2/query_detail"
	}
	q := url.Values{"event_time": {strconv.FormatInt(from, 10)}}
	status, body, err := s.get(ctx, path, q, s.opts.MaxBodyBytes, is5xx)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, s.statusError(s.base+path, status, body)
	}
	details, err := decodeQueryDetails(body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", s.addr, path, err)
	}
	return details, nil
}

func (s *FESource) profile(ctx context.Context, id string) (string, error) {
	path := "/api/profile"
	if s.opts.API == "v2" {
		path = "/api/v2/profile"
	}
	status, body, err := s.get(ctx, path, url.Values{"query_id": {id}}, s.opts.MaxProfileBytes, is5xx)
	if err != nil {
		return "", err
	}
	switch status {
	case http.StatusOK:
	case http.StatusNotFound:
		return "", errProfileNotFound
	default:
		return "", s.statusError(s.base+path, status, body)
	}
	if s.opts.API != "v2" {
		return string(body), nil
	}
	var w struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
		Result  *string         `json:"result"`
	}
	if err := json.Unmarshal(body, &w); err != nil || w.Result == nil {
		return "", fmt.Errorf("%w: %s %s: no profile text in %q", ErrBadResponse, s.addr, path, snippet(body))
	}
	return *w.Result, nil
}

func (s *FESource) bootstrap(ctx context.Context) (int64, error) {
	status, body, err := s.get(ctx, "/api/bootstrap", url.Values{"token": {s.opts.ClusterToken}}, 1<<20, is5xx)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, s.statusError(s.base+"/api/bootstrap", status, body)
	}
	var b struct {
		Status      string `json:"status"`
		Msg         string `json:"msg"`
		FEStartTime int64  `json:"feStartTime"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return 0, fmt.Errorf("%w: %s /api/bootstrap: %v", ErrBadResponse, s.addr, err)
	}
	if b.Status != "OK" {
		return 0, fmt.Errorf("%w: %s: %s", ErrNotReady, s.addr, b.Msg)
	}
	return b.FEStartTime, nil
}
