// Package anthropictest is a scripted Anthropic Messages API server for
// tests: it answers POST /v1/messages with the replies it was given, in
// order, checks the shape of every request (model, max_tokens, tools,
// messages, and that each tool_result answers a tool_use of the message
// before it), and records the requests.
//
//	srv := anthropictest.NewServer(t,
//		anthropictest.ToolUse(anthropictest.Call{ID: "t1", Name: "metrics", Input: `{"cluster":"c1"}`}),
//		anthropictest.ToolUse(anthropictest.Call{ID: "t2", Name: "submit_finding", Input: finding}))
//	// point the client at srv.URL, then inspect srv.Requests()
//
// A request with a bad shape, or one past the end of the script, gets a 400
// invalid_request_error whose message says what is wrong. The server is
// closed when the test ends.
package anthropictest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Reply is one scripted answer.
type Reply struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Header is added to the response (retry-after, ...).
	Header map[string]string
	// Body is the JSON body.
	Body string
	// Respond, if set, computes the reply from the request instead (to
	// cite an evidence id a tool result gave, say).
	Respond func(Request) Reply
}

// Call is one tool_use block of a scripted answer.
type Call struct {
	ID, Name string
	// Input is the tool's JSON arguments.
	Input string
}

// ToolUse returns a 200 answer that calls the tools, with stop_reason
// tool_use.
func ToolUse(calls ...Call) Reply {
	var blocks []map[string]any
	for _, c := range calls {
		blocks = append(blocks, map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": json.RawMessage(c.Input)})
	}
	return message(blocks, "tool_use")
}

// Text returns a 200 answer of one text block with stopReason ("end_turn",
// "max_tokens", ...).
func Text(text, stopReason string) Reply {
	return message([]map[string]any{{"type": "text", "text": text}}, stopReason)
}

// Error returns an error answer as the API writes it: status, the error
// type ("rate_limit_error", "overloaded_error", "authentication_error")
// and header.
func Error(status int, typ, msg string, header map[string]string) Reply {
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
	return Reply{Status: status, Header: header, Body: string(b)}
}

func message(content []map[string]any, stopReason string) Reply {
	b, _ := json.Marshal(map[string]any{"id": "msg_scripted", "type": "message", "role": "assistant", "model": "scripted",
		"content": content, "stop_reason": stopReason, "stop_sequence": nil,
		"usage": map[string]int{"input_tokens": 10, "output_tokens": 10}})
	return Reply{Body: string(b)}
}

// Request is one request the server received, decoded.
type Request struct {
	Header     http.Header     `json:"-"`
	Model      string          `json:"model"`
	MaxTokens  int             `json:"max_tokens"`
	System     json.RawMessage `json:"system"`
	Tools      []Tool          `json:"tools"`
	ToolChoice json.RawMessage `json:"tool_choice"`
	Messages   []Message       `json:"messages"`
}

// Tool is a tool offered in a request.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// Message is one message of a request.
type Message struct {
	Role    string  `json:"role"`
	Content []Block `json:"content"`
}

// Block is one content block: text, tool_use or tool_result.
type Block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
}

// ResultText returns the text of a tool_result block (its content is a
// string or a list of text blocks).
func (b Block) ResultText() string {
	var s string
	if json.Unmarshal(b.Content, &s) == nil {
		return s
	}
	var parts []Block
	_ = json.Unmarshal(b.Content, &parts)
	for _, p := range parts {
		s += p.Text
	}
	return s
}

// APIKey returns the key the request carried, in x-api-key or as an
// Authorization bearer token.
func (r Request) APIKey() string {
	if k := r.Header.Get("X-Api-Key"); k != "" {
		return k
	}
	k, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return k
}

// LastResults returns the tool_result blocks of the request's last
// message, by tool_use id.
func (r Request) LastResults() map[string]Block {
	out := map[string]Block{}
	for _, b := range r.Messages[len(r.Messages)-1].Content {
		if b.Type == "tool_result" {
			out[b.ToolUseID] = b
		}
	}
	return out
}

// Server is the scripted server.
type Server struct {
	// URL is the base URL to give the client.
	URL string

	mu       sync.Mutex
	script   []Reply
	requests []Request
}

// NewServer starts a server answering with replies, in order; it is
// closed when t ends.
func NewServer(t testing.TB, replies ...Reply) *Server {
	s := &Server{script: replies}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		bad(w, "body: "+err.Error())
		return
	}
	req.Header = r.Header.Clone()
	s.mu.Lock()
	s.requests = append(s.requests, req)
	var rep *Reply
	if len(s.script) > 0 {
		rep = &s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()
	if err := check(r, &req); err != nil {
		bad(w, err.Error())
		return
	}
	if rep == nil {
		bad(w, "the script has no more replies")
		return
	}
	if rep.Respond != nil {
		r := rep.Respond(req)
		rep = &r
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	if rep.Status != 0 {
		w.WriteHeader(rep.Status)
	}
	_, _ = io.WriteString(w, rep.Body)
}

func bad(w http.ResponseWriter, msg string) {
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": "invalid_request_error", "message": "anthropictest: " + msg}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Should-Retry", "false")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}

// check verifies what the Messages API requires of a request.
func check(r *http.Request, req *Request) error {
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/v1/messages":
		return fmt.Errorf("%s %s: want POST /v1/messages", r.Method, r.URL.Path)
	case (Request{Header: r.Header}).APIKey() == "":
		return fmt.Errorf("no API key (x-api-key or Authorization: Bearer)")
	case r.Header.Get("Anthropic-Version") == "":
		return fmt.Errorf("no anthropic-version header")
	case req.Model == "":
		return fmt.Errorf("no model")
	case req.MaxTokens <= 0:
		return fmt.Errorf("max_tokens %d", req.MaxTokens)
	case len(req.Messages) == 0 || req.Messages[0].Role != "user":
		return fmt.Errorf("messages must start with a user message")
	}
	for i, t := range req.Tools {
		var schema struct {
			Type string `json:"type"`
		}
		if t.Name == "" || json.Unmarshal(t.InputSchema, &schema) != nil || schema.Type != "object" {
			return fmt.Errorf("tools[%d]: a name and an object input_schema are required", i)
		}
	}
	for i, m := range req.Messages {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		if m.Role != want {
			return fmt.Errorf("messages[%d]: role %q, want %q (roles alternate)", i, m.Role, want)
		}
		if len(m.Content) == 0 {
			return fmt.Errorf("messages[%d]: no content", i)
		}
		if m.Role != "user" || i == 0 {
			continue
		}
		asked := map[string]bool{}
		for _, b := range req.Messages[i-1].Content {
			if b.Type == "tool_use" {
				asked[b.ID] = true
			}
		}
		for j, b := range m.Content {
			if b.Type != "tool_result" {
				continue
			}
			if !asked[b.ToolUseID] {
				return fmt.Errorf("messages[%d].content[%d]: tool_result for %q, which the message before did not ask for", i, j, b.ToolUseID)
			}
			delete(asked, b.ToolUseID)
		}
		if len(asked) > 0 {
			return fmt.Errorf("messages[%d]: %s tool_use ids without a tool_result", i, strconv.Itoa(len(asked)))
		}
	}
	return nil
}
