package issues

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Payload is an Alertmanager webhook body, version 4.
type Payload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            Status            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
}

// WebhookAlert is one alert of a Payload.
type WebhookAlert struct {
	Status       Status            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// ErrBadPayload is wrapped by every DecodeWebhook error.
var ErrBadPayload = errors.New("issues: bad webhook payload")

// SourceWebhook is the Source (and message id prefix) of webhook alerts.
const SourceWebhook = "wh"

// DecodeWebhook reads and checks one Alertmanager webhook payload: a JSON
// object of version "4", whose alerts each have labels, a firing or
// resolved status and a startsAt. Unknown fields are ignored; trailing
// data is an error. Errors wrap ErrBadPayload (or *AlertError, for one
// alert) and say what is wrong.
func DecodeWebhook(r io.Reader) (*Payload, error) {
	dec := json.NewDecoder(r)
	var p Payload
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrBadPayload)
	}
	if p.Version != "4" {
		return nil, fmt.Errorf("%w: version %q, want \"4\"", ErrBadPayload, p.Version)
	}
	for i := range p.Alerts {
		a := p.Alert(i)
		if err := a.validate(i); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadPayload, err)
		}
	}
	return &p, nil
}

// Alert returns alert i of the payload as an Alert of Source "wh".
func (p *Payload) Alert(i int) Alert {
	w := &p.Alerts[i]
	return Alert{
		Source: SourceWebhook, Status: w.Status, Labels: w.Labels, Annotations: w.Annotations,
		StartsAt: w.StartsAt, EndsAt: w.EndsAt, Fingerprint: w.Fingerprint, GeneratorURL: w.GeneratorURL,
	}
}

// WebhookHandlerOptions configures NewHandler. The zero value (or nil) gives the
// defaults documented on each field.
type WebhookHandlerOptions struct {
	// Token, if set, is the bearer token every request must carry
	// ("Authorization: Bearer <token>"); others get 401.
	Token string
	// MaxBodyBytes caps the request body; larger bodies get 413. Default
	// 8 MiB.
	MaxBodyBytes int64
	// Timeout bounds the ingestion of one request. Default 30 s.
	Timeout time.Duration
	// Logger logs rejected requests (nil: discard).
	Logger *slog.Logger
}

// NewHandler returns the http.Handler for Alertmanager webhooks (POST,
// version 4 payloads) that ingests into t. It answers 200 with the Result as
// JSON; 400 for malformed payloads, 401 for a wrong token, 405 for other
// methods, 413 for bodies over the limit (Alertmanager does not retry 4xx);
// 503 when the store fails (Alertmanager retries 5xx).
func NewWebhookHandler(t *Tracker, opts *WebhookHandlerOptions) http.Handler {
	var o WebhookHandlerOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &handler{t: t, o: o}
}

type handler struct {
	t *Tracker
	o WebhookHandlerOptions
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, body := h.serve(r)
	h.t.m.requests.WithLabelValues(fmt.Sprint(code)).Inc()
	if code != http.StatusOK {
		h.o.Logger.Warn("issues: webhook rejected", "code", code, "err", body, "remote", r.RemoteAddr)
		writeJSON(w, code, map[string]string{"error": fmt.Sprint(body)})
		return
	}
	writeJSON(w, code, body)
}

func (h *handler) serve(r *http.Request) (int, any) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "method " + r.Method + ": want POST"
	}
	if !bearerOK(r, h.o.Token) {
		return http.StatusUnauthorized, "missing or wrong bearer token"
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.o.MaxBodyBytes+1))
	if err != nil {
		return http.StatusBadRequest, "reading body: " + err.Error()
	}
	if int64(len(body)) > h.o.MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", h.o.MaxBodyBytes)
	}
	p, err := DecodeWebhook(bytes.NewReader(body))
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	if p.TruncatedAlerts > 0 {
		h.t.m.truncated.Add(float64(p.TruncatedAlerts))
		h.o.Logger.Warn("issues: Alertmanager truncated a payload (max_alerts)", "group", p.GroupKey, "truncated", p.TruncatedAlerts)
	}
	alerts := make([]Alert, len(p.Alerts))
	for i := range alerts {
		alerts[i] = p.Alert(i)
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.o.Timeout)
	defer cancel()
	res, err := h.t.Ingest(ctx, alerts)
	if err != nil {
		if errors.Is(err, ErrInvalidAlert) {
			return http.StatusBadRequest, err.Error()
		}
		return http.StatusServiceUnavailable, "store: " + err.Error()
	}
	return http.StatusOK, res
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// bearerOK reports whether r carries token as its bearer token (always true
// for an empty token), comparing in constant time.
func bearerOK(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}
