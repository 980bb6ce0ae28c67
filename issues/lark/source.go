package lark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/issues"
)

// SourceLark is the Source of the alerts read from Lark. Their message ids
// are Lark's ("om_..." and the alert's index), so they never collide with
// the webhook's ("wh_" and a hash).
const SourceLark = "lark"

// Mode is what a run reads: Backfill, CatchUp or Today.
type Mode struct {
	kind string
	days int
}

// Backfill reads the last days days (24 h each, up to now).
func Backfill(days int) Mode { return Mode{kind: "backfill", days: days} }

// CatchUp reads from the chat's cursor (the last ingested message's create
// time, that second included) up to now; a chat without a cursor from
// SourceOptions.FirstCatchUp ago.
func CatchUp() Mode { return Mode{kind: "catch-up"} }

// Today reads from the last midnight in SourceOptions.Location up to now.
func Today() Mode { return Mode{kind: "today"} }

// ParseMode reads "backfill=N" (N days, 1 or more), "catch-up" or "today".
func ParseMode(s string) (Mode, error) {
	switch {
	case s == "catch-up" || s == "today":
		return Mode{kind: s}, nil
	case strings.HasPrefix(s, "backfill="):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "backfill="))
		if err == nil && n > 0 {
			return Backfill(n), nil
		}
	}
	return Mode{}, fmt.Errorf("lark: mode %q: want backfill=N (days), catch-up or today", s)
}

// String returns the mode as ParseMode reads it.
func (m Mode) String() string {
	if m.kind == "backfill" {
		return "backfill=" + strconv.Itoa(m.days)
	}
	return m.kind
}

// Ingester receives alerts: *issues.Tracker is one.
type Ingester interface {
	Ingest(ctx context.Context, alerts []issues.Alert) (issues.Result, error)
}

// SourceOptions configures a Source. The zero value (or nil) gives the
// defaults documented on each field.
type SourceOptions struct {
	// Parser reads the cards. Default NewParser(nil) (Grafana and
	// StarRocks templates).
	Parser *Parser
	// MessageTypes are the message types read as possible alerts; others
	// are counted as not alerts. Default ["interactive"] (cards); "text"
	// and "post" may be added.
	MessageTypes []string
	// Cursors keeps each chat's cursor. Default a MemoryCursorStore: use
	// an SQLCursorStore next to the issues store so that catch-up resumes
	// after a restart.
	Cursors CursorStore
	// Location is the time zone of Today's midnight. Default UTC.
	Location *time.Location
	// FirstCatchUp is how far back CatchUp reads a chat that has no cursor
	// yet. Default 24 h.
	FirstCatchUp time.Duration
	// Legacy, if set, also receives one LegacyRow per alert card (after
	// its alerts are ingested), for tables of the legacy shape.
	Legacy LegacyWriter
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger logs each run's summary and failures (nil: discard).
	Logger *slog.Logger
}

// Source reads chats' alert cards into an Ingester (an issues.Tracker). It
// is safe for concurrent use, but two runs on one chat at the same time
// only do the same work twice. It starts no goroutine.
type Source struct {
	client  *Client
	ing     Ingester
	parser  *Parser
	types   []string
	cursors CursorStore
	loc     *time.Location
	first   time.Duration
	legacy  LegacyWriter
	now     func() time.Time
	log     *slog.Logger
}

// NewSource returns a Source reading through client into ing.
func NewSource(client *Client, ing Ingester, opts *SourceOptions) *Source {
	var o SourceOptions
	if opts != nil {
		o = *opts
	}
	s := &Source{
		client: client, ing: ing, parser: o.Parser, types: o.MessageTypes, cursors: o.Cursors,
		loc: o.Location, first: o.FirstCatchUp, legacy: o.Legacy, now: o.Now, log: o.Logger,
	}
	if s.parser == nil {
		s.parser, _ = NewParser(nil) // the default templates are valid
	}
	if s.types == nil {
		s.types = []string{"interactive"}
	}
	if s.cursors == nil {
		s.cursors = NewMemoryCursorStore()
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.first <= 0 {
		s.first = 24 * time.Hour
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s
}

// Stats reports what runs did.
type Stats struct {
	// Pages and Messages read; Skipped messages of the cursor's second
	// that a catch-up had already ingested.
	Pages, Messages, Skipped int
	// Recalled messages, and NotAlerts (other message types, cards
	// without template fields).
	Recalled, NotAlerts int
	// Unparseable counts the messages or card parts that look like alerts
	// but give none: placeholder cards (also counted in Placeholders),
	// content that is not JSON, parts without an alert name, alerts the
	// tracker rejects. Problems says which (the first 100).
	Unparseable, Placeholders int
	Problems                  []Problem
	// Alerts read from cards, of which New were stored for the first time
	// and Duplicates were already stored.
	Alerts, New, Duplicates int
}

// Problem is one unparseable message or card part.
type Problem struct {
	MessageID string
	Reason    string
}

const maxProblems = 100

func (st *Stats) problem(id, reason string) {
	st.Unparseable++
	if len(st.Problems) < maxProblems {
		st.Problems = append(st.Problems, Problem{MessageID: id, Reason: reason})
	}
}

// Add adds o's counts to st.
func (st *Stats) Add(o Stats) {
	st.Pages += o.Pages
	st.Messages += o.Messages
	st.Skipped += o.Skipped
	st.Recalled += o.Recalled
	st.NotAlerts += o.NotAlerts
	st.Unparseable += o.Unparseable
	st.Placeholders += o.Placeholders
	st.Alerts += o.Alerts
	st.New += o.New
	st.Duplicates += o.Duplicates
	st.Problems = append(st.Problems, o.Problems[:min(len(o.Problems), max(0, maxProblems-len(st.Problems)))]...)
}

// Run reads chat chatID in mode m, page by page: each page's alerts are
// ingested, then its legacy rows written, then the chat's cursor moved to
// its last message. A run stopped at any point (ctx, a crash) loses
// nothing: run it again, and what was ingested is a no-op. The error is
// the first failure (the API after its retries, the ingester, the cursor
// store) or ctx.Err(); Stats counts the pages done before it.
func (s *Source) Run(ctx context.Context, chatID string, m Mode) (Stats, error) {
	var st Stats
	now := s.now()
	cur, err := s.cursors.Cursor(ctx, chatID)
	if err != nil {
		return st, err
	}
	var from time.Time
	switch m.kind {
	case "backfill":
		from = now.Add(-time.Duration(m.days) * 24 * time.Hour)
	case "today":
		y, mo, d := now.In(s.loc).Date()
		from = time.Date(y, mo, d, 0, 0, 0, 0, s.loc)
	case "catch-up":
		from = now.Add(-s.first)
		if !cur.Time.IsZero() {
			from = cur.Time.Truncate(time.Second)
		}
	default:
		return st, fmt.Errorf("lark: no mode given")
	}
	done := map[string]bool{}
	if m.kind == "catch-up" {
		for _, id := range cur.IDs {
			done[id] = true
		}
	}
	err = s.client.Messages(ctx, chatID, from, now, func(page []Message) error {
		st.Pages++
		return s.page(ctx, chatID, page, done, &cur, &st)
	})
	s.log.Info("lark: run", "chat", chatID, "mode", m.String(), "from", from, "messages", st.Messages,
		"alerts", st.Alerts, "new", st.New, "unparseable", st.Unparseable, "err", err)
	return st, err
}

// page ingests one page and moves the cursor past it.
func (s *Source) page(ctx context.Context, chatID string, page []Message, done map[string]bool, cur *Cursor, st *Stats) error {
	var alerts []issues.Alert
	var rows []LegacyRow
	for i := range page {
		msg := &page[i]
		st.Messages++
		switch {
		case done[msg.ID]:
			st.Skipped++
			continue
		case msg.Deleted:
			st.Recalled++
			continue
		case !slices.Contains(s.types, msg.Type):
			st.NotAlerts++
			continue
		case msg.Created.IsZero():
			st.problem(msg.ID, "no create_time")
			continue
		}
		card, err := s.parser.ParseCard(msg.Type, msg.Content)
		switch {
		case errors.Is(err, ErrNotAlert):
			st.NotAlerts++
			continue
		case errors.Is(err, ErrPlaceholder):
			st.Placeholders++
			st.problem(msg.ID, "placeholder card (read cards as sent to see its content)")
			continue
		case err != nil:
			st.problem(msg.ID, err.Error())
			continue
		}
		for range card.Incomplete {
			st.problem(msg.ID, "a part of the card has fields but no alert name")
		}
		for i := range card.Alerts {
			alerts = append(alerts, toAlert(msg, &card.Alerts[i]))
		}
		if s.legacy != nil && len(card.Alerts) > 0 {
			rows = append(rows, NewLegacyRow(msg, &card))
		}
	}
	st.Alerts += len(alerts)
	for len(alerts) > 0 {
		res, err := s.ing.Ingest(ctx, alerts)
		var bad *issues.AlertError
		if errors.As(err, &bad) && bad.Index >= 0 && bad.Index < len(alerts) {
			// The tracker ingests all or nothing: drop the alert it
			// rejects and ingest the others.
			st.problem(alerts[bad.Index].ID, bad.Reason)
			alerts = slices.Delete(alerts, bad.Index, bad.Index+1)
			continue
		}
		if err != nil {
			return err
		}
		st.New += res.New
		st.Duplicates += res.Duplicates
		break
	}
	if len(rows) > 0 {
		if err := s.legacy.WriteLegacy(ctx, rows); err != nil {
			return err
		}
	}
	next := *cur
	for i := range page {
		msg := &page[i]
		if msg.Created.IsZero() {
			continue
		}
		switch sec := msg.Created.Truncate(time.Second); {
		case sec.After(next.Time.Truncate(time.Second)):
			next = Cursor{Time: msg.Created, IDs: []string{msg.ID}}
		case sec.Equal(next.Time.Truncate(time.Second)) && !slices.Contains(next.IDs, msg.ID):
			next.IDs = append(slices.Clone(next.IDs), msg.ID)
			next.Time = maxTime(next.Time, msg.Created)
		}
		done[msg.ID] = true
	}
	if next.Time.Equal(cur.Time) && len(next.IDs) == len(cur.IDs) {
		return nil
	}
	if err := s.cursors.SetCursor(ctx, chatID, next); err != nil {
		return err
	}
	*cur = next
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// toAlert is the issues.Alert of card alert a of message msg. Its ID is
// "<message id>#<index>", so its message id in the store is the same
// however often the message is read; its StartsAt is the message's create
// time, which an edit keeps. A card edited from firing to resolved gives
// the resolution of the same ID, which the tracker stores as
// "<message id>#<index>/resolved" and pairs with its firing.
func toAlert(msg *Message, a *CardAlert) issues.Alert {
	id := msg.ID + "#" + strconv.Itoa(a.Index)
	labels := map[string]string{"alertname": a.Fields[FieldAlertName]}
	ann := map[string]string{"lark_message": id}
	for f, name := range map[Field]string{
		FieldClusterID: "cluster_id", FieldClusterName: "cluster_name", FieldRegion: "region", FieldAccount: "account", FieldSeverity: "severity",
	} {
		if v := a.Fields[f]; v != "" {
			labels[name] = v
		}
	}
	if labels["cluster_id"] == "" && labels["cluster_name"] != "" {
		labels["cluster"] = labels["cluster_name"]
	}
	for f, name := range map[Field]string{
		FieldDetail: "description", FieldDashboard: "dashboard_url", FieldSilence: "silence_url", FieldTime: "time",
	} {
		if v := a.Fields[f]; v != "" {
			ann[name] = v
		}
	}
	out := issues.Alert{
		Source: SourceLark, Status: a.Status, Labels: labels, Annotations: ann,
		StartsAt: msg.Created, ID: id, GeneratorURL: a.Fields[FieldDashboard],
	}
	if a.Status == issues.StatusResolved {
		out.EndsAt = msg.Created
		if msg.Edited && msg.Updated.After(msg.Created) {
			out.EndsAt = msg.Updated
		}
	}
	return out
}

// Config is what a program gathers (from flags, a file) to read Lark chats
// into a tracker; Run does the rest.
type Config struct {
	// AppID and AppSecret are the self-built app's credentials (see
	// ReadSecret).
	AppID, AppSecret string
	// BaseURL is the Open API host. Default FeishuBaseURL.
	BaseURL string
	// Chats are the chat ids (oc_...) to read.
	Chats []string
	// Mode is the first run's mode. Default CatchUp().
	Mode Mode
	// Every, if positive, runs CatchUp on every chat at this interval
	// after the first run, until ctx ends.
	Every time.Duration
	// Location is Today's time zone. Default UTC.
	Location *time.Location
	// CardsAsSent reads cards as they were sent (see ClientOptions).
	CardsAsSent bool
}

// Run reads cfg.Chats into ing: one run of cfg.Mode over every chat, then,
// when cfg.Every is positive, a catch-up of every chat at each tick until
// ctx ends. cursors may be nil (a MemoryCursorStore). It returns the first
// run's stats and errors (joined, one per failed chat), after the first
// run without Every, else when ctx ends. Failures are also logged (at
// error level on log), and a failed catch-up is retried at the next tick.
func Run(ctx context.Context, cfg Config, ing Ingester, cursors CursorStore, log *slog.Logger) (Stats, error) {
	if cfg.AppID == "" || cfg.AppSecret == "" || len(cfg.Chats) == 0 {
		return Stats{}, errors.New("lark: an app id, its secret and at least one chat are needed")
	}
	if cfg.Mode.kind == "" {
		cfg.Mode = CatchUp()
	}
	c := NewClient(cfg.AppID, cfg.AppSecret, &ClientOptions{BaseURL: cfg.BaseURL, CardsAsSent: cfg.CardsAsSent})
	src := NewSource(c, ing, &SourceOptions{Cursors: cursors, Location: cfg.Location, Logger: log})
	runAll := func(m Mode) (Stats, error) {
		var total Stats
		var errs []error
		for _, chat := range cfg.Chats {
			st, err := src.Run(ctx, chat, m)
			total.Add(st)
			if err != nil {
				errs = append(errs, fmt.Errorf("chat %s: %w", chat, err))
			}
		}
		return total, errors.Join(errs...)
	}
	first, firstErr := runAll(cfg.Mode)
	if firstErr != nil {
		src.log.Error("lark: first run failed", "mode", cfg.Mode.String(), "err", firstErr)
	}
	if cfg.Every <= 0 {
		return first, firstErr
	}
	tick := time.NewTicker(cfg.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return first, firstErr
		case <-tick.C:
			if _, err := runAll(CatchUp()); err != nil && ctx.Err() == nil {
				src.log.Error("lark: scheduled catch-up failed", "err", err)
			}
		}
	}
}

// SecretEnv is the environment variable ReadSecret reads.
const SecretEnv = "SQLSHADOW_LARK_APP_SECRET"

// ReadSecret returns the app secret: the contents of file (trimmed) if
// file is not "", else the value of getenv(SecretEnv) (pass os.Getenv).
func ReadSecret(getenv func(string) string, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("lark: app secret: %w", err)
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
		return "", fmt.Errorf("lark: app secret: %s is empty", file)
	}
	if s := getenv(SecretEnv); s != "" {
		return s, nil
	}
	return "", fmt.Errorf("lark: app secret: set %s or give a secret file", SecretEnv)
}
