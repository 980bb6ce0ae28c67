package scoring

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// SinkNotifier writes each task as a record of a sink (the `triggers`
// dataset), timestamped by the task.
type SinkNotifier struct {
	s sink.Sink
}

var _ Notifier = (*SinkNotifier)(nil)

// NewSinkNotifier returns a notifier writing to s.
func NewSinkNotifier(s sink.Sink) *SinkNotifier { return &SinkNotifier{s: s} }

// Notify implements Notifier.
func (n *SinkNotifier) Notify(ctx context.Context, t dataset.SentinelTask) error {
	return n.s.Write(ctx, time.Time(t.TS), t)
}

// LogNotifier logs each task at level Warn, so that a program without other
// notifiers still shows them. It never fails.
type LogNotifier struct {
	log *slog.Logger
}

var _ Notifier = (*LogNotifier)(nil)

// NewLogNotifier returns a notifier logging to log.
func NewLogNotifier(log *slog.Logger) *LogNotifier { return &LogNotifier{log: log} }

// Notify implements Notifier.
func (n *LogNotifier) Notify(ctx context.Context, t dataset.SentinelTask) error {
	n.log.WarnContext(ctx, "sentinel task", "cluster", t.Cluster, "trigger", t.Trigger, "priority", t.Priority, "reason", t.Reason)
	return nil
}

// WebhookNotifierOptions configures a WebhookNotifier.
type WebhookNotifierOptions struct {
	// Client does the requests. Default: a client with a 10 s timeout.
	Client *http.Client
	// Header is added to every request (e.g. Authorization). Default none.
	Header http.Header
}

// WebhookNotifier POSTs each task as JSON (Content-Type application/json)
// to a URL. A response other than 2xx is an error.
type WebhookNotifier struct {
	url    string
	client *http.Client
	header http.Header
}

var _ Notifier = (*WebhookNotifier)(nil)

// NewWebhookNotifier returns a notifier posting to url.
func NewWebhookNotifier(url string, opts *WebhookNotifierOptions) (*WebhookNotifier, error) {
	if url == "" {
		return nil, errors.New("scoring: webhook: empty URL")
	}
	var o WebhookNotifierOptions
	if opts != nil {
		o = *opts
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &WebhookNotifier{url: url, client: o.Client, header: o.Header.Clone()}, nil
}

// WebhookError reports a webhook that answered with a non-2xx status.
type WebhookError struct {
	StatusCode int
	Body       string
}

func (e *WebhookError) Error() string {
	return fmt.Sprintf("scoring: webhook: HTTP %d: %s", e.StatusCode, e.Body)
}

// Notify implements Notifier.
func (n *WebhookNotifier) Notify(ctx context.Context, t dataset.SentinelTask) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("scoring: webhook: encode task: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("scoring: webhook: %w", err)
	}
	for k, vs := range n.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("scoring: webhook: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 != 2 {
		return &WebhookError{StatusCode: resp.StatusCode, Body: string(body)}
	}
	return nil
}

// Notifiers sends each task to every notifier in turn; the first error
// stops it (so the cooldown does not start and the task is retried).
type Notifiers []Notifier

// Notify implements Notifier.
func (ns Notifiers) Notify(ctx context.Context, t dataset.SentinelTask) error {
	for _, n := range ns {
		if err := n.Notify(ctx, t); err != nil {
			return err
		}
	}
	return nil
}
