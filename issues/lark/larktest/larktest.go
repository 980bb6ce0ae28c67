// Package larktest is a simulator of the Lark (Feishu) Open API endpoints
// that package lark uses, for tests: an httptest server answering
// POST /open-apis/auth/v3/tenant_access_token/internal and
// GET /open-apis/im/v1/messages as the documentation says they answer, and
// builders of alert cards in the shapes the history API returns.
//
// Usage:
//
//	srv := larktest.NewServer(&larktest.Options{PerSecond: 50})
//	defer srv.Close()
//	srv.Add(larktest.Message{ID: "om_1", ChatID: "oc_1", Created: t0,
//		Content: larktest.StarRocksCard("Alert", larktest.Section{...})})
//	c := lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL})
//
// # What it simulates
//
//   - Tokens: the token endpoint checks the app id and secret (code 10014
//     otherwise) and answers {code, msg, tenant_access_token, expire} at the
//     top level. A token lives TokenTTL (default 2 h); asked again while
//     more than 30 minutes remain, the endpoint returns the same token with
//     the remaining seconds, else a new one (the old one stays valid until
//     its own expiry). A request without "Authorization: Bearer" gets code
//     99991661, one with an unknown, expired or rejected (RejectTokens)
//     token code 99991663, both with HTTP 200: clients must decide on the
//     body's code.
//   - History: container_id_type must be "chat" (code 230001) and the chat
//     known (230002, the bot is not in the group); start_time and end_time
//     are seconds, compared with create_time's second, both bounds
//     inclusive (milliseconds given as start_time are a date far ahead: an
//     empty answer, no error); sort_type ByCreateTimeAsc (default) or
//     ByCreateTimeDesc, which must not change during a page_token walk;
//     page_size 1-50 (default 20); the last page has has_more false and
//     still a page_token. create_time and update_time are strings of
//     milliseconds. A recalled message keeps its msg_type, has deleted true
//     and the content "This message was recalled". Cards are returned as
//     the Content given (the flattened projection), or as AsSent when the
//     request has card_msg_content_type=user_card_content and the message
//     has one.
//   - Rate limits: with PerSecond or PerMinute set, requests to the list
//     API beyond either in the current fixed window get HTTP 429, code
//     99991400 and x-ogw-ratelimit-limit and x-ogw-ratelimit-reset (whole
//     seconds until the window ends, at least 1).
//   - Failures: FailNext makes the next list requests answer HTTP 500 with
//     a body that is not JSON.
//
// Every answer carries an X-Tt-Logid header. A Server is safe for
// concurrent use; Close stops it and waits for its handlers.
package larktest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The credentials the Server accepts unless Options say otherwise.
const (
	AppID     = "cli_larktest0000001"
	AppSecret = "larktest-secret"
)

// Options configures a Server. The zero value (or nil) gives the defaults
// documented on each field.
type Options struct {
	// AppID and AppSecret are the credentials accepted. Default AppID and
	// AppSecret.
	AppID, AppSecret string
	// TokenTTL is a new token's lifetime. Default 2 h.
	TokenTTL time.Duration
	// PerSecond and PerMinute limit list requests per fixed window; 0
	// means no limit.
	PerSecond, PerMinute int
	// Now is the clock of tokens (not of rate windows, which run on the
	// real clock since clients really wait). Default time.Now.
	Now func() time.Time
}

// Message is one message of the simulated history.
type Message struct {
	// ID is the message id (om_...); ChatID the chat's (oc_...).
	ID, ChatID string
	// Type is msg_type. Default "interactive".
	Type string
	// Created is create_time; Updated update_time (default Created).
	Created, Updated time.Time
	// Deleted marks a recalled message; Edited an edited one.
	Deleted, Edited bool
	// Content is body.content as the history API returns it by default.
	Content string
	// AsSent, if set, is body.content with
	// card_msg_content_type=user_card_content.
	AsSent string
}

// Counts are what a Server answered.
type Counts struct {
	// TokenRequests to the token endpoint, TokensIssued new tokens.
	TokenRequests, TokensIssued int
	// ListRequests to the list API, of which Pages answered with items,
	// RateLimited with 99991400, TokenErrors with 99991661/99991663,
	// ServerErrors with HTTP 500.
	ListRequests, Pages, RateLimited, TokenErrors, ServerErrors int
}

// Server is a running simulator.
type Server struct {
	// URL is the base URL to give lark.ClientOptions.BaseURL.
	URL string

	srv  *httptest.Server
	o    Options
	mu   sync.Mutex
	msgs map[string][]Message // by chat, in insertion order
	toks map[string]time.Time // token -> expiry
	cur  string               // the latest token
	fail int
	win  [2]struct {
		start time.Time
		n     int
	}
	counts Counts
	logID  int
}

// NewServer starts a Server.
func NewServer(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.AppID == "" {
		o.AppID, o.AppSecret = AppID, AppSecret
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 2 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, msgs: map[string][]Message{}, toks: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /open-apis/auth/v3/tenant_access_token/internal", s.token)
	mux.HandleFunc("GET /open-apis/im/v1/messages", s.list)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close stops the server and waits for its handlers to return.
func (s *Server) Close() { s.srv.Close() }

// Add appends messages to their chats' histories (a chat exists once it
// has a message). Messages are listed by create time, then in the order
// added.
func (s *Server) Add(msgs ...Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		if m.Type == "" {
			m.Type = "interactive"
		}
		if m.Updated.IsZero() {
			m.Updated = m.Created
		}
		s.msgs[m.ChatID] = append(s.msgs[m.ChatID], m)
	}
}

// Recall marks message id recalled.
func (s *Server) Recall(id string) {
	s.edit(id, func(m *Message) { m.Deleted = true })
}

// Edit replaces message id's content (and AsSent) as an edit at time at.
func (s *Server) Edit(id, content, asSent string, at time.Time) {
	s.edit(id, func(m *Message) { m.Content, m.AsSent, m.Updated, m.Edited = content, asSent, at, true })
}

func (s *Server) edit(id string, fn func(*Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, list := range s.msgs {
		for i := range list {
			if list[i].ID == id {
				fn(&list[i])
			}
		}
	}
}

// RejectTokens makes every token issued so far invalid (code 99991663),
// as the API does to a token it revokes before its expiry.
func (s *Server) RejectTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.toks)
	s.cur = ""
}

// FailNext makes the next n list requests answer HTTP 500.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	s.fail = n
	s.mu.Unlock()
}

// Counts returns what the server answered so far.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

func (s *Server) reply(w http.ResponseWriter, status int, body any) {
	s.logID++
	w.Header().Set("X-Tt-Logid", fmt.Sprintf("larktest-%06d", s.logID))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func errBody(code int, msg string) map[string]any { return map[string]any{"code": code, "msg": msg} }

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AppID     string `json:"app_id"`
		AppSecret string `json:"app_secret"`
	}
	err := json.NewDecoder(r.Body).Decode(&in)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.TokenRequests++
	switch {
	case err != nil || in.AppID == "":
		s.reply(w, http.StatusBadRequest, errBody(10003, "invalid param"))
		return
	case in.AppID != s.o.AppID || in.AppSecret != s.o.AppSecret:
		s.reply(w, http.StatusBadRequest, errBody(10014, "app secret invalid"))
		return
	}
	now := s.o.Now()
	if exp, ok := s.toks[s.cur]; !ok || exp.Sub(now) <= 30*time.Minute {
		s.counts.TokensIssued++
		s.cur = fmt.Sprintf("t-larktest%08d", s.counts.TokensIssued)
		s.toks[s.cur] = now.Add(s.o.TokenTTL)
	}
	left := int64(s.toks[s.cur].Sub(now) / time.Second)
	s.reply(w, http.StatusOK, map[string]any{"code": 0, "msg": "ok", "tenant_access_token": s.cur, "expire": left})
}

// limited counts a list request in the rate windows and reports the wait,
// or 0 when it may go.
func (s *Server) limited(now time.Time) (limit int, reset time.Duration) {
	for i, w := range []struct {
		n   int
		per time.Duration
	}{{s.o.PerSecond, time.Second}, {s.o.PerMinute, time.Minute}} {
		if w.n <= 0 {
			continue
		}
		win := &s.win[i]
		if now.Sub(win.start) >= w.per {
			win.start, win.n = now.Truncate(w.per), 0
		}
		if win.n >= w.n {
			return w.n, win.start.Add(w.per).Sub(now)
		}
	}
	for i := range s.win {
		s.win[i].n++
	}
	return 0, 0
}

type pageToken struct {
	Chat, Sort string
	Start, End int64
	Offset     int
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.ListRequests++
	if s.fail > 0 {
		s.fail--
		s.counts.ServerErrors++
		http.Error(w, "upstream connect error", http.StatusInternalServerError)
		return
	}
	if lim, reset := s.limited(time.Now()); lim > 0 {
		s.counts.RateLimited++
		secs := max(1, int((reset+time.Second-1)/time.Second))
		w.Header().Set("x-ogw-ratelimit-limit", strconv.Itoa(lim))
		w.Header().Set("x-ogw-ratelimit-reset", strconv.Itoa(secs))
		s.reply(w, http.StatusTooManyRequests, errBody(99991400, "request trigger frequency limit"))
		return
	}
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" {
		s.counts.TokenErrors++
		s.reply(w, http.StatusOK, errBody(99991661, "Missing access token for authorization"))
		return
	}
	if exp, ok := s.toks[tok]; !ok || !s.o.Now().Before(exp) {
		s.counts.TokenErrors++
		s.reply(w, http.StatusOK, errBody(99991663, "Invalid access token for authorization"))
		return
	}
	bad := func(msg string) { s.reply(w, http.StatusBadRequest, errBody(230001, "param is invalid: "+msg)) }
	if q.Get("container_id_type") != "chat" {
		bad("container_id_type")
		return
	}
	chat := q.Get("container_id")
	msgs, ok := s.msgs[chat]
	if !ok {
		s.reply(w, http.StatusBadRequest, errBody(230002, "The bot can not be outside the group."))
		return
	}
	pt := pageToken{Chat: chat, Sort: q.Get("sort_type"), Start: 0, End: 1<<62 - 1}
	if pt.Sort == "" {
		pt.Sort = "ByCreateTimeAsc"
	}
	if pt.Sort != "ByCreateTimeAsc" && pt.Sort != "ByCreateTimeDesc" {
		bad("sort_type")
		return
	}
	for name, dst := range map[string]*int64{"start_time": &pt.Start, "end_time": &pt.End} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				bad(name)
				return
			}
			*dst = n
		}
	}
	size := 20
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 50 {
			bad("page_size")
			return
		}
		size = n
	}
	if v := q.Get("page_token"); v != "" {
		var prev pageToken
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || json.Unmarshal(raw, &prev) != nil || prev.Chat != pt.Chat || prev.Sort != pt.Sort ||
			prev.Start != pt.Start || prev.End != pt.End {
			bad("page_token")
			return
		}
		pt.Offset = prev.Offset
	}
	var sel []Message
	for _, m := range msgs {
		if sec := m.Created.Unix(); sec >= pt.Start && sec <= pt.End {
			sel = append(sel, m)
		}
	}
	slices.SortStableFunc(sel, func(a, b Message) int { return a.Created.Compare(b.Created) })
	if pt.Sort == "ByCreateTimeDesc" {
		slices.Reverse(sel)
	}
	end := min(len(sel), pt.Offset+size)
	items := []map[string]any{}
	asSent := q.Get("card_msg_content_type") == "user_card_content"
	for _, m := range sel[min(pt.Offset, end):end] {
		content := m.Content
		if asSent && m.AsSent != "" {
			content = m.AsSent
		}
		if m.Deleted {
			content = "This message was recalled"
		}
		items = append(items, map[string]any{
			"message_id": m.ID, "msg_type": m.Type, "chat_id": m.ChatID,
			"create_time": strconv.FormatInt(m.Created.UnixMilli(), 10),
			"update_time": strconv.FormatInt(m.Updated.UnixMilli(), 10),
			"deleted":     m.Deleted, "updated": m.Edited,
			"sender": map[string]any{"id": "cli_alertbot", "id_type": "app_id", "sender_type": "app"},
			"body":   map[string]any{"content": content},
		})
	}
	s.counts.Pages++
	pt.Offset = end
	raw, _ := json.Marshal(pt)
	s.reply(w, http.StatusOK, map[string]any{"code": 0, "msg": "success", "data": map[string]any{
		"has_more": end < len(sel), "page_token": base64.RawURLEncoding.EncodeToString(raw), "items": items,
	}})
}
