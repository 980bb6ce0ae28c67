package lark

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sqlshadow/sqlshadow/issues"
)

// Field is one piece of an alert that a card carries.
type Field int

// The fields of a card alert.
const (
	FieldClusterName Field = iota
	FieldClusterID
	FieldRegion
	FieldAccount
	FieldStatus
	FieldAlertName
	FieldDetail
	FieldDashboard
	FieldSilence
	FieldSeverity
	FieldTime
	numFields
)

var fieldNames = [numFields]string{
	"cluster_name", "cluster_id", "region", "account", "status", "alertname", "detail",
	"dashboard_url", "silence_url", "severity", "time",
}

// String returns the field's name, as used in labels and legacy columns.
func (f Field) String() string {
	if f < 0 || f >= numFields {
		return fmt.Sprintf("Field(%d)", int(f))
	}
	return fieldNames[f]
}

// Template says how to read the alerts of one kind of card. A card's text
// is read line by line; a line "label: value", "label：value" or
// "label = value" (with any leading "- ", and bold markers already removed)
// gives the field its label is listed for; a link whose text is a
// FieldDashboard or FieldSilence label gives that URL.
type Template struct {
	// Name names the template in reports.
	Name string
	// Title, if set, must match the card's title for the template to apply.
	Title *regexp.Regexp
	// Labels lists, for each field, the labels that introduce it
	// (compared case-insensitively, spaces collapsed). The first value
	// found for a field in an alert wins.
	Labels map[Field][]string
	// Split, if set, starts a new alert at each line it matches, within a
	// section (sections are always separate alerts; cards separate them
	// with dividers).
	Split *regexp.Regexp
	// Firing and Resolved are the status words, compared case-insensitively
	// (Resolved first, so "告警恢复" is resolved). They are looked for in a
	// FieldStatus value; a line made of one of them alone is a heading that
	// gives the status of the alerts under it; failing both, the title
	// gives it if it holds only resolved words. Otherwise an alert is
	// firing.
	Firing, Resolved []string
}

// Grafana is the template of Grafana's default notification text in a card:
// title "[FIRING:n] ..." or "[RESOLVED] ...", "Firing" and "Resolved"
// headings, one paragraph per alert from its "Value:" (or "Labels:") line,
// labels and annotations as " - name = value", then "Dashboard: <url>"
// and "Silence: <url>" lines. The cluster and account labels are the rule
// author's choice: the defaults are cluster_name, cluster_id, region and
// account (or account_name).
func Grafana() Template {
	return Template{
		Name:  "grafana",
		Title: regexp.MustCompile(`^\[(FIRING|RESOLVED)\b`),
		Labels: map[Field][]string{
			FieldClusterName: {"cluster_name"}, FieldClusterID: {"cluster_id"}, FieldRegion: {"region"},
			FieldAccount: {"account", "account_name"}, FieldAlertName: {"alertname"},
			FieldDetail: {"description", "summary"}, FieldSeverity: {"severity"},
			FieldDashboard: {"dashboard"}, FieldSilence: {"silence"},
		},
		Split:    regexp.MustCompile(`^(Value|Labels):`),
		Firing:   []string{"firing"},
		Resolved: []string{"resolved"},
	}
}

// StarRocks is the template of "label: value" alert cards such as the
// StarRocks operators' (one bold label per line, one section per alert,
// sections separated by dividers, links "[Dashboard](url) | [Silence](url)"),
// with English, snake_case and common Chinese labels.
func StarRocks() Template {
	return Template{
		Name: "starrocks",
		Labels: map[Field][]string{
			FieldClusterName: {"cluster name", "cluster_name", "cluster", "集群名称", "集群名", "集群"},
			FieldClusterID:   {"cluster id", "cluster_id", "集群id", "集群 id"},
			FieldRegion:      {"region", "地域", "区域"},
			FieldAccount:     {"account", "account name", "account_name", "账号", "账户", "账号名称"},
			FieldStatus:      {"status", "alert status", "告警状态", "状态"},
			FieldAlertName:   {"alert name", "alertname", "alert", "告警名称", "告警名", "告警项"},
			FieldDetail:      {"detail", "details", "description", "告警详情", "详情", "告警内容"},
			FieldDashboard:   {"dashboard", "监控大盘", "大盘", "监控"},
			FieldSilence:     {"silence", "静默"},
			FieldSeverity:    {"severity", "level", "告警级别", "级别"},
			FieldTime:        {"time", "alert time", "告警时间", "时间"},
		},
		Firing:   []string{"firing", "告警中", "触发"},
		Resolved: []string{"resolved", "已恢复", "恢复"},
	}
}

// DefaultTemplates returns Grafana and StarRocks, in that order.
func DefaultTemplates() []Template { return []Template{Grafana(), StarRocks()} }

// Errors of ParseCard.
var (
	// ErrPlaceholder: the API returned a placeholder shell instead of the
	// card (JSON 2.0 cards, and cards it cannot render, read without
	// CardsAsSent): its content is unknown.
	ErrPlaceholder = errors.New("lark: placeholder card: the API did not return its content")
	// ErrNotAlert: the message is no alert (no template field in it).
	ErrNotAlert = errors.New("lark: not an alert")
	// ErrBadContent: the content is not the JSON its message type has.
	ErrBadContent = errors.New("lark: unreadable message content")
)

// Card is what a message says about alerts.
type Card struct {
	// Title is the card's title ("" when none).
	Title string
	// Template is the name of the template that read it.
	Template string
	// Alerts are the card's alerts, in card order.
	Alerts []CardAlert
	// Incomplete counts the parts of the card that have template fields
	// but no alert name: they are not alerts, and are reported.
	Incomplete int
}

// CardAlert is one alert of a card.
type CardAlert struct {
	// Index is the alert's position in its card, from 1: its id is the
	// message id, "#", Index.
	Index int
	// Status is firing or resolved.
	Status issues.Status
	// Fields holds the values found, by Field (FieldStatus as the card writes it).
	Fields [numFields]string
}

// Get returns field f.
func (a *CardAlert) Get(f Field) string { return a.Fields[f] }

// Parser reads cards with a list of templates. It is safe for concurrent
// use.
type Parser struct {
	ts []compiled
}

type compiled struct {
	Template
	labels             map[string]Field
	firing, resolved   []string
	dashboard, silence map[string]bool
}

// NewParser returns a Parser that reads each card with the first template
// whose Title matches (nil: DefaultTemplates()).
func NewParser(templates []Template) (*Parser, error) {
	if templates == nil {
		templates = DefaultTemplates()
	}
	p := &Parser{}
	for _, t := range templates {
		c := compiled{Template: t, labels: map[string]Field{}, dashboard: map[string]bool{}, silence: map[string]bool{}}
		for f, ls := range t.Labels {
			if f < 0 || f >= numFields {
				return nil, fmt.Errorf("lark: template %q: unknown field %d", t.Name, int(f))
			}
			for _, l := range ls {
				k := normLabel(l)
				if k == "" {
					return nil, fmt.Errorf("lark: template %q: empty label for %s", t.Name, f)
				}
				c.labels[k] = f
				switch f {
				case FieldDashboard:
					c.dashboard[k] = true
				case FieldSilence:
					c.silence[k] = true
				}
			}
		}
		if _, ok := t.Labels[FieldAlertName]; !ok {
			return nil, fmt.Errorf("lark: template %q: no label for alertname", t.Name)
		}
		for _, w := range t.Firing {
			c.firing = append(c.firing, strings.ToLower(w))
		}
		for _, w := range t.Resolved {
			c.resolved = append(c.resolved, strings.ToLower(w))
		}
		p.ts = append(p.ts, c)
	}
	return p, nil
}

// placeholders are the texts of the shells the history API returns for
// cards it does not render: "please upgrade to the latest client to view
// this content", and "card content cannot be viewed, view it in the
// Feishu client".
var placeholders = []string{"请升级至最新版本客户端", "卡片内容不支持查看"}

// ParseCard reads the alerts of one message's content. msgType is the
// message's type: "interactive" (a card, in the history API's flattened
// projection {"title", "elements": [[nodes]]} or as sent, JSON 1.0
// "elements" or 2.0 "body.elements"), "text" or "post"; other types are
// ErrNotAlert. Errors: ErrBadContent, ErrPlaceholder, ErrNotAlert.
// Recalled messages must be filtered out before (their content is not
// JSON).
func (p *Parser) ParseCard(msgType, content string) (Card, error) {
	var b builder
	var title string
	switch msgType {
	case "interactive", "post", "text":
	default:
		return Card{}, ErrNotAlert
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(content), &raw); err != nil {
		return Card{}, fmt.Errorf("%w: %v", ErrBadContent, err)
	}
	switch msgType {
	case "text":
		b.markdown(str(raw["text"]))
	default:
		title = str(raw["title"])
		if h, ok := raw["header"].(map[string]any); ok {
			if t, ok := h["title"].(map[string]any); ok {
				title = str(t["content"])
			}
		}
		els, _ := raw["elements"].([]any)
		if msgType == "post" {
			els, _ = raw["content"].([]any)
		}
		if body, ok := raw["body"].(map[string]any); ok {
			els, _ = body["elements"].([]any)
		}
		for _, el := range els {
			b.element(el)
			b.newline()
		}
	}
	title = strings.TrimSpace(title)
	for _, sec := range b.sections {
		for _, l := range sec {
			for _, ph := range placeholders {
				if strings.Contains(l.text, ph) {
					return Card{Title: title}, ErrPlaceholder
				}
			}
		}
	}
	for i := range p.ts {
		t := &p.ts[i]
		if t.Title != nil && !t.Title.MatchString(title) {
			continue
		}
		card := t.read(title, b.sections)
		if len(card.Alerts) == 0 && card.Incomplete == 0 {
			return card, ErrNotAlert
		}
		return card, nil
	}
	return Card{Title: title}, ErrNotAlert
}

// read extracts the alerts of sections.
func (t *compiled) read(title string, sections [][]line) Card {
	card := Card{Title: title, Template: t.Name}
	titleStatus := issues.StatusFiring
	if t.word(title, t.resolved) && !t.word(title, t.firing) {
		titleStatus = issues.StatusResolved
	}
	for _, sec := range sections {
		var cur draft
		heading := issues.Status("")
		flush := func() {
			switch {
			case cur.fields[FieldAlertName] != "":
				a := CardAlert{Index: len(card.Alerts) + 1, Fields: cur.fields, Status: titleStatus}
				switch {
				case cur.fields[FieldStatus] != "":
					a.Status = t.status(cur.fields[FieldStatus], titleStatus)
				case heading != "":
					a.Status = heading
				}
				card.Alerts = append(card.Alerts, a)
			case cur.any:
				card.Incomplete++
			}
			cur = draft{}
		}
		for _, l := range sec {
			text := cleanLine(l.text)
			if text == "" && len(l.links) == 0 {
				continue
			}
			if st := t.heading(text); st != "" {
				flush()
				heading = st
				continue
			}
			if t.Split != nil && cur.any && t.Split.MatchString(text) {
				flush()
			}
			if key, val, ok := splitKV(text); ok {
				if f, ok := t.labels[normLabel(key)]; ok && cur.fields[f] == "" {
					if f == FieldDashboard || f == FieldSilence {
						val = linkURL(val, l.links)
					}
					if val != "" {
						cur.fields[f], cur.any = val, true
					}
				}
			}
			for _, lk := range l.links {
				k := normLabel(lk.text)
				switch {
				case t.dashboard[k] && cur.fields[FieldDashboard] == "":
					cur.fields[FieldDashboard] = lk.url
				case t.silence[k] && cur.fields[FieldSilence] == "":
					cur.fields[FieldSilence] = lk.url
				}
			}
		}
		flush()
	}
	return card
}

type draft struct {
	fields [numFields]string
	any    bool
}

// word reports whether s holds one of words (lower-case).
func (t *compiled) word(s string, words []string) bool {
	s = strings.ToLower(s)
	for _, w := range words {
		if w != "" && strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// status reads a FieldStatus value.
func (t *compiled) status(v string, dflt issues.Status) issues.Status {
	switch {
	case t.word(v, t.resolved):
		return issues.StatusResolved
	case t.word(v, t.firing):
		return issues.StatusFiring
	}
	return dflt
}

// heading returns the status a line made of one status word sets, or "".
func (t *compiled) heading(s string) issues.Status {
	s = strings.ToLower(strings.TrimRight(s, ":： "))
	for _, w := range t.resolved {
		if s == w {
			return issues.StatusResolved
		}
	}
	for _, w := range t.firing {
		if s == w {
			return issues.StatusFiring
		}
	}
	return ""
}

// linkURL returns the URL of a URL field's value: the link whose text the
// value is, else the value itself when it is a URL, else "".
func linkURL(val string, links []link) string {
	for _, lk := range links {
		if lk.text == val || lk.url == val {
			return lk.url
		}
	}
	if strings.HasPrefix(val, "http://") || strings.HasPrefix(val, "https://") {
		return strings.Fields(val)[0]
	}
	return ""
}

// splitKV splits "key: value", "key：value" or "key = value" at the first
// separator; keys are at most 64 bytes.
func splitKV(s string) (key, val string, ok bool) {
	i := strings.IndexAny(s, ":：=")
	if i <= 0 || i > 64 {
		return "", "", false
	}
	n := 1
	if strings.HasPrefix(s[i:], "：") {
		n = len("：")
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+n:]), true
}

// normLabel lower-cases a label and collapses its spaces.
func normLabel(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.Trim(s, "*_ \t")), " "))
}

// cleanLine trims a line and a leading list marker.
func cleanLine(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range []string{"- ", "* ", "• "} {
		s = strings.TrimPrefix(s, p)
	}
	return strings.TrimSpace(s)
}

// line is one line of card text and the links in it.
type line struct {
	text  string
	links []link
}

type link struct{ text, url string }

// builder turns card content into sections (separated by dividers) of
// lines.
type builder struct {
	sections [][]line
}

func (b *builder) cur() *line {
	if len(b.sections) == 0 {
		b.sections = [][]line{{{}}}
	}
	s := b.sections[len(b.sections)-1]
	return &s[len(s)-1]
}

func (b *builder) newline() {
	b.cur()
	i := len(b.sections) - 1
	b.sections[i] = append(b.sections[i], line{})
}

func (b *builder) hr() { b.sections = append(b.sections, []line{{}}) }

// text appends s, starting a new line at each line break.
func (b *builder) text(s string) {
	for i, part := range strings.Split(s, "\n") {
		if i > 0 {
			b.newline()
		}
		b.cur().text += part
	}
}

func (b *builder) link(text, url string) {
	b.text(text)
	l := b.cur()
	l.links = append(l.links, link{text: strings.TrimSpace(text), url: url})
}

var (
	mdLink = regexp.MustCompile(`\[([^\]\n]*)\]\(([^)\s]+)\)`)
	// mdTag matches the inline tags of lark_md: <at ...></at>, <font ...>,
	// <text_tag ...>.
	mdTag = regexp.MustCompile(`</?(at|font|text_tag)\b[^>]*>`)
)

// markdown appends lark_md or markdown text: bold and italic markers and
// inline tags dropped, [text](url) as a link.
func (b *builder) markdown(s string) {
	s = mdTag.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "**", "")
	for s != "" {
		m := mdLink.FindStringSubmatchIndex(s)
		if m == nil {
			b.text(s)
			return
		}
		b.text(s[:m[0]])
		b.link(s[m[2]:m[3]], s[m[4]:m[5]])
		s = s[m[1]:]
	}
}

// element appends one element of either card shape: a projection row (an
// array of inline nodes), an inline node, or an element of a card as sent.
func (b *builder) element(v any) {
	switch x := v.(type) {
	case []any:
		if len(x) == 1 && tagOf(x[0]) == "hr" {
			b.hr()
			return
		}
		for _, n := range x {
			b.element(n)
		}
	case map[string]any:
		b.node(x)
	}
}

func (b *builder) node(n map[string]any) {
	switch str(n["tag"]) {
	case "hr":
		b.hr()
	case "a":
		b.link(str(n["text"]), str(n["href"]))
	case "at":
		b.text("@" + str(n["user_name"]))
	case "img", "image":
	case "button":
		url := str(n["url"])
		if m, ok := n["multi_url"].(map[string]any); ok && url == "" {
			url = str(m["url"])
		}
		t := str(n["text"])
		if m, ok := n["text"].(map[string]any); ok {
			t = str(m["content"])
		}
		if url != "" {
			b.link(t, url)
		} else {
			b.text(t)
		}
	case "markdown", "lark_md":
		b.markdown(str(n["content"]))
	case "plain_text":
		b.text(str(n["content"]))
	case "div":
		b.element(n["text"])
		fields, _ := n["fields"].([]any)
		for _, f := range fields {
			if m, ok := f.(map[string]any); ok {
				b.newline()
				b.element(m["text"])
			}
		}
	default:
		// text nodes of the projection, and containers (note, action,
		// column_set, collapsible panels, ...) of either shape.
		switch t := n["text"].(type) {
		case string:
			b.text(t)
		case map[string]any:
			b.node(t)
		}
		if s := str(n["content"]); s != "" {
			b.markdown(s)
		}
		if els, ok := n["elements"].([]any); ok {
			for _, e := range els {
				b.element(e)
			}
		}
		if acts, ok := n["actions"].([]any); ok {
			for _, e := range acts {
				b.element(e)
				b.text(" ")
			}
		}
		if cols, ok := n["columns"].([]any); ok {
			for _, c := range cols {
				if m, ok := c.(map[string]any); ok {
					els, _ := m["elements"].([]any)
					for _, e := range els {
						b.element(e)
						b.newline()
					}
				}
			}
		}
	}
}

// str returns v if it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

func tagOf(v any) string {
	m, _ := v.(map[string]any)
	return str(m["tag"])
}
