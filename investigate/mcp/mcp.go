// Package mcp serves the investigation tools of package investigate over
// the Model Context Protocol, with the official Go SDK
// (github.com/modelcontextprotocol/go-sdk), so any MCP-capable agent can
// investigate with the project's data: cluster info, alerts, metrics,
// operations, past investigations, sibling clusters, ad-hoc read-only SQL,
// the shadow side and the knowledge search (package investigate/knowledge),
// whichever the Toolbox has. Every tool runs through Toolbox.Call, so its
// result is masked (investigate.MaskText) before it leaves the process.
//
// Use, over streamable HTTP:
//
//	srv := mcp.NewServer(inv.Toolbox(), nil)
//	ln, _ := net.Listen("tcp", "127.0.0.1:8765")
//	err := mcp.Serve(ctx, ln, srv) // until ctx is done
//
// or over stdio, with the SDK: srv.Run(ctx, &sdk.StdioTransport{}).
//
// # Lifecycle
//
// NewServer holds no goroutine. Serve runs an HTTP server on the listener
// until ctx is done, then shuts it down: it closes the MCP sessions (their
// event streams; a call still running is cancelled), waits up to
// Options.Shutdown for the HTTP requests in flight,
// closes what is left and returns once its HTTP server has stopped.
//
// # Errors
//
// A tool that fails answers with a result marked isError whose text is the
// error (masked), as MCP asks, not with a protocol error; so does a tool
// given arguments it cannot read. Serve returns the HTTP server's error,
// or nil after a shutdown.
package mcp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sqlshadow/sqlshadow/investigate"
)

// Options configures a server.
type Options struct {
	// Name and Version identify the server to clients. Defaults
	// "sqlshadow-investigate" and "v1".
	Name, Version string
	// Shutdown bounds how long Serve waits for calls in flight once its
	// context is done. Default 5 s.
	Shutdown time.Duration
	// Logger receives one line per tool call; nil discards.
	Logger *slog.Logger
}

func (o *Options) defaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Name == "" {
		out.Name = "sqlshadow-investigate"
	}
	if out.Version == "" {
		out.Version = "v1"
	}
	if out.Shutdown <= 0 {
		out.Shutdown = 5 * time.Second
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

// NewServer returns an MCP server exposing the tools of tb (Toolbox.Specs),
// each with its description and input schema.
func NewServer(tb *investigate.Toolbox, opts *Options) *sdk.Server {
	o := opts.defaults()
	srv := sdk.NewServer(&sdk.Implementation{Name: o.Name, Version: o.Version}, &sdk.ServerOptions{Logger: o.Logger})
	for _, spec := range tb.Specs() {
		name := spec.Name
		srv.AddTool(&sdk.Tool{Name: name, Description: spec.Description, InputSchema: spec.InputSchema},
			func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
				start := time.Now()
				out, items, err := tb.Call(ctx, name, req.Params.Arguments)
				o.Logger.Info("mcp tool call", "tool", name, "items", items, "duration", time.Since(start), "err", err)
				if err != nil {
					return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: investigate.MaskText(err.Error())}}}, nil
				}
				return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(out)}}}, nil
			})
	}
	return srv
}

// Handler returns the streamable HTTP handler of srv.
func Handler(srv *sdk.Server) http.Handler {
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, nil)
}

// Serve serves srv over streamable HTTP on ln until ctx is done, then
// shuts down (see the package comment) and returns. It closes ln.
func Serve(ctx context.Context, ln net.Listener, srv *sdk.Server, opts *Options) error {
	o := opts.defaults()
	hs := &http.Server{Handler: Handler(srv), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.Shutdown)
	defer cancel()
	// Closing the sessions ends their event streams, so Shutdown does not
	// wait for them; a call still in flight is cancelled.
	for ss := range srv.Sessions() {
		_ = ss.Close()
	}
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
