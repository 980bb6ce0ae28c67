package investigate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ToolSpec describes one tool to a model or an MCP client.
type ToolSpec struct {
	Name        string
	Description string
	// InputSchema is the JSON Schema of the tool's arguments.
	InputSchema json.RawMessage
}

// Toolbox runs the investigation tools by name with JSON arguments, for a
// model reasoner or an MCP server: every result is masked (MaskText on
// every string) before it is returned. Get one from Investigator.Toolbox.
type Toolbox struct {
	tools   Tools
	queries map[string]string
	label   string
	rate    time.Duration
	step    time.Duration
}

const (
	schemaCluster = `{"type":"object","properties":{"cluster":{"type":"string","description":"cluster name"}},"required":["cluster"]}`
	schemaRange   = `{"type":"object","properties":{"cluster":{"type":"string"},"from":{"type":"string","format":"date-time","description":"RFC 3339; default 3 hours before to"},"to":{"type":"string","format":"date-time","description":"RFC 3339; default now"}},"required":["cluster"]}`
)

// Specs returns the specs of the configured tools, in a fixed order.
func (tb *Toolbox) Specs() []ToolSpec {
	var out []ToolSpec
	t := &tb.tools
	if t.Clusters != nil {
		out = append(out,
			ToolSpec{ToolClusterInfo, "The cluster's tier, account, version and region.", json.RawMessage(schemaCluster)},
			ToolSpec{ToolSiblings, "Clusters of the same account or version.", json.RawMessage(schemaCluster)})
	}
	if t.Alerts != nil {
		out = append(out, ToolSpec{ToolAlerts, "Issues (grouped alerts) of the cluster firing in the time range.", json.RawMessage(schemaRange)})
	}
	if t.Metrics != nil {
		out = append(out, ToolSpec{ToolMetrics, "A metric of the cluster over the time range: metric is one of the names " +
			"disk_used_pct, compaction_score, fe_heap_used_pct, query_error_rate_pct, be_alive_pct (or others configured), or promql is a PromQL expression.",
			json.RawMessage(`{"type":"object","properties":{"cluster":{"type":"string"},"metric":{"type":"string"},"promql":{"type":"string"},"from":{"type":"string","format":"date-time"},"to":{"type":"string","format":"date-time"}},"required":["cluster"]}`)})
	}
	if t.Operations != nil {
		out = append(out, ToolSpec{ToolOperations, "START, STOP and UPDATE operations on the cluster in the time range.", json.RawMessage(schemaRange)})
	}
	if t.Knowledge != nil {
		out = append(out, ToolSpec{ToolKnowledge, "Full-text search of runbooks, on-call notes, known bugs by version and proven resolutions.",
			json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer","minimum":1,"maximum":20}},"required":["query"]}`)})
	}
	if t.Past != nil {
		out = append(out, ToolSpec{ToolPast, "Earlier findings of the cluster, or with a fingerprint.",
			json.RawMessage(`{"type":"object","properties":{"cluster":{"type":"string"},"fingerprint":{"type":"string"}}}`)})
	}
	if t.SQL != nil {
		out = append(out, ToolSpec{ToolSQL, "Run one read-only SQL query (SELECT, SHOW, EXPLAIN); time- and row-limited.",
			json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}`)})
	}
	if t.Shadow != nil {
		out = append(out, ToolSpec{ToolShadow, "EXPLAIN a read-only statement on the primary and the shadow, and list the system variables that differ.",
			json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}`)})
	}
	return out
}

type toolInput struct {
	Cluster     string `json:"cluster"`
	From        string `json:"from"`
	To          string `json:"to"`
	Metric      string `json:"metric"`
	PromQL      string `json:"promql"`
	Query       string `json:"query"`
	Limit       int    `json:"limit"`
	Fingerprint string `json:"fingerprint"`
}

func (in *toolInput) times() (time.Time, time.Time, error) {
	to := time.Now()
	if in.To != "" {
		t, err := time.Parse(time.RFC3339, in.To)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("investigate: to: %w", err)
		}
		to = t
	}
	from := to.Add(-3 * time.Hour)
	if in.From != "" {
		t, err := time.Parse(time.RFC3339, in.From)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("investigate: from: %w", err)
		}
		from = t
	}
	return from, to, nil
}

// Call runs the tool name with the JSON arguments input and returns its
// masked JSON result and the number of items in it.
func (tb *Toolbox) Call(ctx context.Context, name string, input json.RawMessage) (json.RawMessage, int, error) {
	var in toolInput
	if len(input) > 0 {
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, 0, fmt.Errorf("investigate: %s: arguments: %w", name, err)
		}
	}
	t := &tb.tools
	need := func(ok bool) error {
		if !ok {
			return fmt.Errorf("%w: %s", ErrNoTool, name)
		}
		return nil
	}
	var out any
	n := 0
	var err error
	switch name {
	case ToolClusterInfo:
		if err = need(t.Clusters != nil); err == nil {
			out, err = t.Clusters.Cluster(ctx, in.Cluster)
			n = 1
		}
	case ToolSiblings:
		if err = need(t.Clusters != nil); err == nil {
			var s []Cluster
			s, err = t.Clusters.Siblings(ctx, in.Cluster)
			out, n = s, len(s)
		}
	case ToolAlerts:
		if err = need(t.Alerts != nil); err == nil {
			from, to, terr := in.times()
			if terr != nil {
				return nil, 0, terr
			}
			list, aerr := t.Alerts.Alerts(ctx, in.Cluster, from, to)
			out, n, err = list, len(list), aerr
		}
	case ToolMetrics:
		if err = need(t.Metrics != nil); err == nil {
			from, to, terr := in.times()
			if terr != nil {
				return nil, 0, terr
			}
			q := in.PromQL
			if q == "" {
				tmpl, ok := tb.queries[in.Metric]
				if !ok {
					return nil, 0, fmt.Errorf("investigate: metrics: unknown metric %q and no promql", in.Metric)
				}
				q = expandQuery(tmpl, tb.label, in.Cluster, tb.rate)
			}
			s, merr := t.Metrics.Range(ctx, q, from, to, tb.step)
			out, n, err = map[string]any{"query": q, "series": s}, len(s), merr
		}
	case ToolOperations:
		if err = need(t.Operations != nil); err == nil {
			from, to, terr := in.times()
			if terr != nil {
				return nil, 0, terr
			}
			ops, oerr := t.Operations.Operations(ctx, in.Cluster, from, to)
			out, n, err = ops, len(ops), oerr
		}
	case ToolKnowledge:
		if err = need(t.Knowledge != nil); err == nil {
			limit := in.Limit
			if limit <= 0 || limit > 20 {
				limit = 5
			}
			hits, kerr := t.Knowledge.Search(ctx, in.Query, limit)
			type hit struct {
				Hit
				Recommendations []string `json:"recommendations,omitempty"`
			}
			var hs []hit
			for _, h := range hits {
				x := hit{Hit: h}
				if h.Document != nil {
					x.Recommendations = h.Document.Recommendations()
				}
				hs = append(hs, x)
			}
			out, n, err = hs, len(hits), kerr
		}
	case ToolPast:
		if err = need(t.Past != nil); err == nil {
			fs, perr := t.Past.Findings(ctx, FindingFilter{Cluster: in.Cluster, Fingerprint: in.Fingerprint, Limit: 10})
			for i := range fs {
				fs[i].ToolCalls = nil // the log is long and says nothing about the cause
			}
			out, n, err = fs, len(fs), perr
		}
	case ToolSQL:
		if err = need(t.SQL != nil); err == nil {
			rows, qerr := t.SQL.Query(ctx, in.Query)
			out, n, err = rows, len(rows.Rows), qerr
		}
	case ToolShadow:
		if err = need(t.Shadow != nil); err == nil {
			sbs, serr := t.Shadow.Compare(ctx, in.Query)
			out, n, err = sbs, 1, serr
		}
	default:
		return nil, 0, fmt.Errorf("%w: unknown tool %q", ErrNoTool, name)
	}
	if err != nil {
		return nil, 0, err
	}
	b, err := maskJSON(out)
	return b, n, err
}

// maskJSON encodes v with MaskText applied to every string in it.
func maskJSON(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("investigate: encode result: %w", err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, fmt.Errorf("investigate: encode result: %w", err)
	}
	return json.Marshal(maskValue(generic))
}

func maskValue(v any) any {
	switch x := v.(type) {
	case string:
		return MaskText(x)
	case []any:
		for i := range x {
			x[i] = maskValue(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = maskValue(x[k])
		}
	}
	return v
}
