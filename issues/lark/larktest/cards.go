package larktest

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// Section is one alert of a "label: value" alert card.
type Section struct {
	ClusterName, ClusterID, Region, Account string
	// Status is "Firing" or "Resolved" (as the card writes it).
	Status                   string
	AlertName, Detail, Time  string
	DashboardURL, SilenceURL string
}

func (s *Section) pairs() [][2]string {
	all := [][2]string{
		{"Cluster Name", s.ClusterName}, {"Cluster ID", s.ClusterID}, {"Region", s.Region},
		{"Account", s.Account}, {"Status", s.Status}, {"Alert Name", s.AlertName},
		{"Detail", s.Detail}, {"Time", s.Time},
	}
	var out [][2]string
	for _, p := range all {
		if p[1] != "" {
			out = append(out, p)
		}
	}
	return out
}

type node = map[string]any

func text(s string) node { return node{"tag": "text", "text": s} }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return string(b)
}

// StarRocksCard returns the content of a "label: value" alert card as the
// history API returns it by default: {"title", "elements"}, one row per
// section (bold labels as their own text nodes, line breaks inside the
// text, links as "a" nodes), a [{"tag":"hr"}] row between sections, and a
// closing note row.
func StarRocksCard(title string, sections ...Section) string {
	var rows [][]node
	for i, s := range sections {
		if i > 0 {
			rows = append(rows, []node{{"tag": "hr"}})
		}
		var row []node
		for _, p := range s.pairs() {
			row = append(row, text(p[0]+":"), text(" "+p[1]+"\n"))
		}
		if s.DashboardURL != "" {
			row = append(row, node{"tag": "a", "href": s.DashboardURL, "text": "Dashboard"})
		}
		if s.SilenceURL != "" {
			row = append(row, text(" | "), node{"tag": "a", "href": s.SilenceURL, "text": "Silence"})
		}
		rows = append(rows, row)
	}
	rows = append(rows, []node{{"tag": "note", "elements": []node{text("sent by starrocks-alerts")}}})
	return mustJSON(node{"title": title, "elements": rows})
}

// StarRocksCardAsSent returns the same card as it was sent (JSON 1.0: a
// red header, one lark_md div per section with "**Label:** value" lines
// and "[Dashboard](url) | [Silence](url)", hr elements between them), as
// the history API returns it with card_msg_content_type=user_card_content.
func StarRocksCardAsSent(title string, sections ...Section) string {
	var els []node
	for i, s := range sections {
		if i > 0 {
			els = append(els, node{"tag": "hr"})
		}
		var b strings.Builder
		for _, p := range s.pairs() {
			b.WriteString("**" + p[0] + ":** " + p[1] + "\n")
		}
		var links []string
		if s.DashboardURL != "" {
			links = append(links, "[Dashboard]("+s.DashboardURL+")")
		}
		if s.SilenceURL != "" {
			links = append(links, "[Silence]("+s.SilenceURL+")")
		}
		b.WriteString(strings.Join(links, " | "))
		els = append(els, node{"tag": "div", "text": node{"tag": "lark_md", "content": b.String()}})
	}
	return mustJSON(node{
		"config":   node{"wide_screen_mode": true},
		"header":   node{"template": "red", "title": node{"tag": "plain_text", "content": title}},
		"elements": els,
	})
}

// GrafanaAlert is one alert of a Grafana notification.
type GrafanaAlert struct {
	Labels, Annotations map[string]string
	// Value is the "Value:" line's text (e.g. "B=212, C=1").
	Value string
	// SourceURL, SilenceURL and DashboardURL are the paragraph's links.
	SourceURL, SilenceURL, DashboardURL string
}

// GrafanaCard returns a card holding Grafana's default notification (title
// "[FIRING:n, RESOLVED:m] ..." or "[RESOLVED] ...", "Firing" and
// "Resolved" headings, one paragraph per alert, labels and annotations as
// " - name = value" in name order), as the history API returns it by
// default: one row of text and "a" nodes, an hr row, a note row.
func GrafanaCard(titleRest string, firing, resolved []GrafanaAlert) string {
	title := "[RESOLVED] " + titleRest
	if len(firing) > 0 {
		title = "[FIRING:" + strconv.Itoa(len(firing))
		if len(resolved) > 0 {
			title += ", RESOLVED:" + strconv.Itoa(len(resolved))
		}
		title += "] " + titleRest
	}
	var row []node
	part := func(heading string, alerts []GrafanaAlert) {
		if len(alerts) == 0 {
			return
		}
		row = append(row, text(heading))
		for _, a := range alerts {
			var b strings.Builder
			b.WriteString("\n\nValue: " + a.Value + "\nLabels:\n")
			writeKV(&b, a.Labels)
			b.WriteString("Annotations:\n")
			writeKV(&b, a.Annotations)
			b.WriteString("Source: ")
			row = append(row, text(b.String()), node{"tag": "a", "href": a.SourceURL, "text": a.SourceURL},
				text("\nSilence: "), node{"tag": "a", "href": a.SilenceURL, "text": a.SilenceURL})
			if a.DashboardURL != "" {
				row = append(row, text("\nDashboard: "), node{"tag": "a", "href": a.DashboardURL, "text": a.DashboardURL})
			}
		}
		row = append(row, text("\n\n"))
	}
	part("Firing", firing)
	part("Resolved", resolved)
	return mustJSON(node{"title": title, "elements": [][]node{
		row, {{"tag": "hr"}}, {{"tag": "note", "elements": []node{text("Grafana v11.3.1")}}},
	}})
}

func writeKV(b *strings.Builder, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" - " + k + " = " + m[k] + "\n")
	}
}

// PlaceholderCard returns the shell the history API returns for a JSON 2.0
// card (or one it cannot render) read without
// card_msg_content_type=user_card_content: a null title, an image and
// "请升级至最新版本客户端，以查看内容" ("please upgrade to the latest
// client to view this content").
func PlaceholderCard() string {
	return mustJSON(node{"title": nil, "elements": [][]node{{
		{"tag": "img", "image_key": "img_v3_02ad_larktest"}, text("请升级至最新版本客户端，以查看内容"), text(""),
	}}})
}

// TextContent returns the content of a text message.
func TextContent(s string) string { return mustJSON(node{"text": s}) }
