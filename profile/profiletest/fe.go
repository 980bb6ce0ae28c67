package profiletest

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AuthMode is how a simulated FE authenticates HTTP requests.
type AuthMode int

// Authentication modes, as the FE behaves across versions.
const (
	// AuthNone accepts every request: 3.2, and 3.3/3.4 before the security
	// backports (PR #55919, #56914).
	AuthNone AuthMode = iota
	// AuthBasic requires HTTP Basic auth with a known user and password: the
	// 3.3+ default.
	AuthBasic
	// AuthBasicOperate also requires the SYSTEM OPERATE privilege: newest
	// builds with FE config enable_http_auth=true.
	AuthBasicOperate
)

// Options configures a simulated FE. Nil means defaults.
type Options struct {
	// Now is the FE's wall clock. Default time.Now. Tests use a fake clock
	// to move time (retention, late profiles) without sleeping.
	Now func() time.Time
	// Retention is query_detail_cache_time_nanosecond: records older than it
	// are dropped. Default 30 s.
	Retention time.Duration
	// ExpireEvery is the period of the expiry task. Default 5 s. Expiry runs
	// lazily, on the first request after each period (and on ExpireNow).
	ExpireEvery time.Duration
	// Auth is the authentication mode. Default AuthNone.
	Auth AuthMode
	// Users maps user names to passwords for AuthBasic and AuthBasicOperate.
	Users map[string]string
	// Operators are the users holding SYSTEM OPERATE (AuthBasicOperate).
	Operators []string
	// V32 emits the 3.2 field set: no pendingTime, netTime, netComputeTime,
	// warehouse or catalog, and no resourceGroupName on RUNNING records.
	V32 bool
	// V2 serves /api/v2/query_detail and /api/v2/profile (4.0 and newer).
	V2 bool
	// NoHTMLEscape turns off Gson-style escaping of < > & = ' in strings
	// (Gson escapes them by default, so the FE does).
	NoHTMLEscape bool
	// ProfileCap is profile_info_reserved_num: profiles kept, FIFO. Default 500.
	ProfileCap int
	// Token is the cluster token; /api/bootstrap?token=<Token> then returns
	// the FE's start time. Default "" (start time never reported).
	Token string
	// Addr is where to listen. Default "127.0.0.1:0".
	Addr string
	// TLS serves HTTPS with a self-signed certificate for 127.0.0.1; a
	// client trusts it with ClientTLS. Default false: plain HTTP.
	TLS bool
}

// FE is one simulated StarRocks frontend: its query-detail queue, its
// profiles and its HTTP endpoints, served on 127.0.0.1. It is safe for
// concurrent use. Close stops it.
type FE struct {
	opts Options
	srv  *httptest.Server

	mu         sync.Mutex
	queue      []entry
	lastMs     int64
	counter    int64
	lastExpire time.Time
	profiles   map[string]profileEntry
	profOrder  []string
	startTime  time.Time
	ready      bool
	failures   map[string][]int
	requests   map[string]int
	queryTotal int64
	queryErr   int64
}

type entry struct {
	eventTime int64
	json      []byte
}

type profileEntry struct {
	text      string
	visibleAt time.Time
}

// NewFE starts a simulated FE on 127.0.0.1 (Options.Addr).
func NewFE(opts *Options) *FE {
	fe := &FE{}
	if opts != nil {
		fe.opts = *opts
	}
	if fe.opts.Now == nil {
		fe.opts.Now = time.Now
	}
	if fe.opts.Retention <= 0 {
		fe.opts.Retention = 30 * time.Second
	}
	if fe.opts.ExpireEvery <= 0 {
		fe.opts.ExpireEvery = 5 * time.Second
	}
	if fe.opts.ProfileCap <= 0 {
		fe.opts.ProfileCap = 500
	}
	fe.profiles = map[string]profileEntry{}
	fe.failures = map[string][]int{}
	fe.requests = map[string]int{}
	fe.ready = true
	fe.startTime = fe.opts.Now()
	fe.lastExpire = fe.startTime

	mux := http.NewServeMux()
	mux.HandleFunc("/api/query_detail", fe.wrap(fe.authed(fe.queryDetailV1)))
	mux.HandleFunc("/api/profile", fe.wrap(fe.authed(fe.profileV1)))
	if fe.opts.V2 {
		mux.HandleFunc("/api/v2/query_detail", fe.wrap(fe.authed(fe.queryDetailV2)))
		mux.HandleFunc("/api/v2/profile", fe.wrap(fe.authed(fe.profileV2)))
	}
	mux.HandleFunc("/api/bootstrap", fe.wrap(fe.bootstrap))
	mux.HandleFunc("/api/health", fe.wrap(fe.health))
	mux.HandleFunc("/metrics", fe.wrap(fe.metrics))

	fe.srv = httptest.NewUnstartedServer(mux)
	addr := fe.opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		panic(fmt.Sprintf("profiletest: listen on %s: %v", addr, err))
	}
	fe.srv.Listener = l
	if fe.opts.TLS {
		fe.srv.StartTLS()
	} else {
		fe.srv.Start()
	}
	return fe
}

// ClientTLS returns a TLS configuration that trusts the FE's certificate
// (Options.TLS), or nil.
func (fe *FE) ClientTLS() *tls.Config {
	if !fe.opts.TLS {
		return nil
	}
	return fe.srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
}

// URL is the FE's base URL, "http://127.0.0.1:port" (https with Options.TLS).
func (fe *FE) URL() string { return fe.srv.URL }

// Addr is the FE's host:port.
func (fe *FE) Addr() string { return fe.srv.Listener.Addr().String() }

// Close stops the FE and waits for its requests to finish.
func (fe *FE) Close() { fe.srv.Close() }

// Restart simulates an FE restart: the queue and the profiles are lost (they
// live only in memory) and the start time changes. The address stays.
func (fe *FE) Restart() {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	fe.queue = nil
	fe.profiles = map[string]profileEntry{}
	fe.profOrder = nil
	fe.startTime = fe.opts.Now()
	fe.lastExpire = fe.startTime
}

// SetReady sets what /api/bootstrap answers (OK or FAILED "not ready").
func (fe *FE) SetReady(ready bool) {
	fe.mu.Lock()
	fe.ready = ready
	fe.mu.Unlock()
}

// Fail makes the next len(statuses) requests to path (for example
// "/api/query_detail") fail with these HTTP statuses, in order.
func (fe *FE) Fail(path string, statuses ...int) {
	fe.mu.Lock()
	fe.failures[path] = append(fe.failures[path], statuses...)
	fe.mu.Unlock()
}

// Requests returns how many requests path has received.
func (fe *FE) Requests(path string) int {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	return fe.requests[path]
}

// ExpireNow runs the expiry task at once.
func (fe *FE) ExpireNow() {
	fe.mu.Lock()
	fe.expireLocked(fe.opts.Now())
	fe.mu.Unlock()
}

// Len is the number of records in the queue.
func (fe *FE) Len() int {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	return len(fe.queue)
}

// Query is one statement to simulate. Zero fields get defaults.
type Query struct {
	// ID is the query id. Default: a random UUID.
	ID  string
	SQL string
	// User defaults to "root", Database to "", RemoteIP to "127.0.0.1".
	User, Database, RemoteIP string
	ConnID                   int
	// NotQuery marks a DDL/DML/SET statement (isQuery=false).
	NotQuery bool
	// Start is the start time. Default: the FE clock at Begin.
	Start time.Time
	// Latency is the duration reported at the end. Default: end time minus
	// start time.
	Latency time.Duration
	// Failed ends the statement as FAILED with ErrorMessage.
	Failed       bool
	ErrorMessage string
	// Statistics reported on the finished record (-1 = not reported).
	ScanRows, ScanBytes, ReturnRows, CPUCostNs, MemCostBytes, SpillBytes int64
	// CacheMissRatio is reported when not nil.
	CacheMissRatio *float64
	ResourceGroup  string
	// Profile is the profile text, stored when the statement ends. Empty:
	// no profile (enable_profile off).
	Profile string
	// ProfileDelay makes the profile visible only this long after the end
	// (enable_async_profile).
	ProfileDelay time.Duration
	// AlsoOn lists FEs that also record the finished statement, as a leader
	// does for a statement forwarded to it.
	AlsoOn []*FE
}

// Running is a statement that has begun and not yet ended.
type Running struct {
	fe *FE
	q  Query
}

// Begin records the start of q: its RUNNING record.
func (fe *FE) Begin(q Query) *Running {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	now := fe.opts.Now()
	if q.ID == "" {
		q.ID = NewQueryID()
	}
	if q.User == "" {
		q.User = "root"
	}
	if q.RemoteIP == "" {
		q.RemoteIP = "127.0.0.1"
	}
	if q.Start.IsZero() {
		q.Start = now
	}
	d := fe.detail(q, StateRunning)
	fe.pushLocked(now, d)
	return &Running{fe: fe, q: q}
}

// ID is the statement's query id.
func (r *Running) ID() string { return r.q.ID }

// End records the end of the statement: its FINISHED or FAILED record, with
// a new eventTime, and its profile if it has one.
func (r *Running) End() {
	for _, other := range r.q.AlsoOn {
		other.end(r.q, false)
	}
	r.fe.end(r.q, true)
}

func (fe *FE) end(q Query, withProfile bool) {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	now := fe.opts.Now()
	state := StateFinished
	if q.Failed {
		state = StateFailed
		fe.queryErr++
	}
	if !q.NotQuery {
		fe.queryTotal++
	}
	d := fe.detail(q, state)
	end := now
	if q.Latency > 0 {
		end = q.Start.Add(q.Latency)
	}
	d.EndTime = end.UnixMilli()
	d.Latency = end.Sub(q.Start).Milliseconds()
	if q.Latency > 0 {
		d.Latency = q.Latency.Milliseconds()
	}
	if !fe.opts.V32 {
		d.PendingTime = ptr(int64(0))
		d.NetTime = ptr(d.Latency)
		d.NetComputeTime = ptr(d.Latency)
	}
	d.ResourceGroupName = ptr(q.ResourceGroup)
	d.ScanRows, d.ScanBytes, d.ReturnRows = q.ScanRows, q.ScanBytes, q.ReturnRows
	d.CPUCostNs, d.MemCostBytes, d.SpillBytes = q.CPUCostNs, q.MemCostBytes, q.SpillBytes
	d.CacheMissRatio = q.CacheMissRatio
	if q.Failed {
		d.ErrorMessage = ptr(q.ErrorMessage)
	}
	fe.pushLocked(now, d)
	if withProfile && q.Profile != "" {
		fe.profiles[q.ID] = profileEntry{text: q.Profile, visibleAt: now.Add(q.ProfileDelay)}
		fe.profOrder = append(fe.profOrder, q.ID)
		for len(fe.profOrder) > fe.opts.ProfileCap {
			delete(fe.profiles, fe.profOrder[0])
			fe.profOrder = fe.profOrder[1:]
		}
	}
}

// Run records a whole statement: Begin then End. It returns the query id.
func (fe *FE) Run(q Query) string {
	r := fe.Begin(q)
	r.End()
	return r.ID()
}

// Login records a connection event (FE config audit_log_modules contains
// "connection"): isQuery=false, no sql, startTime and connId 0.
func (fe *FE) Login(user, remoteIP string, failed bool) {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	d := wireDetail{QueryID: NewQueryID(), State: StateFinished, User: ptr(user), RemoteIP: ptr(remoteIP),
		Database: ptr(""), ScanRows: -1, ScanBytes: -1, ReturnRows: -1, CPUCostNs: -1, MemCostBytes: -1, SpillBytes: -1}
	if !fe.opts.V32 {
		d.PendingTime, d.NetTime, d.NetComputeTime = ptr(int64(-1)), ptr(int64(-1)), ptr(int64(-1))
		d.Catalog = ptr("default_catalog")
	}
	d.EndTime, d.Latency = -1, -1
	if failed {
		d.State = StateFailed
		d.ErrorMessage = ptr("Access denied for user '" + user + "'")
	}
	fe.pushLocked(fe.opts.Now(), d)
}

// SetProfile stores a profile for id, visible from now on.
func (fe *FE) SetProfile(id, text string) {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	fe.profiles[id] = profileEntry{text: text, visibleAt: fe.opts.Now()}
	fe.profOrder = append(fe.profOrder, id)
}

// States of a query detail record.
const (
	StateRunning  = "RUNNING"
	StateFinished = "FINISHED"
	StateFailed   = "FAILED"
)

// wireDetail is a QueryDetail in Java declaration order (Gson writes fields
// in that order and omits nulls; longs are primitives, always written).
type wireDetail struct {
	EventTime         int64    `json:"eventTime"`
	QueryID           string   `json:"queryId"`
	IsQuery           bool     `json:"isQuery"`
	RemoteIP          *string  `json:"remoteIP,omitempty"`
	ConnID            int      `json:"connId"`
	StartTime         int64    `json:"startTime"`
	EndTime           int64    `json:"endTime"`
	Latency           int64    `json:"latency"`
	PendingTime       *int64   `json:"pendingTime,omitempty"`
	NetTime           *int64   `json:"netTime,omitempty"`
	NetComputeTime    *int64   `json:"netComputeTime,omitempty"`
	State             string   `json:"state"`
	Database          *string  `json:"database,omitempty"`
	SQL               *string  `json:"sql,omitempty"`
	User              *string  `json:"user,omitempty"`
	ErrorMessage      *string  `json:"errorMessage,omitempty"`
	ResourceGroupName *string  `json:"resourceGroupName,omitempty"`
	ScanRows          int64    `json:"scanRows"`
	ScanBytes         int64    `json:"scanBytes"`
	ReturnRows        int64    `json:"returnRows"`
	CPUCostNs         int64    `json:"cpuCostNs"`
	MemCostBytes      int64    `json:"memCostBytes"`
	SpillBytes        int64    `json:"spillBytes"`
	CacheMissRatio    *float64 `json:"cacheMissRatio,omitempty"`
	Warehouse         *string  `json:"warehouse,omitempty"`
	Catalog           *string  `json:"catalog,omitempty"`
}

func ptr[T any](v T) *T { return &v }

func (fe *FE) detail(q Query, state string) wireDetail {
	d := wireDetail{
		QueryID: q.ID, IsQuery: !q.NotQuery, RemoteIP: ptr(q.RemoteIP), ConnID: q.ConnID,
		StartTime: q.Start.UnixMilli(), EndTime: -1, Latency: -1, State: state,
		Database: ptr(q.Database), SQL: ptr(q.SQL), User: ptr(q.User),
		ScanRows: -1, ScanBytes: -1, ReturnRows: -1, CPUCostNs: -1, MemCostBytes: -1, SpillBytes: -1,
	}
	if !fe.opts.V32 {
		d.PendingTime, d.NetTime, d.NetComputeTime = ptr(int64(-1)), ptr(int64(-1)), ptr(int64(-1))
		d.ResourceGroupName = ptr("")
		d.Warehouse = ptr("default_warehouse")
		d.Catalog = ptr("default_catalog")
	}
	return d
}

// pushLocked stamps d with the next eventTime (wall-clock milliseconds times
// 10^6 plus a per-millisecond counter) and appends it, encoded once.
func (fe *FE) pushLocked(now time.Time, d wireDetail) {
	fe.expireIfDueLocked(now)
	ms := now.UnixMilli()
	if ms == fe.lastMs {
		fe.counter++
	} else {
		fe.lastMs, fe.counter = ms, 0
	}
	d.EventTime = ms*1_000_000 + fe.counter
	b, err := json.Marshal(d)
	if err != nil {
		panic(err) // cannot happen: plain types
	}
	if !fe.opts.NoHTMLEscape {
		b = gsonEscape(b)
	}
	fe.queue = append(fe.queue, entry{eventTime: d.EventTime, json: b})
}

// gsonEscape adds Gson's escapes that encoding/json lacks: = and '. (Both
// occur only inside strings in a QueryDetail.)
func gsonEscape(b []byte) []byte {
	if bytes.IndexByte(b, '=') < 0 && bytes.IndexByte(b, '\'') < 0 {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("="), []byte(`\u003d`))
	return bytes.ReplaceAll(b, []byte("'"), []byte(`\u0027`))
}

func (fe *FE) expireIfDueLocked(now time.Time) {
	if now.Sub(fe.lastExpire) >= fe.opts.ExpireEvery {
		fe.expireLocked(now)
	}
}

func (fe *FE) expireLocked(now time.Time) {
	fe.lastExpire = now
	limit := now.UnixNano() - fe.opts.Retention.Nanoseconds()
	i := 0
	for i < len(fe.queue) && fe.queue[i].eventTime < limit {
		i++
	}
	if i > 0 {
		fe.queue = append([]entry(nil), fe.queue[i:]...)
	}
}

// NewQueryID returns a random UUID in StarRocks' query id format.
func NewQueryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x10
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ---- HTTP ----

func (fe *FE) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fe.mu.Lock()
		fe.requests[r.URL.Path]++
		var status int
		if f := fe.failures[r.URL.Path]; len(f) > 0 {
			status = f[0]
			fe.failures[r.URL.Path] = f[1:]
		}
		fe.mu.Unlock()
		if status != 0 {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			_, _ = fmt.Fprintf(w, "simulated failure %d", status)
			return
		}
		h(w, r)
	}
}

// restResult writes a RestBaseResult JSON error body.
func restResult(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"status": "FAILED", "code": "1", "msg": msg, "message": msg})
	_, _ = w.Write(b)
}

func (fe *FE) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if fe.opts.Auth == AuthNone {
			h(w, r)
			return
		}
		user, pass, ok := basicAuth(r.Header.Get("Authorization"))
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		want, known := fe.opts.Users[user]
		if !ok || !known || want != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm=""`)
			restResult(w, http.StatusUnauthorized, "Access denied for "+user+"@"+ip)
			return
		}
		if fe.opts.Auth == AuthBasicOperate && !contains(fe.opts.Operators, user) {
			restResult(w, http.StatusForbidden, "Access denied; you need (at least one of) the OPERATE privilege(s) on SYSTEM for this operation")
			return
		}
		h(w, r)
	}
}

// basicAuth parses a Basic Authorization header as the FE does: split at the
// first ':' and strip a user@host suffix.
func basicAuth(h string) (user, pass string, ok bool) {
	const prefix = "Basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	dec, err := base64.StdEncoding.DecodeString(h[len(prefix):])
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(dec), ":")
	if !ok {
		return "", "", false
	}
	if i := strings.IndexByte(user, '@'); i >= 0 {
		user = user[:i]
	}
	return user, pass, true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// after returns the encoded records with eventTime > t.
func (fe *FE) after(t int64) [][]byte {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	fe.expireIfDueLocked(fe.opts.Now())
	var out [][]byte
	for _, e := range fe.queue {
		if e.eventTime > t {
			out = append(out, e.json)
		}
	}
	return out
}

func writeArray(buf *bytes.Buffer, recs [][]byte) {
	buf.WriteByte('[')
	for i, b := range recs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
}

func (fe *FE) queryDetailV1(w http.ResponseWriter, r *http.Request) {
	s := strings.TrimSpace(r.URL.Query().Get("event_time"))
	if s == "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("not valid parameter"))
		return
	}
	t, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		restResult(w, http.StatusInternalServerError, fmt.Sprintf("java.lang.NumberFormatException: For input string: %q", s))
		return
	}
	var buf bytes.Buffer
	writeArray(&buf, fe.after(t))
	// The action sets no Content-Type; BaseAction's default is text/html.
	w.Header().Set("Content-Type", "text/html")
	_, _ = w.Write(buf.Bytes())
}

func writeV2(w http.ResponseWriter, status int, code, message string, result []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"code":%q,"message":%q`, code, message)
	if result != nil {
		buf.WriteString(`,"result":`)
		buf.Write(result)
	}
	buf.WriteByte('}')
	_, _ = w.Write(buf.Bytes())
}

func (fe *FE) queryDetailV2(w http.ResponseWriter, r *http.Request) {
	s := strings.TrimSpace(r.URL.Query().Get("event_time"))
	t, err := strconv.ParseInt(s, 10, 64)
	if s == "" || err != nil {
		writeV2(w, http.StatusBadRequest, "400", "not valid parameter", nil)
		return
	}
	recs := fe.after(t)
	if user := r.URL.Query().Get("user"); user != "" {
		var kept [][]byte
		for _, b := range recs {
			var d struct {
				User string `json:"user"`
			}
			if json.Unmarshal(b, &d) == nil && strings.EqualFold(d.User, user) {
				kept = append(kept, b)
			}
		}
		recs = kept
	}
	var buf bytes.Buffer
	writeArray(&buf, recs)
	writeV2(w, http.StatusOK, "0", "OK", buf.Bytes())
}

func (fe *FE) profile(id string) (string, bool) {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	p, ok := fe.profiles[id]
	if !ok || fe.opts.Now().Before(p.visibleAt) {
		return "", false
	}
	return p.text, true
}

func (fe *FE) profileV1(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html")
	id := r.URL.Query().Get("query_id")
	if id == "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("not valid parameter"))
		return
	}
	text, ok := fe.profile(id)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintf(w, "query id %s not found.", id)
		return
	}
	_, _ = w.Write([]byte(text))
}

func (fe *FE) profileV2(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("query_id")
	if id == "" {
		writeV2(w, http.StatusBadRequest, "400", "Invalid parameter: query_id", nil)
		return
	}
	text, ok := fe.profile(id)
	if !ok {
		writeV2(w, http.StatusNotFound, "404", "Query id "+id+" not found.", nil)
		return
	}
	b, _ := json.Marshal(text)
	writeV2(w, http.StatusOK, "0", "OK", b)
}

func (fe *FE) bootstrap(w http.ResponseWriter, r *http.Request) {
	fe.mu.Lock()
	ready, start := fe.ready, fe.startTime
	fe.mu.Unlock()
	res := map[string]any{"replayedJournalId": 0, "queryPort": 0, "rpcPort": 0, "feStartTime": 0,
		"status": "OK", "code": "0", "msg": "Success", "message": "OK"}
	if !ready {
		res["status"], res["code"], res["msg"], res["message"] = "FAILED", "1", "not ready", "not ready"
	} else if fe.opts.Token != "" && r.URL.Query().Get("token") == fe.opts.Token {
		res["feStartTime"] = start.UnixMilli()
		res["queryPort"], res["rpcPort"] = 9030, 9020
		res["feVersion"] = "3.5.4-1ce07c8"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

func (fe *FE) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"total_backend_num":3,"online_backend_num":3,"status":"OK"}`))
}

func (fe *FE) metrics(w http.ResponseWriter, _ *http.Request) {
	fe.mu.Lock()
	total, errs := fe.queryTotal, fe.queryErr
	fe.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# TYPE starrocks_fe_query_total counter\nstarrocks_fe_query_total %d\n", total)
	fmt.Fprintf(w, "# TYPE starrocks_fe_query_err counter\nstarrocks_fe_query_err %d\n", errs)
	fmt.Fprintf(w, "# TYPE starrocks_fe_query_latency_ms summary\n")
	for _, q := range []string{"0.75", "0.95", "0.98", "0.99", "0.999"} {
		fmt.Fprintf(w, "starrocks_fe_query_latency_ms{quantile=%q} 0.0\n", q)
	}
	fmt.Fprintf(w, "starrocks_fe_query_latency_ms_sum 0.0\nstarrocks_fe_query_latency_ms_count %d\n", total-errs)
	fmt.Fprintf(w, "# TYPE jvm_heap_size_bytes gauge\njvm_heap_size_bytes{type=\"max\"} 8589934592\n")
	fmt.Fprintf(w, "jvm_heap_size_bytes{type=\"committed\"} 8589934592\njvm_heap_size_bytes{type=\"used\"} 2147483648\n")
}
