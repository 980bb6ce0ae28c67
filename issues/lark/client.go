package lark

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Base URLs of the Open API. The paths are the same on both hosts.
const (
	FeishuBaseURL = "https://open.feishu.cn"
	LarkBaseURL   = "https://open.larksuite.com"
)

// API error codes the client acts on (the JSON body's "code"; 0 is success).
const (
	// CodeRateLimited: request trigger frequency limit (HTTP 429, or 400 on
	// older APIs), with x-ogw-ratelimit-reset seconds to wait.
	CodeRateLimited = 99991400
	// CodeTokenInvalid: tenant_access_token expired or rejected.
	CodeTokenInvalid = 99991663
	// CodeTokenMissing: no "Authorization: Bearer" token.
	CodeTokenMissing = 99991661
	// CodeTokenMalformed: the token does not start with t- or u-.
	CodeTokenMalformed = 99991671
)

// ClientOptions configures a Client. The zero value (or nil) gives the
// defaults documented on each field.
type ClientOptions struct {
	// BaseURL is the Open API host. Default FeishuBaseURL.
	BaseURL string
	// HTTPClient sends the requests. Default a client with a 30 s timeout.
	HTTPClient *http.Client
	// PerSecond and PerMinute cap the message-list requests the client
	// sends, retries included (client side, shared by every call on the
	// Client; token requests are not counted). Defaults 50
	// and 1000: the documented limits of the list API, per app and tenant.
	PerSecond, PerMinute int
	// Retries is how many times a request is repeated after a rate-limit
	// answer, a 5xx answer or a network error. Default 8.
	Retries int
	// MaxBackoff caps the exponential back-off between retries (500 ms,
	// 1 s, 2 s, ..., plus up to 50% jitter). Default 30 s. A rate-limit
	// answer's x-ogw-ratelimit-reset, when longer, wins.
	MaxBackoff time.Duration
	// TokenMargin is how long before its expiry a cached token is renewed.
	// Default 3 min (at most half the token's lifetime).
	TokenMargin time.Duration
	// CardsAsSent asks the API for cards as they were sent
	// (card_msg_content_type=user_card_content) instead of the flattened
	// projection; ParseCard reads both.
	CardsAsSent bool
	// Now is the clock of the token cache. Default time.Now.
	Now func() time.Time
}

// Client reads chat history through the Lark (Feishu) Open API with a
// self-built app's credentials. It is safe for concurrent use and starts no
// goroutine.
type Client struct {
	base, appID, secret string
	http                *http.Client
	retries             int
	maxBackoff          time.Duration
	margin              time.Duration
	asSent              bool
	now                 func() time.Time
	lim                 *limiter

	mu      sync.Mutex
	token   string
	expires time.Time
}

// NewClient returns a Client for the app appID with secret appSecret.
func NewClient(appID, appSecret string, opts *ClientOptions) *Client {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if o.BaseURL == "" {
		o.BaseURL = FeishuBaseURL
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.PerSecond <= 0 {
		o.PerSecond = 50
	}
	if o.PerMinute <= 0 {
		o.PerMinute = 1000
	}
	if o.Retries <= 0 {
		o.Retries = 8
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.TokenMargin <= 0 {
		o.TokenMargin = 3 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Client{
		base: strings.TrimRight(o.BaseURL, "/"), appID: appID, secret: appSecret, http: o.HTTPClient,
		retries: o.Retries, maxBackoff: o.MaxBackoff, margin: o.TokenMargin, asSent: o.CardsAsSent, now: o.Now,
		lim: newLimiter(window{o.PerSecond, time.Second}, window{o.PerMinute, time.Minute}),
	}
}

// APIError is an answer of the Open API with a non-zero code, or an HTTP
// error status without a JSON body.
type APIError struct {
	// Op is the call: "token" or "list messages".
	Op string
	// HTTPStatus is the answer's HTTP status.
	HTTPStatus int
	// Code and Msg are the body's code and msg (Code 0 when the body was
	// not JSON).
	Code int
	Msg  string
	// LogID is the X-Tt-Logid header, the id Lark support asks for.
	LogID string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("lark: %s: HTTP %d, code %d: %s", e.Op, e.HTTPStatus, e.Code, e.Msg)
	if e.LogID != "" {
		s += " (log id " + e.LogID + ")"
	}
	return s
}

func (e *APIError) tokenRejected() bool {
	return e.Code == CodeTokenInvalid || e.Code == CodeTokenMissing || e.Code == CodeTokenMalformed
}

// retryable reports answers worth repeating unchanged: rate limits and
// server errors.
func (e *APIError) retryable() bool {
	return e.Code == CodeRateLimited || e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus >= 500
}

// answer is one decoded response: its body and the rate-limit wait.
type answer struct {
	body  []byte
	reset time.Duration
}

// do sends the request built by mk and decodes the envelope: a non-zero
// code is an *APIError. It repeats rate-limited, 5xx and failed requests
// with back-off, and when withToken, a request whose token was rejected
// once with a fresh token.
func (c *Client) do(ctx context.Context, op string, withToken bool, mk func() (*http.Request, error)) ([]byte, error) {
	refreshed := false
	for attempt := 0; ; attempt++ {
		if withToken {
			if err := c.lim.wait(ctx); err != nil {
				return nil, err
			}
		}
		var tok string
		if withToken {
			var err error
			if tok, err = c.tenantToken(ctx); err != nil {
				return nil, err
			}
		}
		a, err := c.send(ctx, op, tok, mk)
		if err == nil {
			return a.body, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ae *APIError
		isAPI := errors.As(err, &ae)
		switch {
		case isAPI && withToken && ae.tokenRejected() && !refreshed:
			c.dropToken(tok)
			refreshed = true
			attempt-- // a token refresh is not a back-off step
			continue
		case isAPI && !ae.retryable():
			return nil, err
		}
		if attempt >= c.retries {
			return nil, fmt.Errorf("lark: %s: gave up after %d attempts: %w", op, attempt+1, err)
		}
		d := min(c.maxBackoff, 500*time.Millisecond<<min(attempt, 20))
		d = max(d, a.reset)
		d += rand.N(d/2 + 1)
		if err := sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// send does one request. Network errors come back as they are; a body
// with a non-zero code, or an HTTP error status, as *APIError.
func (c *Client) send(ctx context.Context, op, tok string, mk func() (*http.Request, error)) (answer, error) {
	req, err := mk()
	if err != nil {
		return answer{}, err
	}
	req = req.WithContext(ctx)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return answer{}, err
	}
	var a answer
	a.body = body
	if s, err := strconv.Atoi(resp.Header.Get("x-ogw-ratelimit-reset")); err == nil && s > 0 {
		a.reset = time.Duration(s) * time.Second
	}
	var env struct {
		Code *int   `json:"code"`
		Msg  string `json:"msg"`
	}
	if json.Unmarshal(body, &env) != nil || env.Code == nil {
		if resp.StatusCode >= 300 {
			return a, &APIError{Op: op, HTTPStatus: resp.StatusCode, Msg: strings.TrimSpace(string(body[:min(len(body), 200)])),
				LogID: resp.Header.Get("X-Tt-Logid")}
		}
		return a, fmt.Errorf("lark: %s: HTTP %d: the answer is not a JSON envelope", op, resp.StatusCode)
	}
	if *env.Code != 0 || resp.StatusCode >= 300 {
		return a, &APIError{Op: op, HTTPStatus: resp.StatusCode, Code: *env.Code, Msg: env.Msg, LogID: resp.Header.Get("X-Tt-Logid")}
	}
	return a, nil
}

// sleep waits d or until ctx ends (then it returns ctx.Err()).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tenantToken returns the cached tenant_access_token, fetching a new one
// when there is none or it expires within the margin. Concurrent callers
// wait for one fetch.
func (c *Client) tenantToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expires) {
		return c.token, nil
	}
	body, err := json.Marshal(map[string]string{"app_id": c.appID, "app_secret": c.secret})
	if err != nil {
		return "", err
	}
	raw, err := c.do(ctx, "token", false, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, c.base+"/open-apis/auth/v3/tenant_access_token/internal", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
		}
		return req, err
	})
	if err != nil {
		return "", err
	}
	var out struct {
		Token  string `json:"tenant_access_token"`
		Expire int64  `json:"expire"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Token == "" || out.Expire <= 0 {
		return "", fmt.Errorf("lark: token: no tenant_access_token and expire in the answer")
	}
	life := time.Duration(out.Expire) * time.Second
	c.token, c.expires = out.Token, c.now().Add(life-min(c.margin, life/2))
	return c.token, nil
}

// dropToken forgets tok if it is still the cached token (another caller may
// have replaced it already).
func (c *Client) dropToken(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.mu.Unlock()
}

// Message is one message of a chat's history, as the list API returns it.
type Message struct {
	// ID is the message id (om_...).
	ID string
	// ChatID is the chat's id (oc_...); ThreadID the topic's (omt_...), if
	// any.
	ChatID, ThreadID string
	// Type is msg_type: "interactive" for cards, "text", "post", ...
	Type string
	// Created and Updated are create_time and update_time (milliseconds);
	// zero when the API sent none or a malformed one.
	Created, Updated time.Time
	// Deleted marks a recalled message (its Content is then a fixed
	// notice, not JSON); Edited one changed after it was sent (Content is
	// the current version).
	Deleted, Edited bool
	// SenderID is the sender's open_id (ou_...) or app id (cli_...).
	SenderID string
	// Content is body.content: a JSON document serialised in a string.
	Content string
}

type wireMessage struct {
	MessageID  string `json:"message_id"`
	ThreadID   string `json:"thread_id"`
	MsgType    string `json:"msg_type"`
	CreateTime string `json:"create_time"`
	UpdateTime string `json:"update_time"`
	Deleted    bool   `json:"deleted"`
	Updated    bool   `json:"updated"`
	ChatID     string `json:"chat_id"`
	Sender     struct {
		ID string `json:"id"`
	} `json:"sender"`
	Body struct {
		Content string `json:"content"`
	} `json:"body"`
}

func millis(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// pageSize is the largest page the list API serves.
const pageSize = 50

// Messages walks the history of chat chatID created in the seconds from
// start to end (both truncated to the second; the API filters on whole
// seconds, and whether its bounds are inclusive is not documented: callers
// de-duplicate by message id), oldest first, 50 per page, and calls fn
// with each page until the API says there is no more. fn's error stops the
// walk and is returned. A page that cannot be read after the retries ends
// the walk with its error; the pages before it were delivered.
func (c *Client) Messages(ctx context.Context, chatID string, start, end time.Time, fn func([]Message) error) error {
	q := url.Values{}
	q.Set("container_id_type", "chat")
	q.Set("container_id", chatID)
	q.Set("start_time", strconv.FormatInt(start.Unix(), 10))
	q.Set("end_time", strconv.FormatInt(end.Unix(), 10))
	q.Set("sort_type", "ByCreateTimeAsc")
	q.Set("page_size", strconv.Itoa(pageSize))
	if c.asSent {
		q.Set("card_msg_content_type", "user_card_content")
	}
	for {
		u := c.base + "/open-apis/im/v1/messages?" + q.Encode()
		raw, err := c.do(ctx, "list messages", true, func() (*http.Request, error) {
			return http.NewRequest(http.MethodGet, u, nil)
		})
		if err != nil {
			return err
		}
		var env struct {
			Data struct {
				HasMore   bool          `json:"has_more"`
				PageToken string        `json:"page_token"`
				Items     []wireMessage `json:"items"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			return fmt.Errorf("lark: list messages: %w", err)
		}
		page := make([]Message, len(env.Data.Items))
		for i, w := range env.Data.Items {
			page[i] = Message{
				ID: w.MessageID, ChatID: w.ChatID, ThreadID: w.ThreadID, Type: w.MsgType,
				Created: millis(w.CreateTime), Updated: millis(w.UpdateTime), Deleted: w.Deleted, Edited: w.Updated,
				SenderID: w.Sender.ID, Content: w.Body.Content,
			}
		}
		if err := fn(page); err != nil {
			return err
		}
		if !env.Data.HasMore {
			return nil
		}
		if env.Data.PageToken == "" {
			return fmt.Errorf("lark: list messages: has_more without a page_token")
		}
		q.Set("page_token", env.Data.PageToken)
	}
}

// limiter keeps requests under n per window for each of its windows: it
// remembers the times of the last n requests of each window, and a request
// goes no sooner than one window after the n-th last one. It runs on the
// real clock, since it sleeps.
type limiter struct {
	mu    sync.Mutex
	rings []ring
}

type window struct {
	n   int
	per time.Duration
}

// ring holds the reserved times of the last len(times) requests, oldest at
// next.
type ring struct {
	per   time.Duration
	times []time.Time
	next  int
}

func newLimiter(ws ...window) *limiter {
	l := &limiter{}
	for _, w := range ws {
		l.rings = append(l.rings, ring{per: w.per, times: make([]time.Time, w.n)})
	}
	return l
}

// wait reserves the earliest time a request may go and sleeps until then.
// Reserved times never decrease, so every ring stays in time order.
func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	at := time.Now()
	for i := range l.rings {
		r := &l.rings[i]
		if old := r.times[r.next]; !old.IsZero() && old.Add(r.per).After(at) {
			at = old.Add(r.per)
		}
	}
	for i := range l.rings {
		r := &l.rings[i]
		r.times[r.next] = at
		r.next = (r.next + 1) % len(r.times)
	}
	l.mu.Unlock()
	return sleep(ctx, time.Until(at))
}
