package lark_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/issues/lark"
	"github.com/sqlshadow/sqlshadow/issues/lark/larktest"
)

var (
	firingSection = larktest.Section{
		ClusterName: "sr-dw-analytics", ClusterID: "c-91d0e3aa42", Region: "us-west-2", Account: "analytics-prod",
		Status: "Firing", AlertName: "BeAliveAbnormal", Detail: "BE 10.12.4.31:9060 has not sent a heartbeat for 180 s",
		Time: "2026-11-21 08:31:05 UTC", DashboardURL: "https://grafana.example.com/d/be?var-cluster=c-91d0e3aa42",
		SilenceURL: "https://alertmanager.example.com/#/silences/new?filter=%7Bcluster_id%3D%22c-91d0e3aa42%22%7D",
	}
	resolvedSection = larktest.Section{
		ClusterName: "sr-dw-analytics", ClusterID: "c-91d0e3aa42", Region: "us-west-2", Account: "analytics-prod",
		Status: "Resolved", AlertName: "FeQueryLatencyHigh", Detail: "p99 back under 2 s",
		DashboardURL: "https://grafana.example.com/d/fe",
	}
)

func parser(t testing.TB) *lark.Parser {
	p, err := lark.NewParser(nil)
	require.NoError(t, err)
	return p
}

// wantSections checks that card holds firingSection and resolvedSection.
func wantSections(t *testing.T, card lark.Card) {
	t.Helper()
	require.Equal(t, "starrocks", card.Template)
	require.Len(t, card.Alerts, 2)
	a, b := card.Alerts[0], card.Alerts[1]
	require.Equal(t, 1, a.Index)
	require.Equal(t, issues.StatusFiring, a.Status)
	for f, want := range map[lark.Field]string{
		lark.FieldClusterName: firingSection.ClusterName, lark.FieldClusterID: firingSection.ClusterID,
		lark.FieldRegion: firingSection.Region, lark.FieldAccount: firingSection.Account, lark.FieldAlertName: firingSection.AlertName,
		lark.FieldDetail: firingSection.Detail, lark.FieldDashboard: firingSection.DashboardURL,
		lark.FieldSilence: firingSection.SilenceURL, lark.FieldTime: firingSection.Time, lark.FieldStatus: "Firing",
	} {
		require.Equal(t, want, a.Get(f), f.String())
	}
	require.Equal(t, 2, b.Index)
	require.Equal(t, issues.StatusResolved, b.Status)
	require.Equal(t, "FeQueryLatencyHigh", b.Get(lark.FieldAlertName))
	require.Equal(t, "https://grafana.example.com/d/fe", b.Get(lark.FieldDashboard))
	require.Empty(t, b.Get(lark.FieldSilence))
}

func TestParseStarRocksCardProjection(t *testing.T) {
	card, err := parser(t).ParseCard("interactive", larktest.StarRocksCard("StarRocks alerts", firingSection, resolvedSection))
	require.NoError(t, err)
	require.Equal(t, "StarRocks alerts", card.Title)
	wantSections(t, card)
}

func TestParseStarRocksCardAsSent(t *testing.T) {
	card, err := parser(t).ParseCard("interactive", larktest.StarRocksCardAsSent("StarRocks alerts", firingSection, resolvedSection))
	require.NoError(t, err)
	require.Equal(t, "StarRocks alerts", card.Title)
	wantSections(t, card)
}

// A JSON 2.0 card as sent: elements under body, markdown elements.
func TestParseCardV2AsSent(t *testing.T) {
	content := `{"schema":"2.0","config":{"update_multi":true},
	 "header":{"template":"green","title":{"tag":"plain_text","content":"告警恢复"}},
	 "body":{"elements":[{"tag":"markdown","content":"**集群名称：** sr-ods\n**集群ID：** c-77\n**告警状态：** 已恢复\n**告警名称：** FeDown\n[监控大盘](https://g.example.com/d/1)"}]}}`
	card, err := parser(t).ParseCard("interactive", content)
	require.NoError(t, err)
	require.Equal(t, "告警恢复", card.Title)
	require.Len(t, card.Alerts, 1)
	a := card.Alerts[0]
	require.Equal(t, issues.StatusResolved, a.Status)
	require.Equal(t, "sr-ods", a.Get(lark.FieldClusterName))
	require.Equal(t, "c-77", a.Get(lark.FieldClusterID))
	require.Equal(t, "FeDown", a.Get(lark.FieldAlertName))
	require.Equal(t, "https://g.example.com/d/1", a.Get(lark.FieldDashboard))
}

func TestParseGrafanaCard(t *testing.T) {
	labels := func(name, instance string) map[string]string {
		return map[string]string{
			"account": "analytics-prod", "alertname": name, "cluster_id": "c-91d0e3aa42",
			"cluster_name": "sr-dw-analytics", "grafana_folder": "StarRocks", "instance": instance,
			"region": "us-west-2", "severity": "critical",
		}
	}
	content := larktest.GrafanaCard("BeAliveAbnormal c-91d0e3aa42",
		[]larktest.GrafanaAlert{{
			Labels: labels("BeAliveAbnormal", "10.12.4.31"), Value: "B=212, C=1",
			Annotations: map[string]string{"description": "BE 10.12.4.31:9060 has not sent a heartbeat for 180s", "summary": "BeAliveAbnormal on sr-dw-analytics"},
			SourceURL:   "https://grafana.example.com/alerting/grafana/x/view?orgId=1", SilenceURL: "https://grafana.example.com/alerting/silence/new?a=1",
			DashboardURL: "https://grafana.example.com/d/abc",
		}},
		[]larktest.GrafanaAlert{{
			Labels: labels("BeAliveAbnormal", "10.12.4.32"), Value: "B=0, C=0",
			Annotations: map[string]string{"summary": "BeAliveAbnormal on sr-dw-analytics"},
			SourceURL:   "https://grafana.example.com/alerting/grafana/x/view?orgId=1", SilenceURL: "https://grafana.example.com/alerting/silence/new?a=2",
		}})
	card, err := parser(t).ParseCard("interactive", content)
	require.NoError(t, err)
	require.Equal(t, "grafana", card.Template)
	require.Len(t, card.Alerts, 2)
	f, r := card.Alerts[0], card.Alerts[1]
	require.Equal(t, issues.StatusFiring, f.Status)
	require.Equal(t, issues.StatusResolved, r.Status)
	require.Equal(t, "BeAliveAbnormal", f.Get(lark.FieldAlertName))
	require.Equal(t, "c-91d0e3aa42", f.Get(lark.FieldClusterID))
	require.Equal(t, "sr-dw-analytics", f.Get(lark.FieldClusterName))
	require.Equal(t, "analytics-prod", r.Get(lark.FieldAccount))
	require.Equal(t, "critical", f.Get(lark.FieldSeverity))
	require.Equal(t, "BE 10.12.4.31:9060 has not sent a heartbeat for 180s", f.Get(lark.FieldDetail))
	require.Equal(t, "BeAliveAbnormal on sr-dw-analytics", r.Get(lark.FieldDetail), "summary when no description")
	require.Equal(t, "https://grafana.example.com/d/abc", f.Get(lark.FieldDashboard))
	require.Equal(t, "https://grafana.example.com/alerting/silence/new?a=1", f.Get(lark.FieldSilence))
	require.Equal(t, "https://grafana.example.com/alerting/silence/new?a=2", r.Get(lark.FieldSilence))
	require.Empty(t, r.Get(lark.FieldDashboard))
}

func TestParseCardNotAlerts(t *testing.T) {
	p := parser(t)
	for name, tc := range map[string]struct {
		typ, content string
		err          error
	}{
		"placeholder":        {"interactive", larktest.PlaceholderCard(), lark.ErrPlaceholder},
		"placeholder, other": {"interactive", `{"title":"Weekly","elements":[[{"tag":"text","text":"卡片内容不支持查看，请在飞书客户端查看"}]]}`, lark.ErrPlaceholder},
		"recalled":           {"interactive", "This message was recalled", lark.ErrBadContent},
		"chat card":          {"interactive", `{"title":"Lunch","elements":[[{"tag":"text","text":"Pizza today"}],[{"tag":"button","text":"Join","type":"primary"}]]}`, lark.ErrNotAlert},
		"title only":         {"interactive", `{"title":"BeAliveAbnormal","elements":[]}`, lark.ErrNotAlert},
		"image":              {"image", `{"image_key":"img_1"}`, lark.ErrNotAlert},
		"system":             {"system", `{"template":"{from_user} invited {to_chatters} to this chat."}`, lark.ErrNotAlert},
		"text":               {"text", larktest.TextContent("who is on call? see [the doc](https://x)"), lark.ErrNotAlert},
	} {
		t.Run(name, func(t *testing.T) {
			card, err := p.ParseCard(tc.typ, tc.content)
			require.ErrorIs(t, err, tc.err)
			require.Empty(t, card.Alerts)
		})
	}
}

// A part with fields but no alert name is reported, never an empty alert.
func TestParseCardIncomplete(t *testing.T) {
	card, err := parser(t).ParseCard("interactive",
		larktest.StarRocksCard("t", larktest.Section{ClusterName: "sr-1", Status: "Firing"}, firingSection))
	require.NoError(t, err)
	require.Equal(t, 1, card.Incomplete)
	require.Len(t, card.Alerts, 1)
	require.Equal(t, "BeAliveAbnormal", card.Alerts[0].Get(lark.FieldAlertName))
}

func TestCustomTemplate(t *testing.T) {
	p, err := lark.NewParser([]lark.Template{{
		Name:  "ops",
		Title: regexp.MustCompile(`^OPS`),
		Labels: map[lark.Field][]string{
			lark.FieldAlertName: {"rule"}, lark.FieldClusterID: {"cid"}, lark.FieldDashboard: {"graphs"},
		},
		Resolved: []string{"ok"},
	}})
	require.NoError(t, err)
	card, err := p.ParseCard("text", larktest.TextContent("rule: DiskFull\ncid: c-1\nstate: whatever\n[graphs](https://g/1)"))
	require.ErrorIs(t, err, lark.ErrNotAlert, "the title does not match")
	require.Empty(t, card.Alerts)
	card, err = p.ParseCard("post", `{"title":"OPS ok","content":[[{"tag":"text","text":"rule = DiskFull\n- cid = c-1\n"},{"tag":"a","text":"graphs","href":"https://g/1"}]]}`)
	require.NoError(t, err)
	require.Len(t, card.Alerts, 1)
	require.Equal(t, issues.StatusResolved, card.Alerts[0].Status, "from the title")
	require.Equal(t, "c-1", card.Alerts[0].Get(lark.FieldClusterID))
	require.Equal(t, "https://g/1", card.Alerts[0].Get(lark.FieldDashboard))

	_, err = lark.NewParser([]lark.Template{{Name: "x", Labels: map[lark.Field][]string{lark.FieldClusterID: {"c"}}}})
	require.ErrorContains(t, err, "no label for alertname")
}

// FuzzParseCard: any content parses without panicking, and what it
// returns is consistent: errors come with no alerts, alerts are numbered
// from 1, have a name and a status.
func FuzzParseCard(f *testing.F) {
	for _, s := range []string{
		larktest.StarRocksCard("t", firingSection, resolvedSection),
		larktest.StarRocksCardAsSent("t", firingSection),
		larktest.GrafanaCard("x", []larktest.GrafanaAlert{{Labels: map[string]string{"alertname": "A"}}}, nil),
		larktest.PlaceholderCard(),
		`{"schema":"2.0","body":{"elements":[{"tag":"column_set","columns":[{"elements":[{"tag":"markdown","content":"Alert Name: X"}]}]}]}}`,
		`{"title":"[RESOLVED] y","elements":[[{"tag":"text","text":"Resolved\nLabels:\n - alertname = B\n"}]]}`,
		"This message was recalled", `{"elements":[[[[]]]]}`, `{"title":1}`, "",
	} {
		f.Add("interactive", s)
	}
	f.Add("text", larktest.TextContent("Alert Name: X\nStatus: Resolved"))
	p := parser(f)
	f.Fuzz(func(t *testing.T, typ, content string) {
		card, err := p.ParseCard(typ, content)
		if err != nil {
			require.Empty(t, card.Alerts)
			return
		}
		require.True(t, len(card.Alerts) > 0 || card.Incomplete > 0)
		for i, a := range card.Alerts {
			require.Equal(t, i+1, a.Index)
			require.NotEmpty(t, a.Get(lark.FieldAlertName))
			require.Contains(t, []issues.Status{issues.StatusFiring, issues.StatusResolved}, a.Status)
		}
	})
}
