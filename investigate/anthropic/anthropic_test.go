package anthropic_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/investigate"
	"github.com/sqlshadow/sqlshadow/investigate/anthropic"
	"github.com/sqlshadow/sqlshadow/investigate/anthropic/anthropictest"
	"github.com/sqlshadow/sqlshadow/investigate/knowledge"
	"github.com/sqlshadow/sqlshadow/sink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rig is an investigator over in-memory tools and the test knowledge base,
// with the model reasoner pointed at srv.
func rig(t *testing.T, srv *anthropictest.Server, opts *anthropic.Options) *investigate.Investigator {
	t.Helper()
	ix, err := knowledge.Open(context.Background(), os.DirFS("../testdata/knowledge"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })
	o := anthropic.Options{APIKey: "test-key", BaseURL: srv.URL, Model: "claude-test"}
	if opts != nil {
		o = *opts
		o.APIKey, o.BaseURL, o.Model = "test-key", srv.URL, "claude-test"
	}
	r, err := anthropic.New(&o)
	require.NoError(t, err)
	tools := investigate.Tools{
		Clusters:   investigate.NewInventory([]investigate.Cluster{{Name: "c1", Tier: "A", Account: "acme", Version: "3.3.5"}}),
		Operations: investigate.NewMemoryOperations([]investigate.Operation{{TS: time.Now().Add(-time.Hour), Cluster: "c1", Kind: investigate.OpUpdate, Detail: "upgrade 3.2.11 -> 3.3.5, set admin password='hunter2'"}}),
		Knowledge:  ix,
	}
	return investigate.New(tools, &investigate.Options{Model: r})
}

func task() investigate.Task {
	return investigate.Task{Sentinel: &dataset.SentinelTask{TS: sink.Time(time.Now().UTC()), Cluster: "c1",
		Trigger: dataset.TriggerScoreCliff, Priority: 2, Reason: "score fell by 30; paged ann@example.com, card 4111111111111111"}}
}

// valid is a finding citing the evidence id the operations call returned.
func valid(req anthropictest.Request) anthropictest.Reply {
	var res struct {
		EvidenceID string `json:"evidence_id"`
	}
	_ = json.Unmarshal([]byte(req.LastResults()["t1"].ResultText()), &res)
	in, _ := json.Marshal(map[string]any{"severity": "warning", "confidence": 0.7, "category": investigate.CategoryHeapAfterUpdate,
		"title": "FE heap after the upgrade", "root_cause": "the upgrade to 3.3.5 raised FE heap use", "confirmed": false,
		"explanation": "the heap rose after the UPDATE operation",
		"hypotheses": []map[string]any{{"category": investigate.CategoryHeapAfterUpdate, "statement": "the upgrade", "status": "pending",
			"evidence_for": []string{res.EvidenceID}}},
		"recommendations": []string{"raise the FE heap", "check the 3.3.5 known bugs"}})
	return anthropictest.ToolUse(anthropictest.Call{ID: "t3", Name: anthropic.SubmitTool, Input: string(in)})
}

// The model calls the tools, each call is run and logged, the results go
// back as tool_result blocks, and its finding is kept; nothing sensitive
// leaves the process.
func TestToolUseFinding(t *testing.T) {
	srv := anthropictest.NewServer(t,
		anthropictest.ToolUse(
			anthropictest.Call{ID: "t1", Name: investigate.ToolOperations, Input: `{"cluster":"c1"}`},
			anthropictest.Call{ID: "t2", Name: investigate.ToolKnowledge, Input: `{"query":"FE heap after upgrade","limit":2}`}),
		anthropictest.Reply{Respond: valid})
	f, err := rig(t, srv, nil).Investigate(context.Background(), task())
	require.NoError(t, err)
	require.NoError(t, f.Validate())
	require.Equal(t, anthropic.Name, f.Reasoner)
	require.Equal(t, investigate.CategoryHeapAfterUpdate, f.Category)
	require.Equal(t, "Possible root cause: the upgrade to 3.3.5 raised FE heap use", f.RootCause)
	require.Len(t, f.Evidence, 1)
	require.Equal(t, investigate.ToolOperations, f.Evidence[0].Tool)
	require.Contains(t, f.Evidence[0].Excerpt, "upgrade 3.2.11")
	require.NotContains(t, f.Evidence[0].Excerpt, "hunter2")
	var byModel []string
	for _, c := range f.ToolCalls {
		if c.By == anthropic.Name {
			byModel = append(byModel, c.Tool)
			require.Empty(t, c.Error)
		}
	}
	require.Equal(t, []string{investigate.ToolOperations, investigate.ToolKnowledge}, byModel)

	reqs := srv.Requests()
	require.Equal(t, 2, len(reqs))
	first := reqs[0]
	require.Equal(t, "claude-test", first.Model)
	require.Equal(t, "test-key", first.APIKey())
	require.JSONEq(t, `{"type":"any"}`, string(first.ToolChoice))
	var names []string
	for _, tl := range first.Tools {
		names = append(names, tl.Name)
	}
	require.Equal(t, []string{investigate.ToolClusterInfo, investigate.ToolSiblings, investigate.ToolOperations,
		investigate.ToolKnowledge, anthropic.SubmitTool}, names)
	require.Contains(t, string(first.Tools[2].InputSchema), `"required":["cluster"]`)
	text := first.Messages[0].Content[0].Text
	require.Contains(t, text, "Task: sentinel trigger score_cliff for cluster c1")
	require.Contains(t, text, "[operations]")
	sent, err := json.Marshal(reqs)
	require.NoError(t, err)
	for _, secret := range []string{"hunter2", "ann@example.com", "4111111111111111"} {
		require.NotContains(t, string(sent), secret)
	}
	// The second request answers both tool calls.
	res := reqs[1].LastResults()
	require.Len(t, res, 2)
	require.Contains(t, res["t1"].ResultText(), `upgrade 3.2.11 -\u003e 3.3.5`)
	require.False(t, res["t1"].IsError)
	require.Contains(t, res["t2"].ResultText(), "evidence_id")
	require.Equal(t, "assistant", reqs[1].Messages[1].Role)
	require.Equal(t, "tool_use", reqs[1].Messages[1].Content[0].Type)
}

// An answer that fails the schema is sent back with the reason; one the
// model does not correct is rejected with a clear error and the
// deterministic finding is kept.
func TestMalformedAnswer(t *testing.T) {
	bad := anthropictest.ToolUse(anthropictest.Call{ID: "s1", Name: anthropic.SubmitTool,
		Input: `{"severity":"urgent","confidence":0.9,"category":"x","title":"t","root_cause":"r","confirmed":false,"explanation":"","hypotheses":[],"recommendations":["a"]}`})
	srv := anthropictest.NewServer(t, bad, bad)
	f, err := rig(t, srv, &anthropic.Options{MaxTurns: 2}).Investigate(context.Background(), task())
	require.ErrorIs(t, err, investigate.ErrBadModelAnswer)
	require.Contains(t, err.Error(), `after 2 turns: dataset: finding field severity: "urgent" is not info, warning or critical`)
	require.NotNil(t, f)
	require.Equal(t, "rules", f.Reasoner)
	require.NoError(t, f.Validate())
	reqs := srv.Requests()
	require.Equal(t, 2, len(reqs))
	back := reqs[1].LastResults()["s1"]
	require.True(t, back.IsError)
	require.Contains(t, back.ResultText(), "rejected: dataset: finding field severity")

	// Corrected on the next turn: accepted.
	srv = anthropictest.NewServer(t, bad, anthropictest.ToolUse(anthropictest.Call{ID: "s2", Name: anthropic.SubmitTool,
		Input: `{"severity":"critical","confidence":0.9,"category":"x","title":"t","root_cause":"r","confirmed":true,"explanation":"e","hypotheses":[],"recommendations":["a"]}`}))
	f, err = rig(t, srv, nil).Investigate(context.Background(), task())
	require.NoError(t, err)
	require.Equal(t, anthropic.Name, f.Reasoner)
	require.Equal(t, "r", f.RootCause)

	for name, rep := range map[string]anthropictest.Reply{
		"text instead of the tool": anthropictest.Text(`{"severity":"info"}`, "end_turn"),
		"unknown field": anthropictest.ToolUse(anthropictest.Call{ID: "s3", Name: anthropic.SubmitTool,
			Input: `{"severity":"info","confidence":0.5,"category":"x","title":"t","root_cause":"r","recommendations":["a"],"mood":"calm"}`}),
		"an evidence id never given": anthropictest.ToolUse(anthropictest.Call{ID: "s4", Name: anthropic.SubmitTool,
			Input: `{"severity":"info","confidence":0.5,"category":"x","title":"t","root_cause":"r","recommendations":["a"],"hypotheses":[{"category":"x","statement":"s","status":"pending","evidence_for":["e99"]}]}`}),
	} {
		srv := anthropictest.NewServer(t, rep)
		f, err := rig(t, srv, &anthropic.Options{MaxTurns: 1}).Investigate(context.Background(), task())
		require.ErrorIs(t, err, investigate.ErrBadModelAnswer, name)
		require.Equal(t, "rules", f.Reasoner, name)
	}
}

// The API's documented failures: 429 and 529 are retried after the
// retry-after asked for, then reported; 401 and a cut answer are reported
// at once. The deterministic finding is kept each time.
func TestFailureModes(t *testing.T) {
	now := map[string]string{"retry-after": "0"}
	limited := anthropictest.Error(429, "rate_limit_error", "slow down", now)
	overloaded := anthropictest.Error(529, "overloaded_error", "Overloaded", now)
	for _, tc := range []struct {
		name     string
		retries  int
		script   []anthropictest.Reply
		want     error
		status   int
		requests int
	}{
		{"429 then success", 2, []anthropictest.Reply{limited, {Respond: func(anthropictest.Request) anthropictest.Reply {
			return anthropictest.ToolUse(anthropictest.Call{ID: "s", Name: anthropic.SubmitTool,
				Input: `{"severity":"info","confidence":0.5,"category":"x","title":"t","root_cause":"r","confirmed":false,"explanation":"e","hypotheses":[],"recommendations":["a"]}`})
		}}}, nil, 0, 2},
		{"429 without retries", -1, []anthropictest.Reply{limited}, anthropic.ErrRateLimited, 429, 1},
		{"529 overloaded", 2, []anthropictest.Reply{overloaded, overloaded, overloaded}, anthropic.ErrOverloaded, 529, 3},
		{"401", 2, []anthropictest.Reply{anthropictest.Error(401, "authentication_error", "invalid x-api-key", nil)}, anthropic.ErrAuth, 401, 1},
		{"max_tokens", 2, []anthropictest.Reply{anthropictest.Text(`{"severity":"in`, "max_tokens")}, anthropic.ErrMaxTokens, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := anthropictest.NewServer(t, tc.script...)
			f, err := rig(t, srv, &anthropic.Options{MaxRetries: tc.retries}).Investigate(context.Background(), task())
			require.Equal(t, tc.requests, len(srv.Requests()))
			if tc.want == nil {
				require.NoError(t, err)
				require.Equal(t, anthropic.Name, f.Reasoner)
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.False(t, errors.Is(err, investigate.ErrBadModelAnswer))
			var ae *sdk.Error
			if tc.status != 0 {
				require.ErrorAs(t, err, &ae)
				require.Equal(t, tc.status, ae.StatusCode)
			}
			require.Equal(t, "rules", f.Reasoner)
			require.True(t, strings.HasPrefix(f.Notes[len(f.Notes)-1], "model reasoner rejected: "), f.Notes)
		})
	}
}

func TestNewNeedsKey(t *testing.T) {
	_, err := anthropic.New(&anthropic.Options{})
	require.ErrorContains(t, err, "API key")
}
