package mcp_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/investigate"
	"github.com/sqlshadow/sqlshadow/investigate/knowledge"
	"github.com/sqlshadow/sqlshadow/investigate/mcp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func toolbox(t *testing.T) *investigate.Toolbox {
	t.Helper()
	ix, err := knowledge.Open(context.Background(), os.DirFS("../testdata/knowledge"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })
	return investigate.New(investigate.Tools{
		Clusters:   investigate.NewInventory([]investigate.Cluster{{Name: "c1", Tier: "A", Account: "acme", Version: "3.3.5"}}),
		Operations: investigate.NewMemoryOperations([]investigate.Operation{{TS: time.Now().Add(-time.Hour), Cluster: "c1", Kind: investigate.OpUpdate, Detail: "login for password=hunter2 reset"}}),
		Knowledge:  ix,
	}, nil).Toolbox()
}

func text(t *testing.T, res *sdk.CallToolResult) string {
	t.Helper()
	require.Len(t, res.Content, 1)
	tc, ok := res.Content[0].(*sdk.TextContent)
	require.True(t, ok)
	return tc.Text
}

// exercise lists the tools, calls one, calls the knowledge search and an
// unknown cluster through an MCP client session.
func exercise(t *testing.T, ctx context.Context, cs *sdk.ClientSession) {
	tools, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	require.ElementsMatch(t, []string{investigate.ToolClusterInfo, investigate.ToolSiblings, investigate.ToolOperations, investigate.ToolKnowledge}, names)
	for _, tl := range tools.Tools {
		if tl.Name == investigate.ToolOperations {
			schema, err := json.Marshal(tl.InputSchema)
			require.NoError(t, err)
			require.Contains(t, string(schema), `"required":["cluster"]`)
		}
	}

	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: investigate.ToolOperations, Arguments: map[string]any{"cluster": "c1"}})
	require.NoError(t, err)
	require.False(t, res.IsError)
	var ops []investigate.Operation
	require.NoError(t, json.Unmarshal([]byte(text(t, res)), &ops))
	require.Len(t, ops, 1)
	require.Equal(t, "login for password=*** reset", ops[0].Detail) // masked

	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: investigate.ToolKnowledge, Arguments: map[string]any{"query": "disk nearly full compaction score rising", "limit": 3}})
	require.NoError(t, err)
	require.False(t, res.IsError)
	var hits []struct {
		Path            string   `json:"path"`
		Recommendations []string `json:"recommendations"`
	}
	require.NoError(t, json.Unmarshal([]byte(text(t, res)), &hits))
	require.NotEmpty(t, hits)
	require.Equal(t, "runbooks/disk-compaction.md", hits[0].Path)
	require.NotEmpty(t, hits[0].Recommendations)

	// A failing tool answers with an error result, not a protocol error.
	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: investigate.ToolClusterInfo, Arguments: map[string]any{"cluster": "nope"}})
	require.NoError(t, err)
	require.True(t, res.IsError)
	require.Contains(t, text(t, res), "not found")
}

func TestInMemory(t *testing.T) {
	ctx := t.Context()
	srv := mcp.NewServer(toolbox(t), nil)
	st, ct := sdk.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	require.NoError(t, err)
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "v0"}, nil).Connect(ctx, ct, nil)
	require.NoError(t, err)
	exercise(t, ctx, cs)
	require.NoError(t, cs.Close())
	_ = ss.Wait()
}

// Over streamable HTTP on loopback, then Serve returns once its context is
// done, with the client still connected.
func TestServeHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- mcp.Serve(ctx, ln, mcp.NewServer(toolbox(t), nil), nil) }()

	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "v0"}, nil).
		Connect(ctx, &sdk.StreamableClientTransport{Endpoint: "http://" + ln.Addr().String()}, nil)
	require.NoError(t, err)
	exercise(t, ctx, cs)
	start := time.Now()
	cancel()
	require.NoError(t, <-served)
	require.Less(t, time.Since(start), 4*time.Second, "shutdown waited for the open session")
	_ = cs.Close()
}
